// Server replicas: several `jobmon server` processes over one PostgreSQL. A follower long-polling
// replica B must hear a transition made through replica A by NOTIFY, within milliseconds — the
// fallback poll is set to 20 s here, so nothing else could wake it in time. Exactly one replica
// runs the reaper (the lease); when it is killed (-9) another takes over within one lease period,
// and when it shuts down cleanly it hands the lease over at once. PostgreSQL only: SQLite is one
// embedded server, with no replicas to coordinate.

import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, JobmonApp } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';
import { freePort, spawnServer } from '../../../test-support/server-process.js';
import { sleep } from '../../../test-support/wait.js';
import { apiHelpers } from './support.js';

const INTERVAL_MS = 200;
const LEASE_MS = 1_000;
/** The reaper's beat with a lease: min(interval, lease / 3). */
const BEAT_MS = Math.min(INTERVAL_MS, LEASE_MS / 3);
const POLL_MS = 20_000;
/** A follower must wake this soon after replica A answered (committed) the transition. */
const WAKE_MS = 200;

if (TEST_DB_KIND !== 'postgres') {
  console.log(
    'replicas.test.ts skipped: replicas share one PostgreSQL (a lease row, LISTEN/NOTIFY); run it with JOBMON_TEST_DB=postgres',
  );
}

interface Replica {
  url: string;
  child: ChildProcess;
}

let db: TestDb;
const replicas: Replica[] = [];

async function startReplica(): Promise<Replica> {
  const port = await freePort();
  const child = await spawnServer(db.target, port, {
    JOBMON_HOME: join(db.dir, 'home'),
    JOBMON_REAPER_INTERVAL_MS: String(INTERVAL_MS),
    JOBMON_REAPER_LEASE_MS: String(LEASE_MS),
    JOBMON_EVENT_POLL_MS: String(POLL_MS),
  });
  const r = { url: `http://127.0.0.1:${port}`, child };
  replicas.push(r);
  return r;
}

interface Health {
  reaper: { role: 'holder' | 'standby' | 'off'; passes: number };
}

async function health(r: Replica): Promise<Health> {
  const res = await fetch(`${r.url}/api/v1/health`);
  if (!res.ok) throw new Error(`health ${res.status}`);
  return (await res.json()) as Health;
}

/** The API helpers (support.ts), sent over HTTP to one replica instead of injected. */
function helpersVia(r: Replica) {
  const inject = async (o: { method: string; url: string; payload?: unknown; headers?: Record<string, string> }) => {
    const res = await fetch(`${r.url}${o.url}`, {
      method: o.method,
      ...(o.payload === undefined
        ? {}
        : {
            body: typeof o.payload === 'string' ? o.payload : JSON.stringify(o.payload),
            headers: { 'content-type': 'application/json' },
          }),
    });
    return { statusCode: res.status, body: await res.text() };
  };
  return apiHelpers(() => ({ app: { inject } as unknown as JobmonApp, db: undefined as unknown as Db }));
}

/**
 * Follows the event log through one replica with long-polls, recording when each event arrived and
 * when the request now waiting was sent (so a test knows the follower is parked, not on its way).
 */
function follow(r: Replica, after: number) {
  const arrived: { seq: number; at: number }[] = [];
  const ac = new AbortController();
  let waitingSince = Infinity;
  const loop = (async () => {
    let last = after;
    while (!ac.signal.aborted) {
      waitingSince = performance.now();
      const res = await fetch(`${r.url}/api/v1/events?after=${last}&waitMs=30000`, { signal: ac.signal }).catch(
        () => undefined,
      );
      if (!res) break;
      const body = (await res.json()) as { events: { seq: number }[]; last: number };
      const at = performance.now();
      waitingSince = Infinity;
      for (const e of body.events) arrived.push({ seq: e.seq, at });
      last = body.last;
    }
  })();
  return {
    arrived,
    /** The current long-poll has been waiting at the server for a while (it read nothing new). */
    async parked(): Promise<void> {
      while (performance.now() - waitingSince < 30) await sleep(5);
    },
    async stop(): Promise<void> {
      ac.abort();
      await loop;
    },
  };
}

