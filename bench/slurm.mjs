// `npm run bench:slurm [-- --tasks N] [--poll-ms MS] [--reps R] [--partition P]`: on the local Slurm
// cluster (scripts/slurm-local.sh), in one run, N trivial tasks (`true`) submitted and completed
// three ways, side by side:
//   jobmon  a workflow of N `true` tasks on a `slurm` cluster, through `jobmon run` (the embedded
//           default: SQLite + runner), the cluster's pollMs = --poll-ms (default 1000);
//   loop    a plain loop of N `sbatch --wrap true`, then waiting until none of them is in squeue;
//   array   one `sbatch --array=0-(N-1) --wrap true`, then waiting until it has left squeue.
// Prints wall times (medians over --reps, default 1), tasks/s and the ratios jobmon/array and
// jobmon/loop (target: jobmon/array < 2). Writes bench/results/slurm-latest.{json,md}.
// Not part of `npm test` nor of `npm run bench` (which does not need Slurm).

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const CLI = join(ROOT, 'packages/cli/bin/jobmon.js');
const USAGE =
  'usage: node bench/slurm.mjs [--tasks N] [--poll-ms MS] [--reps R] [--partition P] [--only jobmon,loop,array]';

function flag(name, fallback) {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) fail(`${name} needs a value`);
  return v;
}
function whole(name, fallback, min, max) {
  const v = flag(name, undefined);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    fail(`${name} must be a whole number from ${min} to ${max}, got '${v}'`);
  return n;
}
function fail(msg) {
  process.stderr.write(`bench/slurm.mjs: ${msg}\n${USAGE}\n`);
  process.exit(2);
}
const known = new Set(['--tasks', '--poll-ms', '--reps', '--partition', '--only']);
for (let i = 2; i < process.argv.length; i += 2)
  if (!known.has(process.argv[i])) fail(`unknown argument '${process.argv[i]}'`);

const PARTITION = flag('--partition', 'debug');
const MAX_ARRAY = maxArraySize();
const N = whole('--tasks', 1000, 1, 100_000);
const POLL_MS = whole('--poll-ms', 1000, 100, 60_000);
const REPS = whole('--reps', 1, 1, 20);
const WAYS = flag('--only', 'array,loop,jobmon').split(',');
for (const w of WAYS) if (!['jobmon', 'loop', 'array'].includes(w)) fail(`--only: unknown way '${w}'`);
if (WAYS.includes('array') && N > MAX_ARRAY)
  fail(`--tasks ${N} is more than this cluster's MaxArraySize (${MAX_ARRAY})`);
