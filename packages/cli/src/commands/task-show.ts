// `jobmon task show <id>`: a task and every attempt of it (GET /tasks/{id}): state and error class,
// exit code, error text, resources asked (after scaling) and used, node, distributor id, log paths
// (and Slurm's own log for attempts Slurm ran). Everything from the database goes through printable().

import type { Command } from 'commander';
import { NotFoundError } from '@jobmon/core';
import { positiveInt } from '../args.js';
import { cliConnect } from '../connect.js';
import { paintDim, paintStatus, useColour, bytes, duration, localTimeSeconds } from '../table.js';
import { resourcesLine, slurmLogPath } from '../task-attempts.js';
import { jsonLine, printable } from '../text.js';

/** Most lines of an attempt's error text shown (the last ones); --json has all of it. */
const ERROR_LINES = 10;

export function registerTaskShow(task: Command): void {
  task
    .command('show')
    .description('show a task and every attempt of it: state, exit code, error, resources, node, logs')
    .argument('<id>', 'task id', positiveInt)
    .option('--json', 'print JSON: the GET /tasks/{id} answer, each attempt with slurmLogPath added')
    .addHelpText(
      'after',
      `
Examples:
  jobmon task show 1234
  jobmon task show 1234 --json | jq '.attempts[-1].errorMessage'`,
    )
    .action(async (id: number, opts: { json?: boolean }) => {
      const conn = await cliConnect();
      try {
        const t = await conn.api.getTask({ id }).catch((e: unknown) => {
          // Say where it looked: a task id from another database (JOBMON_HOME, JOBMON_URL) is a common slip.
          if (e instanceof NotFoundError)
            throw new NotFoundError(`${e.message} in ${conn.stateLocation}`, {
              ...e.details,
              stateLocation: conn.stateLocation,
            });
          throw e;
        });
        if (opts.json) {
          console.log(
            jsonLine({ ...t, attempts: t.attempts.map((a) => ({ ...a, slurmLogPath: slurmLogPath(a) })) }, 2),
          );
          return;
        }
        const colour = useColour();
        const out = (line: string) => console.log(line);
        const p = printable;
        out(
          `task ${t.id} '${p(t.name)}' (workflow ${t.workflowId} '${p(t.workflowName)}', template ${p(t.template)}): ${paintStatus(p(t.status), t.status, colour)}`,
        );
        out(
          `  attempts: ${t.numAttempts} of ${t.maxAttempts}${t.infraFailures > 0 ? `, ${t.infraFailures} infrastructure failures` : ''}`,
        );
        out(`  command: ${p(t.command)}`);
        if (t.attempts.length === 0) out('  no attempt yet');
        for (const a of t.attempts) {
          const cls = a.errorClass === null ? '' : ` (${a.errorClass})`;
          const exit = a.exitCode === null ? '' : `, exit code ${a.exitCode}`;
          out('');
          out(
            `attempt ${a.attempt}  instance ${a.id}  ${paintStatus(p(a.status), a.status, colour)}${p(cls)}${exit}  ${paintDim(localTimeSeconds(a.createdAt), colour)}`,
          );
          out(
            p(
              `  where: cluster ${a.cluster}, queue ${a.queue}, node ${a.nodeName ?? '-'}, distributor id ${a.distributorId ?? '-'}`,
            ),
          );
          out(p(`  asked: ${resourcesLine(a.resources)}`));
          out(`  used: wall time ${duration(a.wallTimeMs)}, peak memory ${bytes(a.peakMemoryBytes)}`);
          out(p(`  stdout: ${a.stdoutPath ?? '- (not recorded)'}`));
          out(p(`  stderr: ${a.stderrPath ?? '- (not recorded)'}`));
          const slurmLog = slurmLogPath(a);
          if (slurmLog !== null) out(p(`  slurm log: ${slurmLog}`));
          if (a.cleanup !== null) out(p(`  cleanup: ${a.cleanup}`));
          if (a.errorMessage !== null) {
            const lines = p(a.errorMessage).trimEnd().split('\n');
            out(`  error:${lines.length > ERROR_LINES ? ` (last ${ERROR_LINES} of ${lines.length} lines)` : ''}`);
            for (const l of lines.slice(-ERROR_LINES)) out(`    ${l}`);
          }
        }
        if (t.attempts.length > 0) out(`\nlogs: jobmon task logs ${t.id} [--attempt N]`);
      } finally {
        await conn.close();
      }
    });
}
