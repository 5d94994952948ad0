// `jobmon wait <workflow> --for STATE[,STATE…] [--timeout 10m]`: block until the workflow enters
// any state of the mask (Flux's waitable states: the states are the mask), print the state it
// reached and exit 0; on timeout print where it is and exit 1. Fed by the event log: it reads the
// status once, then follows the workflow's events (a long poll), so it wakes on the change.
// A workflow that has ended (DONE, FAILED, HALTED, ABORTED) with no live run moves again only when
// resumed: waiting for another state is answered at once, with exit 1, rather than at the timeout.

import { InvalidArgumentError, type Command } from 'commander';
import { LIVE_RUN_STATES, WORKFLOW_STATES, type WorkflowDetailT, type WorkflowStatus } from '@jobmon/core';
import { cliConnect } from '../connect.js';
import { resolveWorkflow, workflowRef } from '../workflow-ref.js';
import { jsonLine, printable } from '../text.js';

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `10m`, `2h`, `1d`, or seconds: milliseconds. */
export function timeout(v: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(v);
  if (!m || Number(m[1]) <= 0) throw new InvalidArgumentError(`must be a duration such as 90s, 10m or 2h, got '${v}'.`);
  return Math.round(Number(m[1]) * UNITS[m[2] || 's']!);
}

/** A comma-separated set of workflow states; an unknown one is named with the known ones. */
export function workflowStates(v: string): WorkflowStatus[] {
  const out = v.split(',').map((s) => s.trim().toUpperCase());
  for (const s of out)
    if (!(WORKFLOW_STATES as readonly string[]).includes(s))
      throw new InvalidArgumentError(`'${s}' is not a workflow state (known: ${WORKFLOW_STATES.join(', ')}).`);
  return out as WorkflowStatus[];
}

/** States a workflow stays in until something (a resume, a reset) starts a run of it again. */
const ENDED: readonly string[] = ['DONE', 'FAILED', 'HALTED', 'ABORTED'];

/** Why `mask` cannot be reached from where the workflow is now, or null while it still may be. */
export function unreachable(
  w: Pick<WorkflowDetailT, 'id' | 'status' | 'lastRun'>,
  mask: readonly string[],
): string | null {
  if (mask.includes(w.status) || !ENDED.includes(w.status)) return null;
  if (w.lastRun !== null && LIVE_RUN_STATES.includes(w.lastRun.status)) return null;
  return `workflow ${w.id} is ${w.status} and no run is live: it will not become ${mask.join(' or ')} unless resumed`;
}

export function registerWait(program: Command): void {
  program
    .command('wait')
    .description('wait until a workflow enters one of the given states; print the state')
    .argument('<workflow>', 'workflow id or exact name', workflowRef)
    .requiredOption('--for <states>', `comma-separated workflow states (${WORKFLOW_STATES.join(', ')})`, workflowStates)
    .option('--timeout <duration>', 'give up after this long (90s, 10m, 2h): exit 1', timeout)
    .option('--json', 'print {"workflowId", "status", "reached"} as JSON (and "message" when it cannot be reached)')
    .addHelpText(
      'after',
      `
Examples:
  jobmon wait 42 --for DONE,FAILED,HALTED          # until the workflow ends, however it ends
  jobmon wait 42 --for RUNNING --timeout 10m        # until a run picks it up, at most 10 minutes
  jobmon wait 42 --for DONE && ./publish.sh         # exit 0 only once DONE (1 on timeout)
  jobmon wait 42 --for DONE,FAILED && jobmon workflow status 42   # status exits 1 if FAILED

Exit 0 when the workflow is in (or enters) one of the states, whichever; 1 on timeout, or at once
when the workflow has ended (DONE, FAILED, HALTED, ABORTED), no run is live, and none of the
states is the one it is in: it moves again only when resumed.`,
    )
    .action(async (ref: string, opts: { for: WorkflowStatus[]; timeout?: number; json?: boolean }) => {
      const conn = await cliConnect();
      let wid = 0;
      const deadline = opts.timeout === undefined ? Infinity : Date.now() + opts.timeout;
      const mask = new Set<string>(opts.for);
      const say = (status: string, reached: boolean, message?: string) => {
        if (opts.json) console.log(jsonLine({ workflowId: wid, status, reached, ...(message ? { message } : {}) }));
        else console.log(printable(reached ? status : (message ?? `timed out: workflow ${wid} is ${status}`)));
        if (!reached) process.exitCode = 1;
      };
      const stuck = (w: WorkflowDetailT) => {
        const why = unreachable(w, opts.for);
        if (why !== null) say(w.status, false, why);
        return why !== null;
      };
      try {
        wid = await resolveWorkflow(conn.api, ref);
        // Where the log is now first, then the status: a change in between is in the log.
        let after = (await conn.api.latestEvent()).last;
        const first = await conn.api.getWorkflow({ id: wid });
        if (stuck(first)) return;
        let status: string = first.status;
        while (!mask.has(status)) {
          const left = deadline - Date.now();
          if (left <= 0) return say(status, false);
          const r = await conn.api.followEvents({
            query: { after, workflowId: wid, entity: 'workflow', limit: 1000, waitMs: Math.min(30_000, left) },
          });
          after = r.last;
          for (const e of r.events) {
            if (e.entityId !== wid) continue;
            status = e.to;
            if (mask.has(status)) break;
          }
          // The run moves before its workflow does: once the workflow says it ended, its run has.
          if (!mask.has(status) && ENDED.includes(status) && stuck(await conn.api.getWorkflow({ id: wid }))) return;
        }
        say(status, true);
      } finally {
        await conn.close();
      }
    });
}
