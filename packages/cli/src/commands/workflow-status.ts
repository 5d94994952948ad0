// `jobmon workflow status <id>`: the workflow's status, its tasks grouped as `jobmon run` groups
// them (summary.ts) with the per-status detail, the last run, and failures. Names, statuses and
// messages come from the database and are printed through printable().

import type { Command } from 'commander';
import { cliConnect } from '../connect.js';
import { resolveWorkflow, workflowRef } from '../workflow-ref.js';
import { nextStep, printFailures } from '../report.js';
import { outcome, outcomeLine } from '../summary.js';
import { jsonLine, printable } from '../text.js';
import {
  LIVE_RUN_STATES,
  formatDuration as duration,
  type WorkflowDetailT,
  type WorkflowProgressT,
} from '@jobmon/core';

const GROUPS = ['PENDING', 'SCHEDULED', 'RUNNING', 'DONE', 'FATAL'] as const;

/** Per-template counts as an aligned table, the elapsed time, and the estimate with how it was made. */
function printProgress(p: WorkflowProgressT, out: (line: string) => void): void {
  const rows = [
    ['TEMPLATE', ...GROUPS, 'RUNTIME'],
    ...p.templates.map((t) => [
      t.name,
      ...GROUPS.map((g) => String(t.counts[g])),
      t.runtimeSeconds === null ? '?' : `${duration(t.runtimeSeconds)} (${t.runtimeSource})`,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows)
    out(
      `  ${r.map((c, i) => (i === 0 || i === r.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`.trimEnd(),
    );
  if (p.elapsedMs !== null) out(`  elapsed: ${duration(p.elapsedMs / 1000)}`);
  if (p.eta === null) out(`  estimate: none (${p.etaReason ?? 'unknown'})`);
  else if (p.eta.high === 0) out(`  estimate: ${p.eta.method}`);
  else {
    out(
      `  estimate: done in about ${duration(p.eta.seconds)} (between ${duration(p.eta.low)} and ${duration(p.eta.high)})`,
    );
    out(`  how: ${p.eta.method}`);
  }
}

/**
 * `last run: #4, running (heartbeat 2s ago)`: the run's number marked as one (not a task count),
 * its state in words, and the heartbeat's age only while the run is live (an ended run's last
 * heartbeat only ages).
 */
export function lastRunLine(run: NonNullable<WorkflowDetailT['lastRun']>, now = Date.now()): string {
  const state = run.status.toLowerCase().replace(/_/g, ' ');
  if (run.status === 'REGISTERED') return `last run: #${run.id}, ${state}`;
  if (!LIVE_RUN_STATES.includes(run.status)) return `last run: #${run.id}, ${state} (ended)`;
  return `last run: #${run.id}, ${state} (heartbeat ${Math.max(0, Math.round((now - run.heartbeatAt) / 1000))}s ago)`;
}

/** A limit this large is no limit (the default when a workflow sets none; --json keeps the number). */
const NO_LIMIT = 2_147_483_647;

/** The workflow's concurrency limit in words. */
export function concurrencyLine(max: number): string {
  if (max >= NO_LIMIT) return 'concurrency: no limit';
  if (max === 0) return 'concurrency: paused (limit 0: nothing new starts)';
  return `concurrency: at most ${max} task${max === 1 ? '' : 's'} at once`;
}

export function registerWorkflowStatus(workflow: Command): void {
  workflow
    .command('status')
    .description('show a workflow: status, task counts, last run, failed tasks')
    .argument('<workflow>', 'workflow id or exact name', workflowRef)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Examples:
  jobmon workflow status 42
  jobmon workflow status flu_2020 --json

Exit code 1 when the workflow is FAILED (its last run ended with tasks failed), 0 otherwise.`,
    )
    .action(async (ref: string, opts: { json?: boolean }) => {
      const conn = await cliConnect();
      try {
        const wid = await resolveWorkflow(conn.api, ref);
        const detail = await conn.api.getWorkflow({ id: wid });
        const { errors } = await conn.api.getWorkflowErrors({ id: wid, query: { limit: 100 } });
        const progress = await conn.api.getWorkflowProgress({ id: wid });
        if (opts.json) {
          const { templates, eta, etaReason, elapsedMs } = progress;
          const extra = { templates, eta, ...(etaReason !== undefined ? { etaReason } : {}), elapsedMs };
          console.log(jsonLine({ ...detail, outcome: outcome(detail.counts), ...extra, errors }, 2));
        } else {
          const out = (line: string) => console.log(printable(line));
          out(`workflow ${detail.id} '${detail.name}': ${detail.status}`);
          if (detail.owner !== null) out(`  owner: ${detail.owner}`);
          const byStatus = Object.entries(detail.counts)
            .map(([s, n]) => `${n} ${s}`)
            .join(', ');
          out(`  tasks: ${outcomeLine(outcome(detail.counts))}${byStatus === '' ? '' : ` (${byStatus})`}`);
          out(`  ${concurrencyLine(detail.maxConcurrentlyRunning)}`);
          if (detail.lastRun) out(`  ${lastRunLine(detail.lastRun)}`);
          printProgress(progress, out);
          printFailures(errors);
          if (detail.status === 'FAILED') out(nextStep(detail.id, errors, 'run its file again'));
          out(`state: ${conn.stateLocation}`);
        }
        if (detail.status === 'FAILED') process.exitCode = 1;
      } finally {
        await conn.close();
      }
    });
}
