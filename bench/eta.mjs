// `npm run bench:eta`: how right is the estimate of completion? Generates the layered benchmark DAG
// (gen_dag.py: data_prep → N one_location → N/10 aggregate → summarize) with sleeps for commands
// (one_location 0.2 s or 1 s by index, aggregate 3 s, the ends 0.5 s) and a concurrency limit, runs
// it with `jobmon run` against a `jobmon server` on a fresh SQLite file (local distributor), and
// reads GET /workflows/{id}/progress every second. Once the run is DONE, for the samples nearest
// 25 %, 50 % and 75 % done it compares the estimated remaining time with the actual one (the run's
// end − that sample, both on the server's clock) and checks the actual lies in [low, high].
// BENCH_ETA_RUNS runs (default 3), medians. Writes bench/results/eta.{json,md}.
// Env: BENCH_ETA_N (one_location tasks, default 300), BENCH_ETA_LIMIT (max_concurrently_running,
// default 4), BENCH_ETA_P (local distributor's -p, default 8: the limit, not -p, is what binds),
// BENCH_ETA_MODES ("cold warm"), BENCH_ETA_ASK=0 (declare no runtime requests).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const CLI = resolve(HERE, '../packages/cli/bin/jobmon.js');
const N = Number(process.env.BENCH_ETA_N ?? 300);
const RUNS = Number(process.env.BENCH_ETA_RUNS ?? 3);
const LIMIT = Number(process.env.BENCH_ETA_LIMIT ?? 4);
const P = Number(process.env.BENCH_ETA_P ?? 8);
const POLL_MS = 1000;
const MARKS = [0.25, 0.5, 0.75];
// cold: a fresh database, no history; warm: the same workflow again (new name), so every template
// has runtimes from an earlier workflow before its first task here finishes.
const MODES = (process.env.BENCH_ETA_MODES ?? 'cold warm').split(/\s+/).filter(Boolean);
// BENCH_ETA_ASK=0: no runtime requests at all (a template with no history counts as the others' mean).
const ASK = process.env.BENCH_ETA_ASK !== '0';
const TARGET = 0.25; // the target: within ±25 % at half way
const WORK = mkdtempSync(join(tmpdir(), 'jobmon-bench-eta-'));
const log = (s) => process.stdout.write(`${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (x) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(0)} %`;

/** Seconds each template's command sleeps; one_location alternates short and long by index. */
const SLEEP = {
  data_prep: () => 0.5,
  one_location: (i) => (i % 2 === 0 ? 0.2 : 1),
  aggregate: () => 3,
  summarize: () => 0.5,
};

/** gen_dag.py's workflow.json, with sleeps for commands, a limit and padded runtime requests. */
function workflowFile(parent, name) {
  const dir = join(parent, name);
  execFileSync('python3', [join(HERE, 'gen_dag.py'), String(N), '--outdir', dir], { stdio: 'ignore' });
  const doc = JSON.parse(readFileSync(join(dir, 'workflow.json'), 'utf8'));
  for (const t of doc.tasks) t.command = `sleep ${SLEEP[t.template](t.args?.location_id ?? 0)}`;
  doc.name = name;
  delete doc.workflow;
  doc.max_concurrently_running = LIMIT;
  // What an author would ask: a few times the real runtime.
  if (ASK)
    doc.defaults = {
      compute_resources: { runtime: '1m' },
      template_resources: { one_location: { runtime: '10s' }, aggregate: { runtime: '30s' } },
    };
  const file = join(dir, 'eta.json');
  writeFileSync(file, JSON.stringify(doc));
  return { file, total: doc.tasks.length };
}

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const p = s.address().port;
  await new Promise((r) => s.close(r));
  return p;
}

const get = async (url) => {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return r.json();
};

/** "4m 10s", "1h 05m", "12s" → seconds (the method's durations). */
function parseDuration(s) {
  let v = 0;
  for (const [, n, u] of s.matchAll(/(\d+(?:\.\d+)?)\s*([hms])/g)) v += Number(n) * { h: 3600, m: 60, s: 1 }[u];
  return v;
}

