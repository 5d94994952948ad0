// `npm run bench:worker [-- --runs N] [--slurm] [--slurm-runs N]`: the start-up cost of jobmon-worker,
// from its process's start to its first report (RUNNING) answered by the server, and the parts of
// it, medians of N runs, side by side with references measured in the same run: `sh -c true`,
// `node -e 0`, and `jobmon-worker --help` (node plus the worker's whole import graph).
//
// The worker's times come from the worker itself: with JOBMON_WORKER_TIMING=<file> it appends one
// JSON line per instance (packages/worker/src/startup-timing.ts). The instances are a chain of N
// `true` tasks run by `jobmon run` (so one worker starts at a time), on the `dummy` cluster (one
// worker process per instance, spawned by the runner) and, with --slurm, on a `slurm` cluster of
// the local Slurm (partition debug), where the process's start is the batch script's (it execs
// node), and Slurm's accounting start (whole seconds) gives a coarse job-start → report figure.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const CLI = join(ROOT, 'packages/cli/bin/jobmon.js');
const WORKER = join(ROOT, 'packages/worker/bin/jobmon-worker.js');
const USAGE = 'usage: node bench/worker-startup.mjs [--runs N] [--slurm] [--slurm-runs N] [--partition P]';

function fail(msg) {
  process.stderr.write(`bench/worker-startup.mjs: ${msg}\n${USAGE}\n`);
  process.exit(2);
}
const args = process.argv.slice(2);
function flag(name) {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) fail(`${name} needs a value`);
  return v;
}
function whole(name, fallback) {
  const v = flag(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000) fail(`${name} must be a whole number from 1 to 1000, got '${v}'`);
  return n;
}
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--slurm') continue;
  if (!['--runs', '--slurm-runs', '--partition'].includes(args[i])) fail(`unknown argument '${args[i]}'`);
  i++;
}
const RUNS = whole('--runs', 20);
const SLURM = args.includes('--slurm');
const SLURM_RUNS = whole('--slurm-runs', 10);
const PARTITION = flag('--partition') ?? 'debug';
const WORK = mkdtempSync(join(tmpdir(), 'jobmon-bench-worker-'));
const TAG = `jmwstart-${process.pid}`;

const log = (s) => process.stdout.write(`${s}\n`);
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '—');

/** Wall time of a command from spawn to exit, ms; fails on a non-zero exit. */
function wallOf(cmd, argv) {
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

/** Run a chain of `n` `true` tasks with `jobmon run` on `cluster`; return the worker's timing lines. */
function chainRun(name, n, cluster, config) {
  const dir = join(WORK, name);
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  if (config) writeFileSync(join(home, 'config.json'), JSON.stringify(config));
  const tasks = Array.from({ length: n }, (_, i) => ({
    name: `t_${i}`,
    template: 'noop',
    args: { i },
    command: 'true',
    ...(i > 0 ? { upstream: [`t_${i - 1}`] } : {}),
  }));
  const file = join(dir, 'workflow.json');
  writeFileSync(
    file,
    JSON.stringify({ name: `${TAG}-${name}`, tool: 'bench-worker', defaults: { cluster, max_attempts: 1 }, tasks }),
  );
  const timing = join(dir, 'timing.jsonl');
  const env = { ...process.env, JOBMON_HOME: home, JOBMON_WORKER_TIMING: timing };
  delete env.JOBMON_URL;
  delete env.JOBMON_CONFIG;
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [CLI, 'run', file, '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`jobmon run (${cluster}) exited ${code}: ${out.slice(-800)}`));
      const lines = existsSync(timing)
        ? readFileSync(timing, 'utf8')
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l))
        : [];
      if (lines.length !== n) return reject(new Error(`${lines.length} timing lines for ${n} workers in ${timing}`));
      done(lines);
    });
  });
}

/** The parts of each worker's start-up, in ms, medians over the lines. */
function parts(lines) {
  const m = (f) => median(lines.map(f));
  return {
    total: m((l) => l.runningAnswered - l.processStart),
    toNode: m((l) => l.nodeStart - l.processStart),
    nodeBootAndCompile: m((l) => l.modulesStart - l.nodeStart),
    evaluate: m((l) => l.modulesLoaded - l.modulesStart),
    toSend: m((l) => l.runningSent - l.modulesLoaded),
    ownPart: m((l) => l.runningSent - l.processStart),
    server: m((l) => l.runningAnswered - l.runningSent),
  };
}

