// Browser sign-in against a real OpenID Connect provider (oidc-provider, started here on its own
// port): the login goes through the provider's own login and consent forms, the callback opens a
// session, the session reads and (with the CSRF header) changes, it expires and the expiry is
// enforced, logout ends it, and tokens keep working beside it.

import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Provider from 'oidc-provider';
import { mintToken, openDb, startServer, type Db, type RunningServer } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';
import { freePort } from '../../../test-support/server-process.js';

let tdb: TestDb;
let server: RunningServer;
let providerServer: Server;
let issuer: string;
let fixtures: Db;

beforeAll(async () => {
  tdb = await createTestDb('oidc');
  const [providerPort, jobmonPort] = [await freePort(), await freePort()];
  issuer = `http://127.0.0.1:${providerPort}`;
  const redirectUri = `http://127.0.0.1:${jobmonPort}/auth/callback`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'jobmon',
        client_secret: 'a-secret-for-tests-only',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    claims: { openid: ['sub'], profile: ['preferred_username'] },
    findAccount: async (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: async () => ({ sub: `sub-${id}`, preferred_username: id }),
    }),
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['test-cookie-key'] },
  });
  providerServer = provider.listen(providerPort);
  server = await startServer({
    db: tdb.target,
    port: jobmonPort,
    reaper: false,
    auth: {
      mode: 'oidc',
      oidc: { issuer, clientId: 'jobmon', clientSecret: 'a-secret-for-tests-only', redirectUri, sessionTtlMs: 3000 },
    },
  });
  fixtures = await openDb(tdb.target);
}, 60_000);
afterAll(async () => {
  await server?.close();
  await new Promise((r) => providerServer?.close(r));
  await fixtures?.close();
  await tdb?.drop();
});

/** A browser's cookie jar, per host: enough for the provider's interaction cookies and ours. */
class Browser {
  private jar = new Map<string, Map<string, string>>();
  async get(url: string, init: RequestInit = {}): Promise<Response> {
    const u = new URL(url);
    const jar = this.jar.get(u.host) ?? new Map<string, string>();
    this.jar.set(u.host, jar);
    const headers = new Headers(init.headers);
    if (jar.size > 0) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const [k, v] = [pair!.slice(0, i), pair!.slice(i + 1)];
      if (v === '' || /max-age=0/i.test(c) || /expires=Thu, 01 Jan 1970/i.test(c)) jar.delete(k);
      else jar.set(k, v);
    }
    return res;
  }
  cookie(host: string, name: string): string | undefined {
    return this.jar.get(host)?.get(name);
  }
  /** Follow redirects from `url`, answering the provider's login and consent forms as `user`. */
  async signIn(url: string, user: string): Promise<Response> {
    let res = await this.get(url);
    for (let hops = 0; hops < 20; hops++) {
      if (res.status >= 300 && res.status < 400) {
        res = await this.get(new URL(res.headers.get('location')!, res.url || url).href);
        continue;
      }
      const html = await res.clone().text();
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      const prompt = /name="prompt" value="([a-z]+)"/.exec(html)?.[1];
      if (!action || !prompt) return res;
      const body = new URLSearchParams({ prompt, login: user, password: 'any' });
      res = await this.get(new URL(action, issuer).href, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
    }
    throw new Error('too many redirects');
  }
}

const jobmonHost = () => new URL(server.url).host;

describe(`browser sign-in with OpenID Connect on ${TEST_DB_KIND}`, () => {
  it('logs in through the provider, reads, changes with the CSRF header, expires, and logs out', async () => {
    const b = new Browser();
    // Before: nothing without a session or a token.
    expect((await b.get(`${server.url}/api/v1/workflows`)).status).toBe(401);

    const landed = await b.signIn(`${server.url}/auth/login?next=/somewhere`, 'alice');
    // /somewhere: a page of the web GUI (web.ts), or the page saying how to build it.
    expect(landed.status, await landed.clone().text()).toBe(200);
    expect(landed.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(new URL(landed.url).pathname).toBe('/somewhere');
    expect(b.cookie(jobmonHost(), 'jobmon_session')).toBeDefined();
    const rows = await fixtures.kysely.selectFrom('auth_session').select(['user']).execute();
    expect(rows.map((r) => r.user)).toContain('alice');

    // Reads with the session.
    const list = await b.get(`${server.url}/api/v1/workflows`);
    expect(list.status, await list.clone().text()).toBe(200);

    // A change from the session needs the CSRF header (a cross-site form cannot set it).
    const putCluster = (headers: Record<string, string>) =>
      b.get(`${server.url}/api/v1/clusters/oidc-test`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ type: 'local', queues: { q: {} } }),
      });
    const noCsrf = await putCluster({});
    expect(noCsrf.status).toBe(403);
    expect(await noCsrf.text()).toContain('must carry the x-jobmon-csrf header');
    // With it, the rule decides: alice is no admin, so a cluster is not hers to add.
    const withCsrf = await putCluster({ 'x-jobmon-csrf': '1' });
    expect(withCsrf.status).toBe(403);
    expect(await withCsrf.text()).toContain('needs the admin scope; alice has operate');

    // The session expires (3 s here), and the server enforces it.
    await new Promise((r) => setTimeout(r, 3200));
    const late = await b.get(`${server.url}/api/v1/workflows`);
    expect(late.status).toBe(401);
    expect(await late.text()).toContain('your session has expired');

    // A fresh login, then logout ends it at once.
    await b.signIn(`${server.url}/auth/login`, 'alice');
    expect((await b.get(`${server.url}/api/v1/workflows`)).status).toBe(200);
    const sessionId = b.cookie(jobmonHost(), 'jobmon_session')!;
    await b.get(`${server.url}/auth/logout`, { method: 'POST' });
    const replay = await fetch(`${server.url}/api/v1/workflows`, {
      headers: { cookie: `jobmon_session=${sessionId}` },
    });
    expect(replay.status).toBe(401);
    expect(await replay.text()).toContain('you are logged out');
  }, 60_000);

  it('refuses a callback this browser did not start (login CSRF) and an unknown state', async () => {
    const b = new Browser();
    const res = await b.get(`${server.url}/auth/callback?code=x&state=forged`);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('this login is unknown or too old');
  });

  it('keeps tokens working beside sessions (the CLI, scripts, runners)', async () => {
    const t = await mintToken(fixtures, {
      kind: 'personal',
      user: 'bob',
      scope: 'read',
      expiresInMs: 60_000,
      createdBy: 'test',
    });
    const res = await fetch(`${server.url}/api/v1/workflows`, { headers: { authorization: `Bearer ${t.token}` } });
    expect(res.status).toBe(200);
  });
});
