// Failure report: each failed task, its error class and the tail of its error output. Names, tails
// and messages come from tasks and the database, so each is printed through printable().

import type { TaskErrorT } from '@jobmon/core';
import { printable } from './text.js';

const CLASS_LABEL: Record<string, string> = {
  application: 'application error (the command failed)',
  resource: 'resource error (killed for memory or runtime)',
  infrastructure: "infrastructure error (not the command's fault)",
  killed: 'killed (stop or resume)',
};

/**
 * What to do after a workflow failed: read why (the first failed task's log, or the errors grouped),
 * fix the cause (a command, or its data), then run it again. `again` is how to run it again besides
 * a resume ("run it again", "run its file again").
 */
export function nextStep(workflowId: number, errors: readonly Pick<TaskErrorT, 'taskId'>[], again: string): string {
  const see = errors[0]
    ? `jobmon task logs ${errors[0].taskId} (or jobmon workflow errors ${workflowId})`
    : `jobmon workflow errors ${workflowId}`;
  return `see why: ${see}; fix the cause, then ${again} or jobmon workflow resume ${workflowId}: only unfinished tasks will run.`;
}

export function printFailures(errors: TaskErrorT[], out: (line: string) => void = (l) => console.log(l)): void {
  if (errors.length === 0) return;
  out(`failed tasks (${errors.length}):`);
  for (const e of errors) {
    const exit = e.exitCode === null ? '' : `, exit code ${e.exitCode}`;
    out(
      `  ✗ ${printable(e.taskName)} (task ${e.taskId}, instance ${e.instanceId}): ${printable(CLASS_LABEL[e.errorClass] ?? e.errorClass)}${exit}`,
    );
    const tail = printable(e.stderrTail ?? '').trimEnd();
    const text = tail !== '' ? tail : printable(e.message);
    for (const line of text.split('\n').slice(-5)) out(`      ${line}`);
  }
}
