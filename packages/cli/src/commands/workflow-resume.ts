// `jobmon workflow resume <workflow> [--cold|--hot] [--keep-resources] [--here] [--detach]`: run what is
// left of a workflow from the database alone — its commands, resources, edges, clusters and the
// working directory its last run recorded — without the file or script that declared it. Exit 0
// when it ends DONE (or was DONE), 1 when tasks failed, 130 when interrupted; 2 and 3 as main.ts.

import type { Command } from 'commander';
import { ValidationError, resumeWorkflowById } from '@jobmon/client';
import { positiveInt } from '../args.js';
import { cliConnect } from '../connect.js';
import { DETACHED_ENV, detachSelf, detachedLines } from '../detach.js';
import { progressView } from '../progress.js';
import { nextStep, printFailures } from '../report.js';
import { jsonLine, printable } from '../text.js';
import { resolveWorkflow, workflowRef } from '../workflow-ref.js';

interface ResumeOptions {
  cold?: boolean;
  hot?: boolean;
  keepResources?: boolean;
  here?: boolean;
  detach?: boolean;
  parallelism?: number;
  quiet?: boolean;
  json?: boolean;
  run?: number;
}

export function registerWorkflowResume(workflow: Command): void {
  workflow
    .command('resume')
    .description('run what is left of a workflow, by its id or name: no workflow file or script needed')
    .argument('<workflow>', 'workflow id or exact name', workflowRef)
    .option('--cold', 'if a live run holds it: kill its running tasks and take over')
    .option('--hot', 'if a live run holds it: let its running tasks finish, then take over')
    .option('--keep-resources', 'keep resources as the last attempts left them (scaled after failures)')
    .option('--here', 'run in this directory, not in the one the workflow last ran in')
    .option(
      '--detach',
      'run in the background (survives the terminal closing); print the id, log file and how to watch',
    )
    .option('-p, --parallelism <n>', 'local distributor: commands at once (default: number of cores)', positiveInt)
    .option(
      '--run <runId>',
      'drive this run, which a Python or R client has bound already, here (run token: $JOBMON_RUN_TOKEN)',
      positiveInt,
    )
    .option('--quiet', 'no progress output')
    .option('--json', 'print one JSON summary line at the end (implies --quiet)')
    .addHelpText(
      'after',
      `
Unfinished tasks (not DONE) start again with fresh attempts; DONE tasks are kept. Commands,
resources, clusters and dependencies come from the database, and the commands run in the
directory the workflow's last run recorded (--here: in this one).

Examples:
  jobmon workflow resume 42
  jobmon workflow resume flu_2020
  jobmon workflow resume 42 --cold --detach
  jobmon workflow resume 42 --keep-resources --json

--run: the Python and R clients bind a workflow over HTTP, then start this command to run it;
progress lines stay on stderr with --json.

--json: {workflowId, name, runId, status, runStatus, alreadyDone, total, doneBefore, done, failed,
        notRun, elapsedMs, cwd, logDir, stateLocation, systemLog}
--detach --run: the Python and R clients bind a workflow over HTTP, then start this command to run it;
progress lines stay on stderr with --json.

--json: {workflowId, pid, logFile, watch}`,
    )
    .action(async (ref: string, opts: ResumeOptions) => {
      if (opts.cold && opts.hot)
        throw new ValidationError('--cold and --hot exclude each other; give one.', { field: '--cold/--hot' });
      if (opts.run !== undefined && (opts.cold || opts.hot || opts.keepResources || opts.detach))
        throw new ValidationError(
          '--run drives a run that is bound already: --cold, --hot, --keep-resources and --detach do not apply',
          {
            field: '--run',
          },
        );
      if (opts.detach && process.env[DETACHED_ENV] !== '1') {
        // The log file's name carries the workflow as given, reduced to safe characters.
        const d = await detachSelf(`workflow-${ref.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60)}`);
        if (opts.json) console.log(jsonLine({ ...d, watch: `jobmon workflow watch ${d.workflowId}` }));
        else for (const line of detachedLines(d)) console.log(printable(line));
        return;
      }
      if (opts.json && opts.run === undefined) opts.quiet = true;
      // The detached runner names its workflow first thing, so that its starter can say which.
      const say =
        opts.json && process.env[DETACHED_ENV] !== '1'
          ? (_: string) => undefined
          : (l: string) => console.log(printable(l));
      const conn = await cliConnect();
      const view = opts.quiet ? undefined : progressView(process.stderr);
      try {
        const wid = await resolveWorkflow(conn.api, ref);
        const r = await resumeWorkflowById(wid, {
          connection: conn,
          ...(opts.cold ? { mode: 'cold' as const } : opts.hot ? { mode: 'hot' as const } : {}),
          ...(opts.keepResources ? { keepResources: true } : {}),
          ...(opts.here ? { useRecordedCwd: false } : {}),
          ...(opts.parallelism ? { parallelism: opts.parallelism } : {}),
          ...(opts.run === undefined ? {} : { boundRun: boundRun(opts.run) }),
          onBound: ({ workflowId, runId, name, total, alreadyDone, cwd }) =>
            say(
              `workflow ${workflowId} '${name}': run ${runId} ${opts.run === undefined ? 'resumes' : 'runs'} ${total - alreadyDone} of ${total} tasks in ${cwd}`,
            ),
          ...(view ? { onProgress: (p) => view.update(p) } : {}),
          onWarning: (m) => process.stderr.write(`warning: ${printable(m)}\n`),
        });
        view?.stop();
        if (opts.json) console.log(jsonLine(r));
        else if (r.alreadyDone) say(`workflow ${r.workflowId} '${r.name}' is already DONE; nothing to run.`);
        else {
          say(
            `workflow ${r.workflowId} ended ${r.status} in ${(r.elapsedMs / 1000).toFixed(1)} s: ${r.done}/${r.total} done, ${r.failed} failed, ${r.notRun} not finished`,
          );
          if (r.failed > 0) {
            const { errors } = await conn.api.getWorkflowErrors({ id: r.workflowId, query: { limit: 20 } });
            printFailures(errors);
            say(nextStep(r.workflowId, errors, 'resume it again'));
          }
          if (r.logDir) say(`logs: ${r.logDir}`);
        }
        if (!opts.json) say(`state: ${r.stateLocation}`);
        process.exitCode = r.status === 'DONE' ? 0 : r.runStatus === 'STOPPED' ? 130 : 1;
      } finally {
        view?.stop();
        await conn.close();
      }
    });
}

function boundRun(runId: number): { runId: number; runToken?: string } {
  const token = process.env['JOBMON_RUN_TOKEN'];
  return token ? { runId, runToken: token } : { runId };
}
