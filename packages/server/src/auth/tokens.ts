// Tokens (docs/auth.md): `jm_<id>_<secret>`. The id is public (listed, revoked by it); the secret is
// 32 random bytes, shown once when minted and stored only as its SHA-256, compared in constant time.
// A personal token carries a user and a scope; a run token one run (its runner and workers); a
// share link one workflow, read only.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { NotFoundError, ValidationError } from '@jobmon/core';
import { onDb, type Db } from '../db/connect.js';
import type { AuthTokenTable } from '../db/schema.js';

export type Scope = AuthTokenTable['scope'];
export type TokenKind = AuthTokenTable['kind'];
export const SCOPES: readonly Scope[] = ['read', 'operate', 'admin'];

/** What a token stands for once verified. */
export interface TokenGrant {
  id: string;
  kind: TokenKind;
  user: string | null;
  scope: Scope;
  workflowId: number | null;
  runId: number | null;
}

export interface MintRequest {
  kind: TokenKind;
  user: string | null;
  scope: Scope;
  workflowId?: number;
  runId?: number;
  /** Milliseconds from now. */
  expiresInMs: number;
  createdBy: string;
  note?: string;
}

const TOKEN_PATTERN = /^jm_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function publicId(): string {
  const b = randomBytes(12);
  let s = '';
  for (const x of b) s += ALPHANUM[x % ALPHANUM.length];
  return s;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Mint a token: the row is written, and the token returned, once. */
export async function mintToken(
  db: Db,
  r: MintRequest,
  now = Date.now(),
): Promise<{ id: string; token: string; expiresAt: number }> {
  if (!SCOPES.includes(r.scope))
    throw new ValidationError(`unknown scope ${JSON.stringify(r.scope)}; one of ${SCOPES.join(', ')}`);
  if (!(r.expiresInMs > 0)) throw new ValidationError('a token must expire in the future');
  const id = publicId();
  const secret = randomBytes(32).toString('base64url');
  const expiresAt = now + r.expiresInMs;
  await db.kysely
    .insertInto('auth_token')
    .values({
      id,
      kind: r.kind,
      user: r.user,
      scope: r.scope,
      workflow_id: r.workflowId ?? null,
      workflow_run_id: r.runId ?? null,
      secret_hash: sha256(secret),
      created_at: now,
      created_by: r.createdBy,
      expires_at: expiresAt,
      revoked_at: null,
      note: r.note ?? '',
    })
    .execute();
  return { id, token: `jm_${id}_${secret}`, expiresAt };
}

/** Why a presented token is refused, for the 401's message (never the token itself). */
export type Refusal = 'malformed' | 'unknown' | 'expired' | 'revoked';

/** The grant of a presented token, or why it is refused. */
export async function verifyToken(db: Db, token: string, now = Date.now()): Promise<TokenGrant | Refusal> {
  const m = TOKEN_PATTERN.exec(token);
  if (!m) return 'malformed';
  const row = await onDb(db).db.selectFrom('auth_token').selectAll().where('id', '=', m[1]!).executeTakeFirst();
  // The hash is compared even when the id is unknown, so timing does not tell ids apart.
  const given = Buffer.from(sha256(m[2]!), 'hex');
  const stored = Buffer.from(row?.secret_hash ?? sha256(''), 'hex');
  const same = timingSafeEqual(given, stored);
  if (!row || !same) return 'unknown';
  if (row.revoked_at !== null) return 'revoked';
  if (Number(row.expires_at) <= now) return 'expired';
  return {
    id: row.id,
    kind: row.kind,
    user: row.user,
    scope: row.scope,
    workflowId: row.workflow_id,
    runId: row.workflow_run_id,
  };
}

export interface TokenInfo {
  id: string;
  kind: TokenKind;
  user: string | null;
  scope: Scope;
  workflowId: number | null;
  runId: number | null;
  createdAt: number;
  createdBy: string;
  expiresAt: number;
  revokedAt: number | null;
  note: string;
}

/** Tokens, newest first, without their secrets (there is nothing to show: only hashes are kept). */
export async function listTokens(db: Db, f: { user?: string; kind?: TokenKind } = {}): Promise<TokenInfo[]> {
  let s = db.kysely.selectFrom('auth_token').selectAll().orderBy('created_at', 'desc').limit(10_000);
  if (f.user !== undefined) s = s.where('user', '=', f.user);
  if (f.kind !== undefined) s = s.where('kind', '=', f.kind);
  return (await s.execute()).map((r) => ({
    id: r.id,
    kind: r.kind,
    user: r.user,
    scope: r.scope,
    workflowId: r.workflow_id,
    runId: r.workflow_run_id,
    createdAt: Number(r.created_at),
    createdBy: r.created_by,
    expiresAt: Number(r.expires_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
    note: r.note,
  }));
}

/** Revoke a token by its id (or a whole token: its id is read from it). Revoking twice is no error. */
export async function revokeToken(db: Db, idOrToken: string, now = Date.now()): Promise<void> {
  const id = TOKEN_PATTERN.exec(idOrToken)?.[1] ?? idOrToken;
  const r = await db.kysely
    .updateTable('auth_token')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) {
    const exists = await db.kysely.selectFrom('auth_token').select('id').where('id', '=', id).executeTakeFirst();
    if (!exists) throw new NotFoundError(`token ${id} does not exist`, { tokenId: id });
  }
}

/** Revoke every live token of a kind for a workflow or a run (share links on unshare, run tokens when a run ends). */
export async function revokeTokensOf(
  db: Db,
  of: { kind: TokenKind; workflowId?: number; runId?: number },
  now = Date.now(),
): Promise<number> {
  let u = db.kysely
    .updateTable('auth_token')
    .set({ revoked_at: now })
    .where('kind', '=', of.kind)
    .where('revoked_at', 'is', null);
  if (of.workflowId !== undefined) u = u.where('workflow_id', '=', of.workflowId);
  if (of.runId !== undefined) u = u.where('workflow_run_id', '=', of.runId);
  return Number((await u.executeTakeFirst()).numUpdatedRows);
}
