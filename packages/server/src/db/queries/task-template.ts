// Task templates (a name under a tool version) and their versions (one per command template and
// argument set, keyed by arg_hash): create-or-get, so binding the same declarations again is a no-op.

import type { Q } from '../conn.js';

/** The id of template `name` under `toolVersionId`, created when missing. */
export async function ensureTaskTemplate(q: Q, toolVersionId: number, name: string, now: number): Promise<number> {
  await q.db
    .insertInto('task_template')
    .values({ tool_version_id: toolVersionId, name, created_at: now })
    .onConflict((oc) => oc.columns(['tool_version_id', 'name']).doNothing())
    .execute();
  const tt = await q.db
    .selectFrom('task_template')
    .select('id')
    .where('tool_version_id', '=', toolVersionId)
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return tt.id;
}

export interface TemplateVersionValues {
  command_template: string;
  arg_hash: string;
  node_args: string;
  task_args: string;
  op_args: string;
  default_resources: string;
}

/** The id of the version with `v.arg_hash`, created when missing; an existing one takes the new default resources. */
export async function ensureTemplateVersion(
  q: Q,
  taskTemplateId: number,
  v: TemplateVersionValues,
  now: number,
): Promise<number> {
  await q.db
    .insertInto('task_template_version')
    .values({ task_template_id: taskTemplateId, ...v, created_at: now })
    .onConflict((oc) =>
      oc.columns(['task_template_id', 'arg_hash']).doUpdateSet({ default_resources: v.default_resources }),
    )
    .execute();
  const row = await q.db
    .selectFrom('task_template_version')
    .select('id')
    .where('task_template_id', '=', taskTemplateId)
    .where('arg_hash', '=', v.arg_hash)
    .executeTakeFirstOrThrow();
  return row.id;
}

export function templatesByName(q: Q, toolVersionId: number, names: readonly string[]) {
  return q.db
    .selectFrom('task_template')
    .select(['id', 'name'])
    .where('tool_version_id', '=', toolVersionId)
    .where('name', 'in', [...names])
    .execute();
}

/** Each of these template versions with its template's id (missing ones are absent). */
export function templatesOfVersions(q: Q, versionIds: readonly number[]) {
  return q.db
    .selectFrom('task_template_version')
    .select(['id', 'task_template_id'])
    .where('id', 'in', [...versionIds])
    .execute();
}
