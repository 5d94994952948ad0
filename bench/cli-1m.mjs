// `npm run bench:cli`: issue 9's read benchmark. Writes a workflow of BENCH_CLI_N (default 1,000,000)
// tasks with history (instances, 3 attempts on some tasks, ~10% of N error rows) plus 1,000 small
// workflows, in bulk (INSERT ... SELECT over a number series, one transaction per table), on SQLite
// and on PostgreSQL (BENCH_PG_URL admin URL; a fresh database, dropped at the end). Then starts
// `jobmon server` on it and times `workflow status|list|errors|tasks --limit 100` (spawn to first
// stdout byte, and exit; 5 runs, median), `jobmon --version` as the floor, and the raw HTTP routes.
// Writes bench/results/cli-1m.{json,md}. BENCH_CLI_DBS="sqlite postgres" picks the databases;
// BENCH_CLI_KEEP=1 keeps the written databases (their paths/URLs are printed) for EXPLAIN.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { normaliseMessage } from '../packages/core/dist/index.js';
import { openDb } from '../packages/server/dist/db/connect.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const CLI = resolve(HERE, '../packages/cli/bin/jobmon.js');
const N = Number(process.env.BENCH_CLI_N ?? 1_000_000);
const OTHERS = 1000;
const RUNS = 5;
const PG_ADMIN = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DBS = (process.env.BENCH_CLI_DBS ?? 'sqlite postgres').split(/\s+/).filter(Boolean);
const KEEP = process.env.BENCH_CLI_KEEP === '1';
const WORK = mkdtempSync(join(tmpdir(), 'jobmon-bench-cli-'));
const T0 = Date.now() - 86_400_000;
const log = (s) => process.stdout.write(`${s}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// Each table as INSERT ... SELECT over n in [a, b]; `src(a, b)` is the dialect's number series.
// Task n: n%50=1 ERROR_FATAL (its instance errored), n%100=2 RUNNING, 3 QUEUED, 4 REGISTERING (no
// instance), n%25=0 three attempts (two errored instances first), the rest DONE.
const ERR_SQL = `case (n % 20)
  when 0 then 'FileNotFoundError: /data/input/part_' || n || '.csv'
  when 1 then 'MemoryError: could not allocate ' || (n * 37 % 9000) || ' MB'
  when 2 then 'KeyError: ''location_' || (n % 977) || ''''
  when 3 then 'ValueError: bad shape (' || (n % 311) || ', 12)'
  when 4 then 'TimeoutError: db query took ' || (n % 600) || ' s'
  when 5 then 'OSError: [Errno 28] No space left on device: /scratch/u' || (n % 50) || '/tmp'
  when 6 then 'ZeroDivisionError: division by zero in step ' || (n % 17)
  when 7 then 'RuntimeError: model did not converge after ' || (n % 1000) || ' iterations'
  when 8 then 'IndexError: index ' || n || ' out of range'
  when 9 then 'PermissionError: /ihme/data/' || (n % 90) || '/out.h5'
  else 'Exception ' || (n % 20) || ': task failed with code ' || (n % 255) end`;
// normaliseMessage() of each ERR_SQL message, as SQL: the pattern the server writes with an error
// row (migration 0013). write() checks a sample of rows against normaliseMessage itself.
const PATTERN_SQL = `case (n % 20)
  when 0 then 'FileNotFoundError: <path>'
  when 1 then 'MemoryError: could not allocate <n> MB'
  when 2 then 'KeyError: ''<q>'''
  when 3 then 'ValueError: bad shape (<n>, <n>)'
  when 4 then 'TimeoutError: db query took <n> s'
  when 5 then 'OSError: [Errno <n>] No space left on device: <path>'
  when 6 then 'ZeroDivisionError: division by zero in step <n>'
  when 7 then 'RuntimeError: model did not converge after <n> iterations'
  when 8 then 'IndexError: index <n> out of range'
  when 9 then 'PermissionError: <path>'
  else 'Exception <n>: task failed with code <n>' end`;
function tableSql(src) {
  const inst = `case when n % 50 = 1 then 'ERROR' when n % 100 = 2 then 'RUNNING' else 'DONE' end`;
  return [
    [
      'node',
      N,
      (a, b) => `insert into node (id, hash, task_template_id) select n, 'n' || n, 1 + n % 10 from ${src(a, b)}`,
    ],
    [
      'edge',
      N,
      (a, b) =>
        `insert into edge (dag_id, upstream_node_id, downstream_node_id) select 1, n - 1000, n from ${src(a, b)} where n > 1000`,
    ],
    [
      'task',
      N,
      (a, b) => `insert into task (id, workflow_id, node_id, task_args_hash, task_template_version_id, name, command,
        status, status_at, num_attempts, max_attempts, infra_failures, max_infra_failures, cluster_id, queue_id,
        resources, resource_scales, fallback_queues)
        select n, 1, n, 'h', 1 + n % 10, 'task_' || n, 'python step.py --i ' || n,
        case when n % 50 = 1 then 'ERROR_FATAL' when n % 100 = 2 then 'RUNNING' when n % 100 = 3 then 'QUEUED'
             when n % 100 = 4 then 'REGISTERING' else 'DONE' end,
        ${T0} + n, case when n % 25 = 0 then 3 when n % 100 in (3, 4) then 0 else 1 end, 3, 0, 3, 1, 1, '{}', '{}', '[]'
        from ${src(a, b)}`,
    ],
    [
      'task_instance',
      N,
      (a, b) => `insert into task_instance (id, workflow_run_id, workflow_id, task_id, status, status_at, created_at,
        cluster_id, queue_id, resources, exit_code, error_class)
        select n, 1, 1, n, ${inst}, ${T0} + n, ${T0} + n, 1, 1, '{}',
        case when n % 50 = 1 then 1 else 0 end, case when n % 50 = 1 then 'application' end
        from ${src(a, b)} where n % 100 not in (3, 4)`,
    ],
    [
      'task_instance (retries)',
      N,
      (a, b) => `insert into task_instance (id, workflow_run_id, workflow_id, task_id, status, status_at, created_at,
        cluster_id, queue_id, resources, exit_code, error_class)
        select ${N} + 2 * (n / 25) - k, 1, 1, n, 'ERROR', ${T0} + n - k, ${T0} + n - k, 1, 1, '{}', 1, 'application'
        from ${src(a, b)} cross join (select 0 as k union all select 1) ks where n % 25 = 0`,
    ],
    [
      'task_instance_error',
      N,
      (
        a,
        b,
      ) => `insert into task_instance_error (task_instance_id, workflow_id, task_id, at, error_class, message, pattern)
        select ti.id, ti.workflow_id, ti.task_id, ti.status_at, 'application', ${ERR_SQL.replace(/\bn\b/g, 'ti.task_id')},
        ${PATTERN_SQL.replace('(n % 20)', '(ti.task_id % 20)')}
        from task_instance ti where ti.status = 'ERROR' and ti.task_id between ${a} and ${b}`,
    ],
  ];
}

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const p = s.address().port;
  await new Promise((r) => s.close(r));
  return p;
}

/** Creates the schema (the server's own migrations), then writes the rows; returns write ms. */
async function write(kind, target) {
  const db = await openDb(target);
  await db.close();
  const t = performance.now();
  let exec;
  let rowsOf;
  let close;
  let src;
  if (kind === 'sqlite') {
    const s = new Sqlite(target);
    s.pragma('journal_mode = WAL');
    s.pragma('synchronous = OFF');
    s.pragma('cache_size = -262144');
    s.exec(`create temp table nums (n integer primary key);
      insert into temp.nums with recursive c(n) as (select 1 union all select n + 1 from c where n < ${N}) select n from c`);
    exec = async (q) => s.exec(q);
    rowsOf = async (q) => s.prepare(q).all();
    close = async () => s.close();
    src = (a, b) => `(select n from temp.nums where n between ${a} and ${b}) s`;
  } else {
    const c = new pg.Client({ connectionString: target });
    await c.connect();
    exec = async (q) => c.query(q);
    rowsOf = async (q) => (await c.query(q)).rows;
    close = async () => c.end();
    src = (a, b) => `generate_series(${a}, ${b}) as s(n)`;
  }
  const now = T0;
  await exec(`insert into tool (id, name, created_at) values (1, 'bench', ${now});
    insert into tool_version (id, tool_id, created_at) values (1, 1, ${now})`);
  for (let k = 1; k <= 10; k++)
    await exec(`insert into task_template (id, tool_version_id, name, created_at) values (${k}, 1, 'template_${k}', ${now});
      insert into task_template_version (id, task_template_id, command_template, arg_hash, node_args, task_args, op_args, default_resources, created_at)
      values (${k}, ${k}, 'python step.py --i {i}', 'h', '[]', '[]', '[]', '{}', ${now})`);
  await exec(
    `insert into dag (id, hash, created_at, bound_at) select n, 'dag' || n, ${now}, ${now} from ${src(1, OTHERS + 1)}`,
  );
  await exec(`insert into workflow (id, tool_version_id, dag_id, args_hash, task_hash, workflow_args, name, description,
      status, max_concurrently_running, task_count, created_at, status_at, bound_at)
      select n, 1, n, 'a' || n, 't' || n, '{}', case when n = 1 then 'big' else 'wf_' || n end, '',
      case when n = 1 then 'FAILED' when n % 7 = 0 then 'FAILED' else 'DONE' end, 10000,
      case when n = 1 then ${N} else 5 end, ${now} + n * 1000, ${now} + n * 1000, ${now} + n * 1000 from ${src(1, OTHERS + 1)}`);
  await exec(`insert into workflow_run (id, workflow_id, status, "user", host, pid, jobmon_version, created_at, status_at,
      heartbeat_at, report_by) select n, n, case when n = 1 then 'ERROR' else 'DONE' end, 'bench', 'host', 1, '0.0.0',
      ${now} + n * 1000, ${now} + n * 1000, ${now} + n * 1000, ${now} + n * 1000 from ${src(1, OTHERS + 1)}`);
  const CH = 100_000;
  for (const [name, total, gen] of tableSql(src)) {
    const tt = performance.now();
    await exec('begin');
    for (let a = 1; a <= total; a += CH) {
      await exec(gen(a, Math.min(total, a + CH - 1)));
      process.stdout.write(`\r  ${kind}: ${name} ${Math.min(total, a + CH - 1)}/${total}`);
    }
    await exec('commit');
    log(` (${((performance.now() - tt) / 1000).toFixed(1)} s)`);
  }
  // The small workflows: 5 DONE tasks each (ids after the big one's), nodes 1..5.
  await exec(`insert into task (id, workflow_id, node_id, task_args_hash, task_template_version_id, name, command,
      status, status_at, num_attempts, max_attempts, infra_failures, max_infra_failures, cluster_id, queue_id,
      resources, resource_scales, fallback_queues)
      select ${N} + n, 2 + (n - 1) / 5, 1 + (n - 1) % 5, 'h', 1, 'small_' || n, 'true', 'DONE', ${now}, 1, 3, 0, 3, 1, 1,
      '{}', '{}', '[]' from ${src(1, OTHERS * 5)}`);
  if (kind === 'postgres')
    for (const tb of [
      'tool',
      'tool_version',
      'task_template',
      'task_template_version',
      'node',
      'dag',
      'workflow',
      'workflow_run',
      'task',
      'task_instance',
    ])
      await exec(`select setval(pg_get_serial_sequence('${tb}', 'id'), (select max(id) from ${tb}))`);
  for (const r of await rowsOf('select message, pattern from task_instance_error where id % 97 = 0'))
    if (normaliseMessage(r.message) !== r.pattern)
      throw new Error(`bench PATTERN_SQL is stale: ${JSON.stringify(r)} is ${normaliseMessage(r.message)}`);
  await exec(kind === 'sqlite' ? 'analyze' : 'analyze');
  await close();
  return performance.now() - t;
}

function timeChild(args, env) {
  return new Promise((res) => {
    const t = performance.now();
    let first = NaN;
    const c = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    c.stdout.on('data', () => {
      if (Number.isNaN(first)) first = performance.now() - t;
    });
    c.on('exit', (code) => res({ first, exit: performance.now() - t, code }));
  });
}

async function bench(kind) {
  let target;
  let pgName;
  if (kind === 'sqlite') target = join(WORK, 'jobmon.db');
  else {
    pgName = `jobmon_bench_cli_${Date.now().toString(36)}`;
    const a = new pg.Client({ connectionString: PG_ADMIN });
    await a.connect();
    await a.query(`create database ${pgName}`);
    await a.end();
    const u = new URL(PG_ADMIN);
    u.pathname = `/${pgName}`;
    target = u.toString();
  }
  try {
    log(`${kind}: writing ${N} tasks`);
    const writeMs = await write(kind, target);
    log(`${kind}: written in ${(writeMs / 1000).toFixed(1)} s`);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = spawn(process.execPath, [CLI, 'server', '--db', target, '--port', String(port)], {
      stdio: 'ignore',
    });
    try {
      for (let i = 0; i < 400; i++) {
        if ((await fetch(`${url}/api/v1/health`).catch(() => undefined))?.ok) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const env = { JOBMON_URL: url, JOBMON_HOME: join(WORK, 'home'), NO_COLOR: '1' };
      const cmds = [
        ['--version', ['--version'], []],
        [
          'workflow status',
          ['workflow', 'status', '1'],
          ['/workflows/1', '/workflows/1/errors?limit=100', '/workflows/1/progress'],
        ],
        ['workflow list', ['workflow', 'list'], ['/workflows']],
        ['workflow errors', ['workflow', 'errors', '1'], ['/workflows/1/error-groups']],
        [
          'workflow tasks --limit 100',
          ['workflow', 'tasks', '1', '--limit', '100'],
          ['/workflows/1', '/workflows/1/tasks?limit=100'],
        ],
      ];
      const rows = [];
      for (const [name, args, routes] of cmds) {
        const runs = [];
        for (let i = 0; i < RUNS; i++) runs.push(await timeChild(args, env));
        const http = [];
        for (let i = 0; i < RUNS && routes.length; i++) {
          const t = performance.now();
          for (const r of routes) {
            const res = await fetch(`${url}/api/v1${r}`);
            await res.arrayBuffer();
          }
          http.push(performance.now() - t);
        }
        const row = {
          command: name,
          firstByteMs: median(runs.map((r) => r.first)),
          exitMs: median(runs.map((r) => r.exit)),
          exitCode: runs[0].code,
          httpMs: http.length ? median(http) : null,
        };
        rows.push(row);
        log(
          `  ${kind} ${name.padEnd(28)} first ${row.firstByteMs.toFixed(0)} ms, exit ${row.exitMs.toFixed(0)} ms, http ${row.httpMs?.toFixed(0) ?? '—'} ms`,
        );
      }
      const pass = rows.filter((r) => r.command !== '--version').every((r) => r.firstByteMs <= 500);
      log(`${kind}: ${pass ? 'PASS' : 'FAIL'} (every command's first output ≤ 500 ms)`);
      return { kind, n: N, writeMs, rows, pass };
    } finally {
      server.kill('SIGTERM');
    }
  } finally {
    if (KEEP) log(`${kind}: kept ${target}`);
    else if (pgName) {
      const a = new pg.Client({ connectionString: PG_ADMIN });
      await a.connect();
      await a.query(`drop database if exists ${pgName} with (force)`);
      await a.end();
    }
  }
}

const results = [];
try {
  for (const kind of DBS) results.push(await bench(kind));
} finally {
  if (!KEEP) rmSync(WORK, { recursive: true, force: true });
}
mkdirSync(join(HERE, 'results'), { recursive: true });
writeFileSync(join(HERE, 'results/cli-1m.json'), JSON.stringify({ at: new Date().toISOString(), results }, null, 2));
const md = ['| db | command | first byte (ms) | exit (ms) | HTTP (ms) |', '|---|---|---|---|---|'];
for (const r of results)
  for (const x of r.rows)
    md.push(
      `| ${r.kind} | ${x.command} | ${x.firstByteMs.toFixed(0)} | ${x.exitMs.toFixed(0)} | ${x.httpMs?.toFixed(0) ?? '—'} |`,
    );
for (const r of results)
  md.push('', `${r.kind}: N=${r.n}, written in ${(r.writeMs / 1000).toFixed(1)} s — ${r.pass ? 'PASS' : 'FAIL'}`);
writeFileSync(join(HERE, 'results/cli-1m.md'), md.join('\n') + '\n');
log(md.join('\n'));