const TAG = `jmbench-${process.pid}`;
const WORK = mkdtempSync(join(tmpdir(), 'jobmon-bench-slurm-'));
const SQUEUE_POLL_MS = 250;
const log = (s) => process.stdout.write(`${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '—');

function maxArraySize() {
  const r = spawnSync('scontrol', ['show', 'config'], { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    fail(
      `no Slurm here (scontrol show config: ${r.error?.message ?? r.stderr.trim()}); start it with scripts/slurm-local.sh`,
    );
  const m = /^MaxArraySize\s*=\s*(\d+)/m.exec(r.stdout);
  return m ? Number(m[1]) - 1 : 1000;
}

/** Our jobs still known to squeue (pending, running or completing), by job name. */
function ourJobsInQueue(name) {
  const r = spawnSync('squeue', ['-h', '-r', '--name', name, '-o', '%i'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`squeue failed: ${r.stderr.trim()}`);
  return r.stdout.split('\n').filter(Boolean).length;
}
/** Jobs of anybody else in the queue: the bench shares the cluster. */
function othersInQueue(prefix) {
  const r = spawnSync('squeue', ['-h', '-r', '-o', '%j'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .filter((j) => !j.startsWith(prefix)).length;
}

async function waitGone(name, t0, timeoutMs) {
  let failingSince;
  for (;;) {
    let left;
    try {
      left = ourJobsInQueue(name);
      failingSince = undefined;
    } catch (e) {
      // The cluster is shared: someone may restart slurmctld. A minute of failures ends the bench.
      failingSince ??= performance.now();
      if (performance.now() - failingSince > 60_000) throw e;
      log(`    (${e.message}; retrying)`);
      await sleep(1000);
      continue;
    }
    if (left === 0) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`jobs named ${name} still queued after ${timeoutMs} ms`);
    await sleep(SQUEUE_POLL_MS);
  }
}

function sbatch(args) {
  return execFileSync('sbatch', ['--parsable', '-p', PARTITION, '-o', '/dev/null', ...args], {
    encoding: 'utf8',
  }).trim();
}

async function runArray(rep) {
  const name = `${TAG}-array-${rep}`;
  const t0 = performance.now();
  sbatch(['-J', name, `--array=0-${N - 1}`, '--wrap', 'true']);
  const submitMs = performance.now() - t0;
  const wallMs = await waitGone(name, t0, 3_600_000);
  return { submitMs, wallMs, ok: true };
}

async function runLoop(rep) {
  const name = `${TAG}-loop-${rep}`;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) sbatch(['-J', name, '--wrap', 'true']);
  const submitMs = performance.now() - t0;
  const wallMs = await waitGone(name, t0, 3_600_000);
  return { submitMs, wallMs, ok: true };
}

function workflowFile(rep) {
  const dir = join(WORK, `jobmon-${rep}`);
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  // The embedded server reads its clusters from $JOBMON_HOME/config.json (docs/clusters.md).
  writeFileSync(
    join(home, 'config.json'),
    JSON.stringify({
      clusters: {
        bench_slurm: {
          type: 'slurm',
          options: { partition: PARTITION, pollMs: POLL_MS },
          queues: [{ name: PARTITION, limits: { cores: [1, 2], memory: [1, 4096], runtime: [60, 86_400] } }],
        },
      },
    }),
  );
  const tasks = Array.from({ length: N }, (_, i) => ({
    name: `t_${i}`,
    template: 'noop',
    args: { i },
    command: 'true',
  }));
  const file = join(dir, 'workflow.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: `${TAG}-${rep}`,
      tool: 'bench-slurm',
      defaults: { cluster: 'bench_slurm', max_attempts: 1 },
      tasks,
    }),
  );
  return { file, home };
}

function runJobmon(rep) {
  const { file, home } = workflowFile(rep);
  return new Promise((done) => {
    const env = { ...process.env, JOBMON_HOME: home };
    delete env.JOBMON_URL; // the embedded server, which reads $JOBMON_HOME/config.json
    delete env.JOBMON_CONFIG;
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, 'run', file, '--json'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('exit', (code) => {
      const wallMs = performance.now() - t0;
      let s = null;
      try {
        s = JSON.parse(out.trim().split('\n').pop());
      } catch {
        /* reported below */
      }
      const ok = code === 0 && s?.status === 'DONE' && s?.done === N;
      done({
        wallMs,
        runMs: s?.runMs,
        bindMs: s?.bindMs,
        ok,
        error: ok ? undefined : `exit ${code}: ${(err || out).slice(-600)}`,
      });
    });
  });
}

/** Leave nothing of ours in the queue, whatever happens. */
function cancelOurs() {
  spawnSync('sh', ['-c', `squeue -h -r -o '%i %j' | awk '$2 ~ /^${TAG}/ {print $1}' | xargs -r scancel`]);
}
process.on('SIGINT', () => {
  cancelOurs();
  process.exit(130);
});

const results = {
  started: new Date().toISOString(),
  command: `node bench/slurm.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  machine: { cores: Number(execFileSync('nproc').toString().trim()), node: process.version },
  tasks: N,
  pollMs: POLL_MS,
  partition: PARTITION,
  ways: {},
};
log(
  `Slurm bench: ${N} tasks of \`true\`, partition ${PARTITION}, ${REPS} rep(s); jobmon's slurm cluster pollMs=${POLL_MS}; ` +
    `load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
);
try {
  for (let rep = 0; rep < REPS; rep++) {
    for (const way of WAYS) {
      const others = othersInQueue(TAG);
      const r = way === 'array' ? await runArray(rep) : way === 'loop' ? await runLoop(rep) : await runJobmon(rep);
      r.othersQueued = others;
      (results.ways[way] ??= []).push(r);
      log(
        `  ${way.padEnd(6)} rep ${rep}: ${r.ok ? '' : 'FAILED '}${fmt(r.wallMs / 1000, 1)} s wall, ${fmt(N / (r.wallMs / 1000), 1)} tasks/s` +
          (r.submitMs !== undefined ? ` (submitting took ${fmt(r.submitMs / 1000, 1)} s)` : '') +
          (r.runMs !== undefined ? ` (run phase ${fmt(r.runMs / 1000, 1)} s, bind ${fmt(r.bindMs)} ms)` : '') +
          (others ? ` [${others} other jobs in the queue at start]` : '') +
          (r.error ? `\n    ${r.error}` : ''),
      );
    }
  }
} finally {
  cancelOurs();
  rmSync(WORK, { recursive: true, force: true });
}

const wall = (w) => median((results.ways[w] ?? []).filter((r) => r.ok).map((r) => r.wallMs));
const row = (w, label) => {
  const ms = wall(w);
  return `| ${label.padEnd(44)} | ${fmt(ms / 1000, 1).padStart(8)} | ${fmt(N / (ms / 1000), 1).padStart(7)} | ${fmt(ms / wall('array'), 2).padStart(9)} |`;
};
const table = [
  `| ${`way (${N} tasks of \`true\`)`.padEnd(44)} | wall (s) | tasks/s | ÷ array   |`,
  `| ${'-'.repeat(44)} | -------- | ------- | --------- |`,
  ...(results.ways.jobmon ? [row('jobmon', `jobmon run, slurm cluster (pollMs ${POLL_MS})`)] : []),
  ...(results.ways.loop ? [row('loop', 'loop of sbatch --wrap true')] : []),
  ...(results.ways.array ? [row('array', `sbatch --array=0-${N - 1} --wrap true`)] : []),
];
results.ratios = {
  jobmonOverArray: wall('jobmon') / wall('array'),
  jobmonOverLoop: wall('jobmon') / wall('loop'),
};
log('');
for (const l of table) log(l);
log('');
log(
  `ratios: jobmon/array ${fmt(results.ratios.jobmonOverArray, 2)} (target < 2: ${results.ratios.jobmonOverArray < 2 ? 'PASS' : 'FAIL'}), ` +
    `jobmon/loop ${fmt(results.ratios.jobmonOverLoop, 2)}`,
);
mkdirSync(join(HERE, 'results'), { recursive: true });
writeFileSync(join(HERE, 'results/slurm-latest.json'), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(HERE, 'results/slurm-latest.md'), `${results.command}\n\n${table.join('\n')}\n`);
const failed = Object.values(results.ways)
  .flat()
  .some((r) => !r.ok);
process.exit(failed ? 1 : 0);
