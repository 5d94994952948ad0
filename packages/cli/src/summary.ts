// The one grouping of task statuses the CLI shows: done, failed (ERROR_FATAL: out of attempts) and
// not finished (everything else: waiting, never started, retrying, stopped). `jobmon run`'s summary
// and `jobmon workflow status` both count through here, so they never disagree.

export interface Outcome {
  total: number;
  done: number;
  failed: number;
  notFinished: number;
}

/** Group counts by task status (any status names; unknown ones are "not finished"). */
export function outcome(byStatus: Readonly<Record<string, number>>): Outcome {
  let total = 0;
  for (const n of Object.values(byStatus)) total += n;
  const done = byStatus['DONE'] ?? 0;
  const failed = byStatus['ERROR_FATAL'] ?? 0;
  return { total, done, failed, notFinished: total - done - failed };
}

/** Count a list of task statuses (the run's final statuses) the same way. */
export function outcomeOf(statuses: Iterable<string>): Outcome {
  const byStatus: Record<string, number> = {};
  for (const s of statuses) byStatus[s] = (byStatus[s] ?? 0) + 1;
  return outcome(byStatus);
}

/** "109/112 done, 1 failed, 2 not finished (1 stopped while running)". */
export function outcomeLine(o: Outcome, stoppedWhileRunning = 0): string {
  const stopped = stoppedWhileRunning > 0 ? ` (${stoppedWhileRunning} stopped while running)` : '';
  return `${o.done}/${o.total} done, ${o.failed} failed, ${o.notFinished} not finished${stopped}`;
}
