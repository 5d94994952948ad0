// Tools and their versions: create-or-get by name; a tool's newest version is its highest id.

import type { Q } from '../conn.js';

/** The id of tool `name`, created when missing. */
export async function ensureTool(q: Q, name: string, now: number): Promise<number> {
  await q.db
    .insertInto('tool')
    .values({ name, created_at: now })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const tool = await q.db.selectFrom('tool').select('id').where('name', '=', name).executeTakeFirstOrThrow();
  return tool.id;
}

export async function latestToolVersion(q: Q, toolId: number): Promise<number | undefined> {
  const row = await q.db
    .selectFrom('tool_version')
    .select('id')
    .where('tool_id', '=', toolId)
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return row?.id;
}

export async function insertToolVersion(q: Q, toolId: number, now: number): Promise<number> {
  const row = await q.db
    .insertInto('tool_version')
    .values({ tool_id: toolId, created_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function toolVersionExists(q: Q, id: number): Promise<boolean> {
  return (await q.db.selectFrom('tool_version').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}
