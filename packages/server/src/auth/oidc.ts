// Browser sign-in with OpenID Connect (docs/auth.md), beside tokens: `GET /auth/login` sends the
// browser to the provider (authorization code with PKCE), `GET /auth/callback` takes the code back,
// checks state and PKCE, reads the user from the ID token's claims, and opens a session: a random
// id in an HttpOnly, SameSite=Lax cookie, kept server-side as its SHA-256 with its expiry, which is
// enforced on every request. `POST /auth/logout` ends it. Changes made with a session cookie must
// carry the X-Jobmon-CSRF header (a cross-site form cannot set it).

import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UnauthorizedError, ValidationError } from '@jobmon/core';
import { onDb, type Db } from '../db/connect.js';

export interface OidcSettings {
  /** The provider's issuer URL (its /.well-known/openid-configuration is read on first use). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** This server's callback as the provider knows it: `https://jobmon.example.org/auth/callback`. */
  redirectUri: string;
  /** The ID-token claim that names the user (default preferred_username, else sub). */
  userClaim?: string;
  /** How long a session lasts (default 8 h); it ends sooner on logout. */
  sessionTtlMs?: number;
}

export const SESSION_COOKIE = 'jobmon_session';
const LOGIN_COOKIE = 'jobmon_login';
export const CSRF_HEADER = 'x-jobmon-csrf';
const LOGIN_TTL_MS = 10 * 60_000;
const USER_NAME = /^[A-Za-z0-9._@-]{1,255}$/;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export function cookiesOf(req: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

function cookie(name: string, value: string, maxAgeS: number, secure: boolean, path = '/'): string {
  return `${name}=${encodeURIComponent(value)}; Path=${path}; Max-Age=${maxAgeS}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

/** The session a cookie holds, or why not: undefined without a cookie. Throws UnauthorizedError when it ended. */
export async function sessionUser(db: Db, req: FastifyRequest, now = Date.now()): Promise<string | undefined> {
  const id = cookiesOf(req)[SESSION_COOKIE];
  if (id === undefined) return undefined;
  const row = await onDb(db)
    .db.selectFrom('auth_session')
    .select(['user', 'expires_at', 'ended_at'])
    .where('id_hash', '=', sha256(id))
    .executeTakeFirst();
  if (!row || row.ended_at !== null) throw new UnauthorizedError('you are logged out: log in again at /auth/login');
  if (Number(row.expires_at) <= now)
    throw new UnauthorizedError('your session has expired: log in again at /auth/login');
  return row.user;
}

/** Register /auth/login, /auth/callback and /auth/logout on the app (outside /api/v1: they answer browsers). */
export function oidcRoutes(app: FastifyInstance, db: Db, s: OidcSettings): void {
  type Client = typeof import('openid-client');
  let config: Promise<{ client: Client; config: import('openid-client').Configuration }> | undefined;
  const configured = () =>
    (config ??= (async () => {
      const client = await import('openid-client');
      const issuer = new URL(s.issuer);
      const cfg = await client.discovery(issuer, s.clientId, s.clientSecret, undefined, {
        // A provider on plain http only on this host (tests, a local provider).
        ...(issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {}),
      });
      return { client, config: cfg };
    })().catch((e: unknown) => {
      config = undefined;
      throw e;
    }));
  const secure = new URL(s.redirectUri).protocol === 'https:';
  /** Logins under way: state → the PKCE verifier, where to go after, and when it lapses. */
  const pending = new Map<string, { verifier: string; next: string; until: number }>();

  app.get('/auth/login', async (req: FastifyRequest, reply: FastifyReply) => {
    const { client, config: cfg } = await configured();
    const now = Date.now();
    for (const [k, v] of pending) if (v.until < now) pending.delete(k);
    if (pending.size > 10_000) throw new ValidationError('too many logins under way; try again in a minute');
    const next = String((req.query as Record<string, unknown>)['next'] ?? '/');
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    // Only a path of this server: never an open redirect.
    pending.set(state, { verifier, next: /^\/(?!\/)/.test(next) ? next : '/', until: now + LOGIN_TTL_MS });
    const url = client.buildAuthorizationUrl(cfg, {
      redirect_uri: s.redirectUri,
      scope: 'openid profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    // The browser that started the login is the one that may finish it (no login CSRF).
    return reply
      .header('set-cookie', cookie(LOGIN_COOKIE, state, LOGIN_TTL_MS / 1000, secure, '/auth'))
      .redirect(url.href, 302);
  });

  app.get('/auth/callback', async (req: FastifyRequest, reply: FastifyReply) => {
    const { client, config: cfg } = await configured();
    const state = String((req.query as Record<string, unknown>)['state'] ?? '');
    const login = pending.get(state);
    if (!login || cookiesOf(req)[LOGIN_COOKIE] !== state || login.until < Date.now())
      throw new UnauthorizedError('this login is unknown or too old: start again at /auth/login');
    pending.delete(state);
    const here = new URL(req.url, s.redirectUri);
    let claims: Record<string, unknown> | undefined;
    try {
      const tokens = await client.authorizationCodeGrant(cfg, here, {
        pkceCodeVerifier: login.verifier,
        expectedState: state,
      });
      claims = tokens.claims() as Record<string, unknown> | undefined;
    } catch (e) {
      throw new UnauthorizedError(`the identity provider refused the login: ${(e as Error).message}`);
    }
    const user = claims?.[s.userClaim ?? 'preferred_username'] ?? claims?.['sub'];
    if (typeof user !== 'string' || !USER_NAME.test(user))
      throw new UnauthorizedError(
        `the identity provider gave no usable user name (claim ${s.userClaim ?? 'preferred_username'})`,
      );
    const id = randomBytes(32).toString('base64url');
    const now = Date.now();
    const ttl = s.sessionTtlMs ?? 8 * 3_600_000;
    await onDb(db)
      .db.insertInto('auth_session')
      .values({ id_hash: sha256(id), user, created_at: now, expires_at: now + ttl, ended_at: null })
      .execute();
    return reply
      .header('set-cookie', [
        cookie(SESSION_COOKIE, id, Math.floor(ttl / 1000), secure),
        cookie(LOGIN_COOKIE, '', 0, secure, '/auth'),
      ])
      .redirect(login.next, 302);
  });

  app.post('/auth/logout', async (req: FastifyRequest, reply: FastifyReply) => {
    const id = cookiesOf(req)[SESSION_COOKIE];
    if (id !== undefined)
      await onDb(db)
        .db.updateTable('auth_session')
        .set({ ended_at: Date.now() })
        .where('id_hash', '=', sha256(id))
        .execute();
    return reply.header('set-cookie', cookie(SESSION_COOKIE, '', 0, secure)).send({ loggedOut: true });
  });
}
