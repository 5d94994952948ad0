// Status words on the command line, in any case: a state's name, or for tasks one of the groups the
// tables print (`workflow status`: PENDING, SCHEDULED, RUNNING, DONE, FATAL, and FAILED for FATAL).
// A bad word is a ValidationError naming the option (main.ts prints it and exits 2), before any
// request: the server's own answer names its route and querystring, which the user never typed.

import {
  PROGRESS_GROUP_OF,
  PROGRESS_GROUPS,
  TASK_STATES,
  ValidationError,
  WORKFLOW_STATES,
  type TaskStatus,
} from '@jobmon/core';

const inGroup = (g: string) => TASK_STATES.filter((s) => PROGRESS_GROUP_OF[s] === g);

/**
 * The task-status groups of `workflow status` and `GET /workflows/{id}/progress` (core's
 * PROGRESS_GROUP_OF), plus FAILED, the word `jobmon run` and `workflow status` use for FATAL.
 */
export const TASK_STATUS_GROUPS: Readonly<Record<string, readonly TaskStatus[]>> = {
  ...Object.fromEntries(PROGRESS_GROUPS.map((g) => [g, inGroup(g)])),
  FAILED: inGroup('FATAL'),
};

function words(option: string, v: string): string[] {
  const out = v
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s !== '');
  if (out.length === 0) throw new ValidationError(`${option}: give at least one status`, { field: option });
  return out;
}

function unknown(option: string, word: string, known: readonly string[], more = ''): ValidationError {
  return new ValidationError(`${option}: unknown status "${word}"; one of ${known.join(', ')}${more}`, {
    field: option,
    value: word,
  });
}

/** Commander's parser for a task-status option: states and groups, any case; the states, comma-separated. */
export function taskStatuses(option: string): (v: string) => string {
  return (v) => {
    const out = new Set<string>();
    for (const w of words(option, v)) {
      const group = (TASK_STATES as readonly string[]).includes(w) ? [w] : TASK_STATUS_GROUPS[w];
      if (group === undefined)
        throw unknown(option, w, TASK_STATES, `, or a group: ${Object.keys(TASK_STATUS_GROUPS).join(', ')}`);
      for (const s of group) out.add(s);
    }
    return [...out].join(',');
  };
}

/** Commander's parser for a workflow-status option: states, any case; comma-separated. */
export function workflowStatuses(option: string): (v: string) => string {
  return (v) => {
    const out = words(option, v);
    for (const w of out)
      if (!(WORKFLOW_STATES as readonly string[]).includes(w)) throw unknown(option, w, WORKFLOW_STATES);
    return [...new Set(out)].join(',');
  };
}

/** Commander's parser for one status among `choices`, any case. */
export function oneStatus<T extends string>(option: string, ...choices: T[]): (v: string) => T {
  return (v) => {
    const w = v.trim().toUpperCase();
    if (!(choices as string[]).includes(w)) throw unknown(option, v.trim(), choices);
    return w as T;
  };
}
