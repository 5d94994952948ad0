// `jobmon task deps <id> [--up|--down] [--depth N|all]`: the tasks upstream (the default) or
// downstream of a task, nearest first (GET /tasks/{id}/deps). At most 10,000 are listed; the
// answer says when there were more. Names come from the database and go through printable().

import { InvalidArgumentError, type Command } from 'commander';
import { ValidationError } from '@jobmon/core';
import { positiveInt } from '../args.js';
import { cliConnect } from '../connect.js';
import { tableLines, useColour } from '../table.js';
import { jsonLine, printable } from '../text.js';

/** `--depth`: a whole number ≥ 0, or `all`; 0 and `all` both mean no limit. */
export function depthArg(v: string): number {
  if (v === 'all') return 0;
  if (!/^\d{1,7}$/.test(v) || Number(v) > 1_000_000)
    throw new InvalidArgumentError(
      `must be a whole number from 0 to 1000000, or 'all' (0 and all: no limit), got '${v}'.`,
    );
  return Number(v);
}

export function registerTaskDeps(task: Command): void {
  task
    .command('deps')
    .description('list the tasks upstream (default) or downstream of a task, nearest first')
    .argument('<id>', 'task id', positiveInt)
    .option('--up', 'the tasks it waits for (the default)')
    .option('--down', 'the tasks that wait for it')
    .option('--depth <n>', "how many edges away: 1 (default) is direct neighbours; 0 or 'all' is no limit", depthArg)
    .option(
      '--json',
      'print JSON: {taskId, direction: "up"|"down", depth (0: no limit), tasks: [{id, name, template, status, depth}], truncated}',
    )
    .addHelpText(
      'after',
      `
Nearest first, then by id. At most 10,000 tasks are listed; with more, the nearest are, and the
output says so ("truncated": true in JSON).

Examples:
  jobmon task deps 1234                 # what 1234 waits for directly
  jobmon task deps 1234 --down --depth all
  jobmon task deps 1234 --depth 3 --json | jq '.tasks[] | select(.status != "DONE")'`,
    )
    .action(async (id: number, opts: { up?: boolean; down?: boolean; depth?: number; json?: boolean }) => {
      if (opts.up && opts.down)
        throw new ValidationError('--up and --down exclude each other: give one of them', { field: 'direction' });
      const direction = opts.down ? 'down' : 'up';
      const conn = await cliConnect();
      try {
        const r = await conn.api.getTaskDeps({ id, query: { direction, depth: opts.depth ?? 1 } });
        if (opts.json) {
          console.log(jsonLine(r, 2));
          return;
        }
        const what = direction === 'up' ? 'upstream' : 'downstream';
        const within = r.depth === 0 ? 'at any depth' : r.depth === 1 ? 'directly' : `within ${r.depth} edges`;
        if (r.tasks.length === 0) {
          console.log(`task ${id} has no ${what} tasks ${within}`);
          return;
        }
        const rows = r.tasks.map((t) => [String(t.id), t.name, t.template, t.status, String(t.depth)]);
        for (const line of tableLines(['ID', 'NAME', 'TEMPLATE', 'STATUS', 'DEPTH'], rows, {
          colour: useColour(),
          statusColumn: 3,
        }))
          console.log(line);
        const notDone = r.tasks.filter((t) => t.status !== 'DONE').length;
        console.log(
          printable(
            `${r.tasks.length} ${what} task${r.tasks.length === 1 ? '' : 's'} ${within}, ${notDone} not DONE` +
              (r.truncated ? '; there are more: only the nearest 10,000 are listed' : ''),
          ),
        );
      } finally {
        await conn.close();
      }
    });
}
