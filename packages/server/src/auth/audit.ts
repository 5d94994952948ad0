// The audit log (docs/auth.md): every request that changes something, or that was refused, is one
// row, written once its answer is sent: who, how they authenticated, what (method, route, the
// route's id), which workflow, when, from where, and the status answered. A runner's and its
// workers' reports on their own run (the run:* routes) are left to the event log: they are the
// machinery, many per second, not someone's decision.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouteSpec, wire } from '@jobmon/core';
import type { Static } from '@sinclair/typebox';
import { onDb, type Db } from '../db/connect.js';
import { targetWorkflowOf, principalOrNull } from '../authz.js';

export function auditable(spec: RouteSpec, status: number): boolean {
  if (status === 401 || status === 403) return true;
  return spec.method !== 'GET' && !spec.access.startsWith('run:');
}

export async function recordAudit(db: Db, spec: RouteSpec, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const status = reply.statusCode;
  if (!auditable(spec, status)) return;
  const p = principalOrNull(req);
  const params = (req.params ?? {}) as Record<string, unknown>;
  const target = params['id'] ?? params['name'] ?? params['tokenId'];
  const wf = targetWorkflowOf(req) ?? (spec.path.startsWith('/workflows/:id') ? Number(params['id']) : null);
  await onDb(db)
    .db.insertInto('audit_log')
    .values({
      at: Date.now(),
      user: p?.user ?? null,
      via: p?.via ?? 'anonymous',
      token_id: p?.tokenId ?? null,
      method: spec.method,
      route: spec.path,
      target: target === undefined ? null : String(target).slice(0, 255),
      workflow_id: wf !== null && Number.isSafeInteger(wf) && wf > 0 ? wf : null,
      status,
      address: req.ip,
    })
    .execute();
}

type AuditQueryT = Static<typeof wire.AuditQuery>;
type AuditResponseT = Static<typeof wire.AuditResponse>;

/** Newest first, a page at a time (before the previous page's last id). */
export async function readAudit(db: Db, q: AuditQueryT): Promise<AuditResponseT> {
  let s = onDb(db).db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(q.limit);
  if (q.workflowId !== undefined) s = s.where('workflow_id', '=', q.workflowId);
  if (q.user !== undefined) s = s.where('user', '=', q.user);
  if (q.since !== undefined) s = s.where('at', '>=', q.since);
  if (q.before !== undefined) s = s.where('id', '<', q.before);
  const rows = await s.execute();
  const last = rows[rows.length - 1];
  return {
    entries: rows.map((r) => ({
      id: Number(r.id),
      at: Number(r.at),
      user: r.user,
      via: r.via,
      tokenId: r.token_id,
      method: r.method,
      route: r.route,
      target: r.target,
      workflowId: r.workflow_id,
      status: r.status,
      address: r.address,
    })),
    ...(last && rows.length === q.limit ? { nextBefore: Number(last.id) } : {}),
  };
}