/** The estimate's components, read back from its method text. */
function components(method) {
  const m = /(\S+(?: \S+)?) of work at concurrency ([\d.]+) \((?:([\d.]+) on average [^,]*, )?(\d+) running/.exec(
    method ?? '',
  );
  const p = /critical path of what remains (\S+(?: \d+[hms])?)/.exec(method ?? '');
  return {
    workS: m ? parseDuration(m[1]) : null,
    concurrency: m ? Number(m[2]) : null,
    recent: m?.[3] !== undefined ? Number(m[3]) : null,
    running: m ? Number(m[4]) : null,
    pathS: p ? parseDuration(p[1]) : null,
  };
}

/** One workflow run against the server at `url`, sampled every second; its marks. */
async function measure(url, dir, name) {
  const { file, total } = workflowFile(dir, name);
  const env = { ...process.env, JOBMON_URL: url, JOBMON_HOME: join(dir, 'home'), NO_COLOR: '1' };
  const t0 = Date.now();
  const run = spawn(process.execPath, [CLI, 'run', file, '--json', '-p', String(P)], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  run.stdout.on('data', (d) => (out += d));
  run.stderr.on('data', (d) => (err += d));
  let done = false;
  const exited = new Promise((r) => run.on('exit', (code) => r(code)));
  exited.then(() => (done = true));

  let id;
  const samples = [];
  while (!done) {
    const next = Date.now() + POLL_MS;
    if (id === undefined) {
      const list = await get(`${url}/api/v1/workflows?exactName=${encodeURIComponent(name)}`).catch(() => undefined);
      id = list?.workflows?.[0]?.id;
    }
    if (id !== undefined) {
      const p = await get(`${url}/api/v1/workflows/${id}/progress`).catch(() => undefined);
      if (p && p.elapsedMs !== null) {
        const c = { PENDING: 0, SCHEDULED: 0, RUNNING: 0, DONE: 0, FATAL: 0 };
        for (const t of p.templates) for (const g of Object.keys(c)) c[g] += t.counts[g];
        samples.push({
          wallMs: Date.now() - t0,
          elapsedMs: p.elapsedMs,
          status: p.status,
          done: c.DONE,
          fraction: c.DONE / total,
          running: c.RUNNING,
          eta: p.eta,
          etaReason: p.etaReason ?? null,
          runtimes: Object.fromEntries(p.templates.map((t) => [t.name, [t.runtimeSeconds, t.runtimeSource]])),
          ...components(p.eta?.method),
        });
      }
    }
    await Promise.race([exited, sleep(Math.max(0, next - Date.now()))]);
  }
  const code = await exited;
  if (code !== 0) throw new Error(`jobmon run exited ${code}: ${err.slice(-2000)}`);
  const final = await get(`${url}/api/v1/workflows/${id}/progress`);
  const endMs = final.elapsedMs; // the ended run: its start to its end, on the server's clock
  const live = samples.filter((s) => s.eta && s.status !== 'DONE');
  const marks = MARKS.map((m) => {
    const s = live.reduce((a, b) => (Math.abs(b.fraction - m) < Math.abs(a.fraction - m) ? b : a));
    const actual = (endMs - s.elapsedMs) / 1000;
    return {
      mark: m,
      fraction: s.fraction,
      atS: s.elapsedMs / 1000,
      actualS: actual,
      estS: s.eta.seconds,
      low: s.eta.low,
      high: s.eta.high,
      relErr: (s.eta.seconds - actual) / actual,
      inRange: s.eta.low <= actual && actual <= s.eta.high,
      workS: s.workS,
      concurrency: s.concurrency,
      running: s.running,
      recent: s.recent,
      pathS: s.pathS,
      runtimes: s.runtimes,
      method: s.eta.method,
    };
  });
  return { name, total, endS: endMs / 1000, summary: JSON.parse(out.trim().split('\n').pop()), marks, samples };
}

/** One repetition: a fresh database; the workflow cold (no history), then again warm. */
async function repetition(k) {
  const dir = join(WORK, `rep${k}`);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = spawn(process.execPath, [CLI, 'server', '--db', join(dir, 'jobmon.db'), '--port', String(port)], {
    stdio: 'ignore',
    env: { ...process.env, JOBMON_HOME: join(dir, 'home') },
  });
  try {
    for (let i = 0; i < 400; i++) {
      if ((await fetch(`${url}/api/v1/health`).catch(() => undefined))?.ok) break;
      await sleep(50);
    }
    const out = {};
    for (const mode of MODES) {
      const r = await measure(url, dir, `eta_bench_n${N}_${mode}`);
      out[mode] = r;
      log(`  ${mode}: ${r.total} tasks DONE in ${r.endS.toFixed(1)} s, ${r.samples.length} samples`);
      for (const m of r.marks)
        log(
          `    ${(100 * m.mark).toFixed(0)} % (at ${(100 * m.fraction).toFixed(0)} %, ${m.atS.toFixed(0)} s): ` +
            `est ${m.estS} s [${m.low}, ${m.high}] vs actual ${m.actualS.toFixed(1)} s: ${pct(m.relErr)}` +
            `${m.inRange ? ', in range' : ', OUT of range'} — work ${m.workS} s at c=${m.concurrency} ` +
            `(${m.recent ?? '—'} on average, ${m.running} running), path ${m.pathS} s; aggregate ${m.runtimes.aggregate?.[0]?.toFixed(2) ?? '—'} s ` +
            `(${m.runtimes.aggregate?.[1]})`,
        );
    }
    return out;
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode !== null ? r() : server.on('exit', r)));
  }
}

