// `npm run bench`: Jobmon's local distributor against make -j2 (and Snakemake when installed) on the
// layered DAG of ../shared/bench/gen_dag.py, side by side in one run; plus the "nothing to do"
// rerun, the bind time of a 100k-task workflow (SQLite and PostgreSQL) and peak memory of the
// runner and the server. Prints medians and ratios and checks the targets; writes
// bench/results/latest.{json,md}.
//
// Env: BENCH_NS="1000 5000 20000", BENCH_REPS (default 3; 1 at N ≥ 20000), BENCH_BIND_N=100000,
// BENCH_QUICK=1 (N = 1000 and 5000, one rep, bind of 20k tasks), BENCH_PG_URL (admin URL,
// default postgres://postgres@127.0.0.1:5432/test), SNAKEMAKE_TIMEOUT_S (default 600).

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const CLI = join(ROOT, 'packages/cli/bin/jobmon.js');
const GEN = [resolve(ROOT, '../shared/bench/gen_dag.py'), join(HERE, 'gen_dag.py')].find((p) => existsSync(p));
const QUICK = process.env.BENCH_QUICK === '1';
const NS = (process.env.BENCH_NS ?? (QUICK ? '1000 5000' : '1000 5000 20000')).split(/\s+/).filter(Boolean).map(Number);
const BIND_N = Number(process.env.BENCH_BIND_N ?? (QUICK ? 20000 : 100000));
const PG_ADMIN = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SNAKE_TIMEOUT_S = Number(process.env.SNAKEMAKE_TIMEOUT_S ?? 600);
const WORK = mkdtempSync(join(tmpdir(), 'jobmon-bench-'));
const results = {
  started: new Date().toISOString(),
  machine: machine(),
  runs: [],
  rerun: null,
  bind: [],
  memory: null,
  targets: [],
};

