// GET /workflows: checks and translates the filters (a glob to an escaped LIKE pattern, ISO dates
// to epoch milliseconds, `key=value` pairs, the opaque cursor), then reads one page. Any bad filter
// is a 400 naming its query field; nothing is read. The cursor is the last row's (created_at, id),
// so rows created after the first page sort before it and never shift later pages.

import {
  ValidationError,
  WORKFLOW_STATES,
  type WorkflowStatus,
  type WorkflowListQueryT,
  type WorkflowListResponseT,
} from '@jobmon/core';
import type { Db } from '../db/connect.js';
import {
  selectLatestRunUsers,
  selectTaskCounts,
  selectWorkflowPage,
  type WorkflowListFilter,
} from '../db/queries/workflow-list.js';

function bad(field: string, problem: string, value?: unknown): ValidationError {
  return new ValidationError(`GET /workflows: querystring/${field} ${problem}`, {
    field: `querystring/${field}`,
    route: '/workflows',
    ...(value === undefined ? {} : { value }),
  });
}

/** `*` → any run of characters, `?` → one; `%`, `_` and `\` match themselves. */
export function globToLike(glob: string): string {
  return glob
    .replace(/[\\%_]/g, (c) => `\\${c}`)
    .replace(/\*/g, '%')
    .replace(/\?/g, '_');
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** An ISO 8601 date or date-time as epoch ms; a time without a zone is UTC. */
export function parseIsoDate(text: string, field: string): number {
  const m = ISO.exec(text);
  const [, y, mo, d] = m ?? [];
  if (m && y && mo && d) {
    const hasZone = m[8] !== undefined;
    const iso = m[4] === undefined ? `${y}-${mo}-${d}T00:00:00Z` : `${text.replace(' ', 'T')}${hasZone ? '' : 'Z'}`;
    const ms = Date.parse(iso);
    // Date.parse rolls 2024-02-30 over to March: the day must survive the round trip.
    const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
    if (Number.isFinite(ms) && day.getUTCMonth() === Number(mo) - 1 && day.getUTCDate() === Number(d)) return ms;
  }
  throw bad(field, 'must be an ISO 8601 date or time (2024-05-01, 2024-05-01T12:00:00Z)', text);
}

function keyValues(raw: string | string[] | undefined, field: string): [string, string][] | undefined {
  if (raw === undefined) return undefined;
  return [raw].flat().map((kv) => {
    const at = kv.indexOf('=');
    if (at <= 0) throw bad(field, 'must be key=value with a non-empty key', kv);
    return [kv.slice(0, at), kv.slice(at + 1)];
  });
}

export function encodeCursor(createdAt: number, id: number): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: number; id: number } {
  let parsed: unknown;
  try {
    parsed = /^[A-Za-z0-9_-]+$/.test(cursor)
      ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
      : undefined;
  } catch {
    parsed = undefined;
  }
  if (
    Array.isArray(parsed) &&
    parsed.length === 2 &&
    parsed.every((n) => Number.isSafeInteger(n)) &&
    (parsed[1] as number) >= 1
  ) {
    return { createdAt: parsed[0] as number, id: parsed[1] as number };
  }
  throw bad('cursor', 'is not a cursor this server gave out (pass nextCursor from the previous page)', cursor);
}

function parseFilter(q: WorkflowListQueryT): WorkflowListFilter {
  const f: WorkflowListFilter = { limit: q.limit };
  if (q.name !== undefined) f.nameLike = globToLike(q.name);
  if (q.exactName !== undefined) f.exactName = q.exactName;
  if (q.user !== undefined) f.user = q.user;
  if (q.tool !== undefined) f.tool = q.tool;
  if (q.status !== undefined) {
    const statuses = q.status.split(',').map((s) => s.trim());
    const unknown = statuses.find((s) => !(WORKFLOW_STATES as readonly string[]).includes(s));
    if (unknown !== undefined)
      throw bad(
        'status',
        `has unknown status ${JSON.stringify(unknown)}; one of ${WORKFLOW_STATES.join(', ')}`,
        q.status,
      );
    f.statuses = statuses as WorkflowStatus[];
  }
  if (q.createdAfter !== undefined) f.createdFrom = parseIsoDate(q.createdAfter, 'createdAfter');
  if (q.createdBefore !== undefined) f.createdBefore = parseIsoDate(q.createdBefore, 'createdBefore');
  const args = keyValues(q.arg, 'arg');
  if (args) f.args = args;
  const attributes = keyValues(q.attribute, 'attribute');
  if (attributes) f.attributes = attributes;
  if (q.cursor !== undefined) f.after = decodeCursor(q.cursor);
  return f;
}

export async function listWorkflows(db: Db, q: WorkflowListQueryT): Promise<WorkflowListResponseT> {
  const filter = parseFilter(q);
  const rows = await selectWorkflowPage(db, filter);
  const ids = rows.map((r) => r.id);
  const [counts, users] = await Promise.all([selectTaskCounts(db, ids), selectLatestRunUsers(db, ids)]);
  const last = rows[rows.length - 1];
  return {
    workflows: rows.map((r) => ({
      id: r.id,
      name: r.name,
      tool: r.tool,
      user: users.get(r.id) ?? null,
      status: r.status as WorkflowStatus,
      taskCount: r.taskCount,
      counts: counts.get(r.id) ?? {},
      createdAt: r.createdAt,
      statusAt: r.statusAt,
    })),
    // A full page may have more after it; a short one is the end.
    ...(last && rows.length === filter.limit ? { nextCursor: encodeCursor(last.createdAt, last.id) } : {}),
  };
}