const reps = [];
try {
  for (let k = 1; k <= RUNS; k++) {
    log(`repetition ${k}/${RUNS}: N=${N}, limit ${LIMIT}, -p ${P}, load ${loadavg()[0].toFixed(1)}`);
    reps.push(await repetition(k));
  }
} finally {
  rmSync(WORK, { recursive: true, force: true });
}

const table = (mode) =>
  MARKS.map((m, i) => {
    const at = reps.map((r) => r[mode].marks[i]);
    return {
      mode,
      mark: m,
      estS: median(at.map((x) => x.estS)),
      actualS: median(at.map((x) => x.actualS)),
      relErr: median(at.map((x) => x.relErr)),
      absRelErr: median(at.map((x) => Math.abs(x.relErr))),
      inRange: at.filter((x) => x.inRange).length,
    };
  });
const rows = MODES.flatMap(table);
// Every sample between 10 % and 90 % done, not only the three marks: how steady the estimate is.
const steady = Object.fromEntries(
  MODES.map((mode) => {
    const errs = reps.flatMap((r) =>
      r[mode].samples
        .filter((s) => s.eta && s.status !== 'DONE' && s.fraction >= 0.1 && s.fraction <= 0.9)
        .map((s) => {
          const actual = r[mode].endS - s.elapsedMs / 1000;
          return (s.eta.seconds - actual) / actual;
        }),
    );
    return [
      mode,
      {
        samples: errs.length,
        absRelErr: median(errs.map(Math.abs)),
        within: errs.filter((e) => Math.abs(e) <= TARGET).length / errs.length,
      },
    ];
  }),
);
const pass = Object.fromEntries(
  MODES.map((mode) => [mode, rows.find((r) => r.mode === mode && r.mark === 0.5).absRelErr <= TARGET]),
);
const machine = { cpus: cpus().length, load: loadavg().map((x) => +x.toFixed(2)), node: process.version };
mkdirSync(join(HERE, 'results'), { recursive: true });
writeFileSync(
  join(HERE, 'results/eta.json'),
  JSON.stringify(
    { at: new Date().toISOString(), n: N, limit: LIMIT, p: P, machine, rows, steady, pass, reps },
    null,
    2,
  ),
);
const md = [
  `N=${N} (${reps[0]?.[MODES[0]].total} tasks), limit ${LIMIT}, -p ${P}, ${ASK ? 'runtime requests 10 s / 30 s / 1 m' : 'no runtime requests'}, ${RUNS} repetitions; run time median ` +
    MODES.map((m) => `${m} ${median(reps.map((r) => r[m].endS)).toFixed(1)} s`).join(', '),
  '',
  '| history | done | estimated remaining (s) | actual remaining (s) | error | abs error | actual in [low, high] |',
  '|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.mode} | ${(100 * r.mark).toFixed(0)} % | ${r.estS} | ${r.actualS.toFixed(1)} | ${pct(r.relErr)} | ${(100 * r.absRelErr).toFixed(0)} % | ${r.inRange}/${reps.length} |`,
  ),
  '',
  ...MODES.map(
    (m) =>
      `${m}: every sample from 10 % to 90 % done (${steady[m].samples}): median abs error ` +
      `${(100 * steady[m].absRelErr).toFixed(0)} %, ${(100 * steady[m].within).toFixed(0)} % of them within ±${100 * TARGET} %`,
  ),
  '',
  ...MODES.map((m) => `${m}, half way: ${pass[m] ? 'PASS' : 'FAIL'} (median abs error within ±${100 * TARGET} %)`),
];
writeFileSync(join(HERE, 'results/eta.md'), md.join('\n') + '\n');
log(md.join('\n'));