const log = (s) => process.stdout.write(`${s}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const reps = (n) => Number(process.env.BENCH_REPS ?? (QUICK ? 1 : n >= 20000 ? 1 : 3));

function machine() {
  return {
    cores: Number(execFileSync('nproc').toString().trim()),
    node: process.version,
    load: readFileSync('/proc/loadavg', 'utf8').trim(),
  };
}

/** Wait (up to 30 s) for the 1-minute load to fall below 1.0; return what it was. */
async function quiet() {
  for (let i = 0; i < 30; i++) {
    const l1 = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
    if (l1 < 1.0) return l1;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

function generate(n) {
  const dir = join(WORK, `wf_n${n}`);
  if (!existsSync(join(dir, 'workflow.json')))
    execFileSync('python3', [GEN, String(n), '--outdir', dir], { stdio: 'ignore' });
  return dir;
}

/**
 * Run a command, timing it; returns {ms, code, stdout, peakKb, cpu} (peakKb from /proc while it
 * runs; cpu: {user, sys} seconds of the whole process tree). The command runs under bash, whose
 * `times` reports its children's CPU: each level waits for its own children (jobmon for its
 * launchers, they for the commands), so that total includes every process the run started.
 */
function timed(cmd, args, opts = {}) {
  return new Promise((resolvePromise) => {
    const t0 = performance.now();
    const wrapped = ['-c', '"$@"; rc=$?; times >&2; exit $rc', 'timed', cmd, ...args];
    // Its own process group, so a timeout ends the whole tree, not only bash.
    const child = spawn('bash', wrapped, {
      cwd: opts.cwd,
      env: { ...process.env, ...(opts.env ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    let peakKb = 0;
    const poll = setInterval(() => {
      try {
        // The measured process is bash's child (bash itself only waits for it).
        const pid = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0];
        const m = pid ? /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8')) : null;
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        /* exited */
      }
    }, 100);
    const timer = opts.timeoutS
      ? setTimeout(() => process.kill(-child.pid, 'SIGKILL'), opts.timeoutS * 1000)
      : undefined;
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      // The last line of `times`: the children's user and system time, e.g. "0m1.234s 0m0.567s".
      const lines = stderr.trimEnd().split('\n');
      const secs = (t) => {
        const m = /^(\d+)m([\d.]+)s$/.exec(t ?? '');
        return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
      };
      const [user, sys] = (lines.at(-1) ?? '').split(' ').map(secs);
      const cpu = Number.isFinite(user) && Number.isFinite(sys) ? { user, sys } : null;
      if (cpu) stderr = lines.slice(0, -2).join('\n');
      resolvePromise({
        ms: performance.now() - t0,
        code: code ?? (signal ? 128 : 1),
        stdout,
        stderr,
        peakKb,
        cpu,
        timedOut: signal === 'SIGKILL',
      });
    });
  });
}

async function jobmonRun(dir, home, extraEnv = {}) {
  const r = await timed(process.execPath, [CLI, 'run', join(dir, 'workflow.json'), '--json'], {
    env: { JOBMON_HOME: home, ...extraEnv },
  });
  let summary = null;
  try {
    summary = JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    /* reported below */
  }
  return { ...r, summary };
}

async function compareAtN(n) {
  const dir = generate(n);
  const tasks = n + n / 10 + 2;
  const ours = [];
  const make = [];
  for (let i = 0; i < reps(n); i++) {
    const load = await quiet();
    const home = join(WORK, `home_${n}_${i}`);
    const r = await jobmonRun(dir, home);
    const ok = r.code === 0 && r.summary?.status === 'DONE' && r.summary?.done === tasks;
    ours.push({
      load,
      ok,
      wallMs: r.ms,
      bindMs: r.summary?.bindMs,
      runMs: r.summary?.runMs,
      cpu: r.cpu,
      error: ok ? undefined : (r.stderr || r.stdout).slice(-400),
    });
    rmSync(home, { recursive: true, force: true });
    await quiet();
    const m = await timed('make', ['-j2', '-s', '-f', 'Makefile'], { cwd: dir });
    make.push({ ok: m.code === 0, wallMs: m.ms, cpu: m.cpu });
  }
  let snake = null;
  if (spawnSync('sh', ['-c', 'command -v snakemake'], { stdio: 'ignore' }).status === 0) {
    rmSync(join(dir, 'flags'), { recursive: true, force: true });
    rmSync(join(dir, '.snakemake'), { recursive: true, force: true });
    const s = await timed('snakemake', ['--cores', '2', '--scheduler', 'greedy', '--quiet'], {
      cwd: dir,
      timeoutS: SNAKE_TIMEOUT_S,
    });
    snake = { ok: s.code === 0, timedOut: s.timedOut, wallMs: s.ms };
  }
  const okRuns = ours.filter((o) => o.ok);
  const row = {
    n,
    tasks,
    ours,
    make,
    snake,
    oursOk: okRuns.length === ours.length,
    oursRunRate: tasks / (median(okRuns.map((o) => o.runMs)) / 1000),
    oursEndToEndRate: tasks / (median(okRuns.map((o) => o.wallMs)) / 1000),
    oursBindMs: median(okRuns.map((o) => o.bindMs)),
    makeRate: tasks / (median(make.filter((m) => m.ok).map((m) => m.wallMs)) / 1000),
    snakeRate: snake && snake.ok ? tasks / (snake.wallMs / 1000) : null,
    // CPU of the whole process tree per task (user + sys, and sys alone), medians, in ms.
    oursCpuMsPerTask: median(okRuns.filter((o) => o.cpu).map((o) => ((o.cpu.user + o.cpu.sys) * 1000) / tasks)),
    oursSysMsPerTask: median(okRuns.filter((o) => o.cpu).map((o) => (o.cpu.sys * 1000) / tasks)),
    makeCpuMsPerTask: median(make.filter((m) => m.ok && m.cpu).map((m) => ((m.cpu.user + m.cpu.sys) * 1000) / tasks)),
  };
  results.runs.push(row);
  log(
    `N=${String(n).padEnd(6)} ${String(tasks).padStart(6)} tasks | jobmon ${fmt(row.oursRunRate)}/s run, ${fmt(row.oursEndToEndRate)}/s end-to-end ` +
      `(bind ${fmt(row.oursBindMs)} ms; CPU ${fmt(row.oursCpuMsPerTask, 2)} ms/task, sys ${fmt(row.oursSysMsPerTask, 2)})${row.oursOk ? '' : ' [FAILED RUNS]'} | ` +
      `make -j2 ${fmt(row.makeRate)}/s (CPU ${fmt(row.makeCpuMsPerTask, 2)} ms/task) | ratio jobmon/make ${fmt(row.oursRunRate / row.makeRate, 2)}` +
      (snake
        ? ` | snakemake ${snake.ok ? `${fmt(row.snakeRate, 1)}/s` : snake.timedOut ? `timed out after ${SNAKE_TIMEOUT_S} s` : 'failed'}`
        : ' | snakemake not installed'),
  );
  for (const o of ours) if (!o.ok) log(`   failed run: ${o.error}`);
}

async function rerun() {
  const dir = generate(5000);
  const home = join(WORK, 'home_rerun');
  const first = await jobmonRun(dir, home);
  if (first.summary?.status !== 'DONE') {
    log(`rerun: the first run did not finish: ${first.stderr.slice(-300)}`);
    return;
  }
  const times = [];
  for (let i = 0; i < 3; i++) {
    await quiet();
    const r = await jobmonRun(dir, home);
    if (r.summary?.alreadyDone) times.push(r.ms);
  }
  results.rerun = { tasks: 5502, wallMs: median(times), samples: times };
  log(
    `nothing-to-do rerun of a finished 5502-task workflow: ${fmt(median(times))} ms (median of ${times.length}, whole process)`,
  );
  rmSync(home, { recursive: true, force: true });
}

/** A script that declares the layered DAG with the client API and times bind() alone. */
function bindScript() {
  const path = join(HERE, '.bind-probe.mjs');
  writeFileSync(
    path,
    `import { Tool, connect } from '@jobmon/client';
const [n, target] = [Number(process.argv[2]), process.argv[3]];
const tool = new Tool('bench_bind');
const loc = tool.getTaskTemplate({ name: 'one_location', commandTemplate: '{cmd}', nodeArgs: ['location_id'], opArgs: ['cmd'] });
const agg = tool.getTaskTemplate({ name: 'aggregate', commandTemplate: '{cmd}', nodeArgs: ['group'], opArgs: ['cmd'] });
const one = tool.getTaskTemplate({ name: 'single', commandTemplate: '{cmd}', nodeArgs: ['step'], opArgs: ['cmd'] });
const prep = one.createTask({ step: 'data_prep', cmd: 'true' });
const locs = Array.from({ length: n }, (_, i) => loc.createTask({ location_id: i, cmd: 'true' }, { upstream: [prep] }));
const aggs = Array.from({ length: n / 10 }, (_, k) => agg.createTask({ group: k, cmd: 'true' }, { upstream: locs.slice(10 * k, 10 * k + 10) }));
const sum = one.createTask({ step: 'summarize', cmd: 'true' }, { upstream: aggs });
const wf = tool.createWorkflow({ name: 'bench_bind_' + n + '_' + Date.now() });
wf.addTasks([prep, ...locs, ...aggs, sum]);
const conn = await connect(target.startsWith('http') ? { url: target } : { db: target });
const t0 = performance.now();
await wf.bind(conn);
const ms = performance.now() - t0;
await conn.close();
console.log(JSON.stringify({ tasks: wf.tasks.length, bindMs: Math.round(ms) }));
`,
  );
  return path;
}

async function startServer(db) {
  const child = spawn(process.execPath, [CLI, 'server', '--db', db, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise((res, rej) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) res(m[1]);
    });
    child.on('exit', (code) => rej(new Error(`server exited ${code}`)));
    setTimeout(() => rej(new Error('server did not start in 30 s')), 30_000);
  });
  return { child, url };
}

async function bindBench() {
  const script = bindScript();
  try {
    await quiet();
    const sqlite = join(WORK, 'bind.db');
    const r = await timed(process.execPath, [script, String(BIND_N), sqlite]);
    const s = r.code === 0 ? JSON.parse(r.stdout.trim()) : null;
    results.bind.push({
      db: 'sqlite',
      tasks: s?.tasks,
      bindMs: s?.bindMs,
      error: s ? undefined : r.stderr.slice(-300),
    });
    log(
      `bind ${s?.tasks ?? '?'} tasks on SQLite (embedded): ${s ? `${fmt(s.bindMs)} ms` : `failed: ${r.stderr.slice(-300)}`}`,
    );

    const name = `jobmon_bench_${Date.now()}`;
    const admin = new URL(PG_ADMIN);
    const psql = (sql) =>
      spawnSync(
        'psql',
        [
          '-h',
          admin.hostname,
          '-p',
          admin.port || '5432',
          '-U',
          admin.username || 'postgres',
          '-d',
          admin.pathname.slice(1),
          '-c',
          sql,
        ],
        { stdio: 'ignore' },
      ).status === 0;
    if (!psql(`create database ${name}`)) {
      log('bind on PostgreSQL: skipped (cannot create a database; is PostgreSQL running on 127.0.0.1:5432?)');
      return;
    }
    const pgUrl = new URL(PG_ADMIN);
    pgUrl.pathname = `/${name}`;
    const server = await startServer(pgUrl.toString());
    try {
      await quiet();
      const p = await timed(process.execPath, [script, String(BIND_N), server.url]);
      const ps = p.code === 0 ? JSON.parse(p.stdout.trim()) : null;
      results.bind.push({
        db: 'postgres',
        tasks: ps?.tasks,
        bindMs: ps?.bindMs,
        error: ps ? undefined : p.stderr.slice(-300),
      });
      log(
        `bind ${ps?.tasks ?? '?'} tasks on PostgreSQL (jobmon server): ${ps ? `${fmt(ps.bindMs)} ms` : `failed: ${p.stderr.slice(-300)}`}`,
      );
    } finally {
      server.child.kill('SIGTERM');
      await new Promise((r) => server.child.once('exit', r));
      psql(`drop database if exists ${name} with (force)`);
    }
  } finally {
    rmSync(script, { force: true });
  }
}

async function memory() {
  const n = QUICK ? 5000 : 20000;
  const dir = generate(n);
  const small = join(WORK, 'small');
  mkdirSync(small, { recursive: true });
  writeFileSync(
    join(small, 'workflow.json'),
    JSON.stringify({
      name: 'baseline',
      tasks: Array.from({ length: 10 }, (_, i) => ({ name: `t${i}`, command: 'true' })),
    }),
  );
  const server = await startServer(join(WORK, 'memory.db'));
  try {
    const env = { JOBMON_URL: server.url };
    const base = await jobmonRun(small, join(WORK, 'home_mem0'), env);
    await quiet();
    const big = await jobmonRun(dir, join(WORK, 'home_mem1'), env);
    const serverKb = Number(
      /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'))?.[1] ?? NaN,
    );
    const tasks = n + n / 10 + 2;
    results.memory = {
      tasks,
      ok: big.summary?.status === 'DONE',
      runnerPeakMb: big.peakKb / 1024,
      runnerBaselineMb: base.peakKb / 1024,
      runnerBytesPerTask: ((big.peakKb - base.peakKb) * 1024) / tasks,
      runnerTotalBytesPerTask: (big.peakKb * 1024) / tasks,
      serverPeakMb: serverKb / 1024,
      runRate: tasks / (big.summary?.runMs / 1000),
    };
    const m = results.memory;
    log(
      `memory at ${tasks} tasks (separate server): runner peak ${fmt(m.runnerPeakMb)} MB (baseline ${fmt(m.runnerBaselineMb)} MB → ` +
        `${fmt(m.runnerBytesPerTask / 1024, 2)} KB/task above baseline, ${fmt(m.runnerTotalBytesPerTask / 1024, 2)} KB/task in all); server peak ${fmt(m.serverPeakMb)} MB; ` +
        `run rate with a separate server ${fmt(m.runRate)}/s`,
    );
  } finally {
    server.child.kill('SIGTERM');
  }
}

function targets() {
  const at = (n) => results.runs.find((r) => r.n === n);
  const t = [];
  const r5 = at(5000);
  if (r5) t.push(['≥ 300 tasks/s at N = 5000 (run phase)', `${fmt(r5.oursRunRate)}/s`, r5.oursRunRate >= 300]);
  if (r5)
    t.push([
      '≤ 4 ms of CPU per task at N = 5000 (whole process tree)',
      `${fmt(r5.oursCpuMsPerTask, 2)} ms (sys ${fmt(r5.oursSysMsPerTask, 2)}); make -j2 ${fmt(r5.makeCpuMsPerTask, 2)} ms`,
      r5.oursCpuMsPerTask <= 4,
    ]);
  const rates = results.runs.map((r) => r.oursRunRate).filter(Number.isFinite);
  if (rates.length >= 2) {
    const mid = median(rates);
    const spread = Math.max(...rates.map((x) => Math.abs(x / mid - 1)));
    const trend = results.runs.map((r) => `${fmt(r.oursRunRate)}/s`).join(' → ');
    t.push([
      `rate within ±20 % from N = ${results.runs[0].n} to ${results.runs.at(-1).n}`,
      `${trend}; max deviation from median ${fmt(spread * 100)} %`,
      spread <= 0.2,
    ]);
  }
  if (results.rerun)
    t.push([
      'nothing-to-do rerun of 5000-task workflow ≤ 2 s',
      `${fmt(results.rerun.wallMs)} ms`,
      results.rerun.wallMs <= 2000,
    ]);
  for (const b of results.bind) {
    const limit = b.db === 'sqlite' ? 10_000 : 20_000;
    t.push([`bind ${b.tasks} tasks ≤ ${limit / 1000} s on ${b.db}`, `${fmt(b.bindMs)} ms`, b.bindMs <= limit]);
  }
  if (results.memory)
    t.push([
      'runner ≤ 5 KB per task',
      `${fmt(results.memory.runnerBytesPerTask / 1024, 2)} KB/task above baseline`,
      results.memory.runnerBytesPerTask <= 5120,
    ]);
  results.targets = t.map(([target, measured, pass]) => ({ target, measured, pass }));
  log('\ntargets:');
  for (const x of results.targets) log(`  ${x.pass ? 'PASS' : 'FAIL'}  ${x.target}: ${x.measured}`);
}

function writeResults() {
  const out = join(HERE, 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'latest.json'), JSON.stringify(results, null, 2));
  const md = [
    `# Benchmark ${results.started}`,
    '',
    `Machine: ${results.machine.cores} cores, Node ${results.machine.node}, load at start ${results.machine.load}.`,
    '',
    '| N | tasks | jobmon run tasks/s | jobmon end-to-end tasks/s | bind ms | jobmon CPU ms/task (sys) | make -j2 tasks/s | make CPU ms/task | jobmon/make | snakemake tasks/s |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...results.runs.map(
      (r) =>
        `| ${r.n} | ${r.tasks} | ${fmt(r.oursRunRate)} | ${fmt(r.oursEndToEndRate)} | ${fmt(r.oursBindMs)} | ${fmt(r.oursCpuMsPerTask, 2)} (${fmt(r.oursSysMsPerTask, 2)}) | ${fmt(r.makeRate)} | ${fmt(r.makeCpuMsPerTask, 2)} | ${fmt(r.oursRunRate / r.makeRate, 2)} | ${r.snake ? (r.snake.ok ? fmt(r.snakeRate, 1) : 'timeout') : 'not installed'} |`,
    ),
    '',
    ...results.targets.map((x) => `- ${x.pass ? 'PASS' : 'FAIL'} ${x.target}: ${x.measured}`),
    '',
  ].join('\n');
  writeFileSync(join(out, 'latest.md'), md);
  log(`\nresults: bench/results/latest.json, bench/results/latest.md`);
}

log(`jobmon bench (${QUICK ? 'quick' : 'full'}): N = ${NS.join(', ')}; load ${results.machine.load}; scratch ${WORK}`);
if (!GEN) {
  log('gen_dag.py not found (../shared/bench/gen_dag.py or bench/gen_dag.py)');
  process.exit(1);
}
const sections = [...NS.map((n) => () => compareAtN(n)), rerun, bindBench, memory];
for (const section of sections) {
  try {
    await section();
  } catch (e) {
    log(`section failed: ${e?.stack ?? e}`);
  }
}
targets();
writeResults();
rmSync(WORK, { recursive: true, force: true });
