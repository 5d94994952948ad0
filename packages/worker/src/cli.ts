// `jobmon-worker --instance-id N [--url URL] [--log-dir DIR] [--heartbeat-ms MS] [--kill-grace-ms MS] [--under slurm]`
// Arguments are parsed by hand to keep the worker's start-up small.

// First: its mark of when module loading started is taken before the other modules load.
import { mark } from './startup-timing.js';
import { DEFAULT_LOG_CAP_BYTES } from './capped-log.js';
import { runWorker } from './worker.js';

mark('modulesLoaded');

const USAGE =
  'usage: jobmon-worker --instance-id N [--url URL] [--log-dir DIR] [--heartbeat-ms MS] [--kill-grace-ms MS] [--under slurm]';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`jobmon-worker: ${name} must be a whole number ≥ 1, got '${value}'\n${USAGE}\n`);
    process.exit(2);
  }
  return n;
}

function factor(value: string | undefined): number {
  const n = Number(value ?? 3.1);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`jobmon-worker: JOBMON_REPORT_BY_FACTOR must be a positive number, got '${value}'\n`);
    process.exit(2);
  }
  return n;
}

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const instanceId = positive('--instance-id', arg('--instance-id'), 0);
if (instanceId === 0) {
  process.stderr.write(`jobmon-worker: --instance-id is required\n${USAGE}\n`);
  process.exit(2);
}
const url = arg('--url') ?? process.env['JOBMON_URL'];
if (!url) {
  process.stderr.write(`jobmon-worker: no server: pass --url or set JOBMON_URL\n${USAGE}\n`);
  process.exit(2);
}
// Started by a cluster that reports deaths by its own signals (JOBMON_WORKER_UNDER=slurm).
const under = arg('--under') ?? process.env['JOBMON_WORKER_UNDER'];
if (under !== undefined && under !== '' && under !== 'slurm') {
  process.stderr.write(`jobmon-worker: --under (JOBMON_WORKER_UNDER) must be 'slurm', got '${under}'\n${USAGE}\n`);
  process.exit(2);
}
const token = process.env['JOBMON_TOKEN'];
const code = await runWorker({
  ...(under === 'slurm' ? { under } : {}),
  ...(token ? { token } : {}),
  instanceId,
  url,
  logDir: arg('--log-dir') ?? process.env['JOBMON_LOG_DIR'] ?? process.cwd(),
  heartbeatMs: positive('--heartbeat-ms', arg('--heartbeat-ms') ?? process.env['JOBMON_INSTANCE_HEARTBEAT_MS'], 90_000),
  killGraceMs: positive('--kill-grace-ms', arg('--kill-grace-ms'), 10_000),
  reportByFactor: factor(process.env['JOBMON_REPORT_BY_FACTOR']),
  logCapBytes: positive('JOBMON_LOG_CAP_BYTES', process.env['JOBMON_LOG_CAP_BYTES'], DEFAULT_LOG_CAP_BYTES),
});
process.exit(code);
