// `jobmon run <file>`: run a workflow described as data (JSON or YAML). Exit 0 when the workflow
// is DONE (now or already), 1 when it ended with failures, 130 when interrupted; bad input (2) and
// not found (3) are main.ts's. Names and output are printed through printable().

import type { Command } from 'commander';
import { WorkflowNotResumableError } from '@jobmon/client';
import { oneOf, positiveInt } from '../args.js';
import { cliConnect } from '../connect.js';
import { DETACHED_ENV, detachSelf, detachedLines } from '../detach.js';
import { parseWorkflowFile, toWorkflow } from '../workflow-file.js';
import { progressView } from '../progress.js';
import { nextStep, printFailures } from '../report.js';
import { outcomeLine, outcomeOf } from '../summary.js';
import { jsonLine, printable } from '../text.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a workflow described in a JSON or YAML file (see docs/workflow-file.md)')
    .argument('<file>', 'workflow file (.json, .yaml or .yml)')
    .option('-p, --parallelism <n>', 'local distributor: commands at once (default: number of cores)', positiveInt)
    .option('--quiet', 'no progress output')
    .option('--json', 'print one JSON summary line at the end (implies --quiet)')
    .option(
      '--detach',
      'run in the background (survives the terminal closing); print the workflow id, the log file and how to watch it',
    )
    .option(
      '--resume <mode>',
      "if another process's run holds the workflow, take over: 'cold' kills its running tasks, 'hot' lets them finish",
      oneOf('cold', 'hot'),
    )
    .addHelpText(
      'after',
      `
Examples:
  jobmon run workflow.yaml                 # progress on stderr, a report at the end
  jobmon run workflow.yaml -p 8 --json     # 8 commands at once; one JSON summary line
  jobmon run workflow.yaml --detach        # in the background; prints the id and log file
  jobmon run workflow.yaml --resume cold   # take over from a run another process holds`,
    )
    .action(
      async (
        file: string,
        opts: { parallelism?: number; quiet?: boolean; json?: boolean; resume?: 'cold' | 'hot'; detach?: boolean },
      ) => {
        if (opts.detach && process.env[DETACHED_ENV] !== '1') {
          const d = await detachSelf('run');
          if (opts.json) console.log(jsonLine({ ...d, watch: `jobmon workflow watch ${d.workflowId}` }));
          else for (const line of detachedLines(d)) console.log(printable(line));
          return;
        }
        if (opts.json) opts.quiet = true;
        // A detached runner always names its workflow first: its starter waits for that line.
        const sayBound =
          opts.json && process.env[DETACHED_ENV] !== '1'
            ? (_: string) => undefined
            : (l: string) => console.log(printable(l));
        const say = opts.json ? (_: string) => undefined : (line: string) => console.log(printable(line));
        // Boot the (embedded) server while the file is read, declared and hashed.
        const connecting = cliConnect();
        connecting.catch(() => undefined);
        let spec: ReturnType<typeof parseWorkflowFile>;
        let workflow: ReturnType<typeof toWorkflow>;
        try {
          spec = parseWorkflowFile(file);
          workflow = toWorkflow(file, spec);
          workflow.prepare();
        } catch (e) {
          await connecting.then((c) => c.close()).catch(() => undefined);
          throw e;
        }
        spec.tasks.length = 0; // the declarations now live in `workflow`; let the parsed file go
        const conn = await connecting;
        const view = opts.quiet ? undefined : progressView(process.stderr);
        try {
          const result = await workflow
            .run({
              connection: conn,
              ...(opts.parallelism ? { parallelism: opts.parallelism } : {}),
              ...(opts.resume ? { resume: opts.resume } : {}),
              onBound: ({ workflowId, resumed, total, alreadyDone }) => {
                const resumeNote = resumed && alreadyDone < total ? `, resuming: ${alreadyDone} already done` : '';
                sayBound(`workflow ${workflowId} '${spec.name}': ${total} tasks${resumeNote}`);
              },
              ...(view ? { onProgress: (p) => view.update(p) } : {}),
              onWarning: (m) => process.stderr.write(`warning: ${printable(m)}\n`),
            })
            .catch((e: unknown) => {
              if (e instanceof WorkflowNotResumableError && typeof e.details['runId'] === 'number' && !opts.resume) {
                // Another runner holds it (on another host, or alive here): say exactly how to take over.
                const how = `jobmon run ${quoteArg(file)} --resume cold   # kill its running tasks and take over\n  jobmon run ${quoteArg(file)} --resume hot    # let its running tasks finish, then take over`;
                throw new WorkflowNotResumableError(`${e.message}\nto take it over from here:\n  ${how}`, e.details);
              }
              throw e;
            });
          view?.stop();
          if (opts.json) {
            const { tasks: _tasks, errors, ...summary } = result;
            console.log(jsonLine({ ...summary, runMs: result.elapsedMs - result.bindMs, errors: errors.slice(0, 20) }));
          } else if (result.alreadyDone) {
            say(`workflow ${result.workflowId} '${spec.name}' is already DONE; nothing to run.`);
          } else {
            const secs = (result.elapsedMs / 1000).toFixed(1);
            const counts = outcomeOf(result.tasks.map((t) => t.status));
            say(
              `workflow ${result.workflowId} ended ${result.status} in ${secs} s: ${outcomeLine(counts, result.stopped)}`,
            );
            if (result.failed > 0) printFailures(result.errors);
            if (result.runStatus === 'STOPPED') {
              say(`stopped: run the same command again to resume (finished tasks are kept).`);
            } else if (result.runStatus === 'TERMINATED') {
              say(`stopped from elsewhere (a stop or a resume by another process); finished tasks are kept.`);
            } else if (result.failed > 0) {
              say(nextStep(result.workflowId, result.errors, 'run it again'));
            }
            if (result.logDir) say(`logs: ${result.logDir}`);
          }
          say(`state: ${result.stateLocation}`);
          say(`system log: ${result.systemLog}`);
          process.exitCode = result.status === 'DONE' ? 0 : result.runStatus === 'STOPPED' ? 130 : 1;
        } finally {
          view?.stop();
          await conn.close();
        }
      },
    );
}

/** A file argument as the user would type it back into a POSIX shell. */
function quoteArg(arg: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