const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const results = {
  started: new Date().toISOString(),
  command: `node bench/worker-startup.mjs ${args.join(' ')}`.trim(),
  machine: { cores: Number(execFileSync('nproc').toString().trim()), node: process.version, loadBefore: load() },
  runs: RUNS,
};
log(`worker start-up: ${RUNS} runs each, medians; load ${load()}`);

// References, interleaved so that a burst of load hits all of them alike.
const ref = { sh: [], node: [], help: [] };
for (let i = 0; i < RUNS; i++) {
  ref.sh.push(wallOf('sh', ['-c', 'true']));
  ref.node.push(wallOf(process.execPath, ['-e', '0']));
  ref.help.push(wallOf(process.execPath, [WORKER, '--help']));
}
results.references = { sh: median(ref.sh), node: median(ref.node), workerHelp: median(ref.help) };

try {
  results.dummy = parts(await chainRun('dummy', RUNS, 'dummy'));
  if (SLURM) {
    const lines = await chainRun('slurm', SLURM_RUNS, 'bench_slurm', {
      clusters: {
        bench_slurm: {
          type: 'slurm',
          options: { partition: PARTITION, pollMs: 500 },
          queues: [{ name: PARTITION, limits: { cores: [1, 2], memory: [1, 4096], runtime: [60, 86_400] } }],
        },
      },
    });
    results.slurm = parts(lines);
    // Slurm's own start of each job (whole seconds) → the worker's first report answered.
    const ids = lines.map((l) => l.slurmJobId).filter(Boolean);
    const acct = execFileSync('sacct', ['-X', '-n', '-P', '-o', 'JobID,Start', '-j', ids.join(',')], {
      encoding: 'utf8',
    });
    const start = new Map(
      acct
        .trim()
        .split('\n')
        .map((l) => l.split('|')),
    );
    results.slurm.acctStartToReport = median(
      lines.map((l) => l.runningAnswered - new Date(start.get(String(l.slurmJobId)) ?? NaN).getTime()),
    );
  }
} finally {
  rmSync(WORK, { recursive: true, force: true });
}
results.machine.loadAfter = load();

const r = results.references;
const rows = [
  ['`sh -c true` (spawn → exit)', r.sh],
  ['`node -e 0` (spawn → exit)', r.node],
  ['`jobmon-worker --help` (node + the import graph)', r.workerHelp],
];
const w = (name, p) => [
  [`${name}: process start → RUNNING answered`, p.total],
  [`  process start → node's time origin`, p.toNode],
  [`  node's boot, resolving and compiling the modules`, p.nodeBootAndCompile],
  [`  evaluating the modules`, p.evaluate],
  [`  → RUNNING sent (args, requester)`, p.toSend],
  [`  worker's own part: process start → RUNNING sent`, p.ownPart],
  [`  server's part: RUNNING sent → answered`, p.server],
];
const table = [
  '| measured (median)                                        |     ms | ÷ node -e 0 |',
  '| -------------------------------------------------------- | -----: | ----------: |',
  ...[...rows, ...w('dummy', results.dummy), ...(results.slurm ? w('slurm', results.slurm) : [])].map(
    ([label, ms]) => `| ${label.padEnd(56)} | ${fmt(ms).padStart(6)} | ${fmt(ms / r.node, 2).padStart(11)} |`,
  ),
  ...(results.slurm
    ? [
        `| ${'slurm: sacct Start (whole s) → RUNNING answered'.padEnd(56)} | ${fmt(results.slurm.acctStartToReport).padStart(6)} | ${fmt(results.slurm.acctStartToReport / r.node, 2).padStart(11)} |`,
      ]
    : []),
];
log('');
for (const l of table) log(l);
log(`\nload after: ${results.machine.loadAfter}`);
mkdirSync(join(HERE, 'results'), { recursive: true });
writeFileSync(join(HERE, 'results/worker-startup-latest.json'), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(HERE, 'results/worker-startup-latest.md'), `${results.command}\n\n${table.join('\n')}\n`);