async function latestSeq(r: Replica): Promise<number> {
  return ((await (await fetch(`${r.url}/api/v1/events/latest`)).json()) as { last: number }).last;
}

async function leaseHolder(): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: db.target });
  await c.connect();
  try {
    const r = await c.query<{ holder: string }>(`select holder from lease where name = 'reaper'`);
    return r.rows[0]?.holder;
  } finally {
    await c.end();
  }
}

async function until<T>(what: string, limitMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = performance.now() + limitMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`${what}: not within ${limitMs} ms`);
    await sleep(10);
  }
}

describe.skipIf(TEST_DB_KIND !== 'postgres')('server replicas over one PostgreSQL', () => {
  beforeAll(async () => {
    db = await createTestDb('replicas');
    await startReplica();
    await startReplica();
  });
  afterAll(async () => {
    for (const r of replicas) r.child.kill('SIGKILL');
    await Promise.all(
      replicas.map((r) =>
        r.child.exitCode === null && r.child.signalCode === null
          ? new Promise((ok) => r.child.once('exit', ok))
          : undefined,
      ),
    );
    await db?.drop();
  });

  it(`a follower on replica B wakes within ${WAKE_MS} ms of each transition made through replica A (fallback poll ${POLL_MS} ms)`, async () => {
    const [a, b] = replicas as [Replica, Replica];
    const { runningWorkflow, ok } = helpersVia(a);
    const w = await runningWorkflow(3);
    const follower = follow(b, await latestSeq(b));
    // Measured from A's answer, which comes after its commit: the request's own time on a busy host
    // is A's, not the wake's. B may well hear before A's answer arrives here (then 0).
    const wakes: number[] = [];
    const sinceSent: number[] = [];
    try {
      for (const inst of w.instances) {
        for (const move of [
          { to: 'RUNNING', via: ['INSTANTIATED', 'LAUNCHED'] },
          { to: 'DONE', exitCode: 0 },
        ]) {
          await follower.parked();
          const seen = follower.arrived.length;
          const sent = performance.now();
          await ok('POST', `/task-instances/${inst}/transition`, move);
          const answered = performance.now();
          const woke = await until(
            `B's follower hearing instance ${inst} ${move.to}`,
            2_000,
            async () => follower.arrived[seen]?.at,
          );
          wakes.push(Math.max(0, Math.round(woke - answered)));
          sinceSent.push(Math.round(woke - sent));
        }
      }
    } finally {
      await follower.stop();
    }
    console.log(
      `replicas: B's follower woke ${wakes.join(', ')} ms after A answered each transition (${sinceSent.join(', ')} ms after it was sent)`,
    );
    expect(Math.max(...wakes)).toBeLessThan(WAKE_MS);
  });

  it('a replica whose listening connection is cut reconnects and hears again', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const admin = new pg.Client({ connectionString: db.target });
    await admin.connect();
    const listeners = async () =>
      (
        await admin.query<{ pid: number }>(
          `select pid from pg_stat_activity where datname = current_database() and application_name = 'jobmon-event-listener'`,
        )
      ).rows.map((r) => r.pid);
    try {
      const before = await listeners();
      expect(before).toHaveLength(2);
      await admin.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [before]);
      await until('both listeners back on new connections', 5_000, async () => {
        const now = await listeners();
        return now.length === 2 && now.every((p) => !before.includes(p)) ? true : undefined;
      });
    } finally {
      await admin.end();
    }
    const { runningWorkflow, ok } = helpersVia(a);
    const w = await runningWorkflow(1);
    const follower = follow(b, await latestSeq(b));
    try {
      await follower.parked();
      const sent = performance.now();
      await ok('POST', `/task-instances/${w.instances[0]}/transition`, {
        to: 'RUNNING',
        via: ['INSTANTIATED', 'LAUNCHED'],
      });
      const woke = await until("B's follower after the reconnect", 2_000, async () => follower.arrived[0]?.at);
      expect(woke - sent).toBeLessThan(WAKE_MS);
    } finally {
      await follower.stop();
    }
  });

  it(`one replica reaps at a time; when it is killed (-9) another takes over within one lease period (${LEASE_MS} ms), and a clean shutdown hands over at once`, async () => {
    // Beats at different phases could show a holder and its successor both 'holder' for one beat
    // during a handover, but there is none here: both replicas are alive throughout the sampling.
    const roles = async () =>
      Promise.all(
        replicas
          .filter((r) => r.child.exitCode === null && r.child.signalCode === null)
          .map(async (r) => ({ r, h: await health(r) })),
      );
    await until('a lease holder', 3 * LEASE_MS, async () =>
      (await roles()).some((x) => x.h.reaper.role === 'holder') ? true : undefined,
    );
    const first = await roles();
    const holderOf = (xs: typeof first) => xs.filter((x) => x.h.reaper.role === 'holder');
    const holder = holderOf(first)[0]!.r;
    const standby = first.find((x) => x.r !== holder)!;
    const standbyPasses = standby.h.reaper.passes;
    const holderPasses = holderOf(first)[0]!.h.reaper.passes;
    // Sample across several beats: always exactly this holder, and only it makes passes.
    for (let i = 0; i < 15; i++) {
      const now = await roles();
      expect(
        holderOf(now).map((x) => x.r.url),
        `sample ${i}`,
      ).toEqual([holder.url]);
      expect(now.find((x) => x.r === standby.r)!.h.reaper).toEqual({ role: 'standby', passes: standbyPasses });
      await sleep(BEAT_MS / 2);
    }
    expect((await health(holder)).reaper.passes).toBeGreaterThan(holderPasses);
    expect(await leaseHolder()).toMatch(new RegExp(`:${holder.child.pid}:`));

    // kill -9: the lease is left to lapse; the standby must wait it out, then take it.
    holder.child.kill('SIGKILL');
    const killed = performance.now();
    await until('the standby taking over', 3 * LEASE_MS, async () =>
      (await health(standby.r)).reaper.role === 'holder' ? true : undefined,
    );
    const takeover = Math.round(performance.now() - killed);
    console.log(
      `replicas: the standby took the reaper over ${takeover} ms after the holder was killed (lease ${LEASE_MS} ms, beat ${BEAT_MS} ms)`,
    );
    // The last renewal was at most one beat before the kill, so the lease lapsed within one lease
    // period of it; the standby notices at its next beat (plus this probe's and a busy host's lag).
    expect(takeover).toBeGreaterThan(LEASE_MS - 2 * BEAT_MS);
    expect(takeover).toBeLessThan(LEASE_MS + BEAT_MS + 250);
    expect(await leaseHolder()).toMatch(new RegExp(`:${standby.r.child.pid}:`));
    await until('the new holder reaping', 3 * LEASE_MS, async () =>
      (await health(standby.r)).reaper.passes > standbyPasses ? true : undefined,
    );

    // A clean shutdown releases the lease: a third replica takes over at its next beat.
    const third = await startReplica();
    expect((await health(third)).reaper.role).toBe('standby');
    standby.r.child.kill('SIGTERM');
    const stopped = performance.now();
    await until('the third replica taking over', 3 * LEASE_MS, async () =>
      (await health(third)).reaper.role === 'holder' ? true : undefined,
    );
    const handover = Math.round(performance.now() - stopped);
    console.log(`replicas: after a clean shutdown the next replica took over in ${handover} ms`);
    expect(handover).toBeLessThan(LEASE_MS - BEAT_MS);
  });
});
