// The `jobmon` command line: one command per file under commands/. Errors print their message
// (never a stack trace) and one exit code per meaning, the same for every command (EXIT below).

import { Command, CommanderError } from 'commander';
import { JobmonError, JOBMON_VERSION } from '@jobmon/core';
import { registerClusterAdd } from './commands/cluster-add.js';
import { registerClusterList } from './commands/cluster-list.js';
import { registerClusterShow } from './commands/cluster-show.js';
import { registerRun } from './commands/run.js';
import { registerServer } from './commands/server.js';
import { registerTaskLogs } from './commands/task-logs.js';
import { registerTaskShow } from './commands/task-show.js';
import { registerTaskDeps } from './commands/task-deps.js';
import { registerTaskWhy } from './commands/task-why.js';
import { registerWorkflowErrors } from './commands/workflow-errors.js';
import { registerWorkflowList } from './commands/workflow-list.js';
import { registerWorkflowStatus } from './commands/workflow-status.js';
import { registerWorkflowStop } from './commands/workflow-stop.js';
import { registerWorkflowWatch } from './commands/workflow-watch.js';
import { registerWait } from './commands/wait.js';
import { registerWorkflowTasks } from './commands/workflow-tasks.js';
import { registerWorkflowResume } from './commands/workflow-resume.js';
import { registerWorkflowConcurrency } from './commands/workflow-concurrency.js';
import { registerConfig } from './commands/config.js';
import { registerVersion } from './commands/version.js';
import { registerResourcesUsage } from './commands/resources-usage.js';
import { registerResourcesSuggest } from './commands/resources-suggest.js';
import { registerNodes } from './commands/nodes.js';
import { registerWorkflowReset } from './commands/workflow-reset.js';
import { registerTaskUpdate } from './commands/task-update.js';
import { DetachFailed } from './detach.js';
import { printable } from './text.js';

const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3 } as const;

const EXIT_HELP = `
Exit codes:
  0    done: the command did what it was asked (a workflow ended DONE)
  1    the workflow failed, or the server failed or could not be reached
  2    usage or bad input: an unknown option, a bad value, a bad workflow, cluster or config file, or JOBMON_URL, an ambiguous workflow name
  3    not found or no access: no such workflow, task or cluster, a workflow or cluster file missing or unreadable
  130  interrupted (Ctrl-C): run the same command again to resume`;

// A reader that went away (`jobmon workflow status 1 | head -1`) is not an error: stop writing to
// it and finish the command, so a run still ends where it would have and with its own exit code.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    stream.write = (() => true) as typeof stream.write;
  });
}

const program = new Command('jobmon')
  .description('Jobmon for TypeScript: run and watch workflows of shell-command tasks')
  .version(JOBMON_VERSION)
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(printable(text)) })
  .addHelpText('after', EXIT_HELP)
  .exitOverride();
registerRun(program);
registerServer(program);
const workflow = program.command('workflow').description('inspect and control workflows');
registerWorkflowList(workflow);
registerWorkflowStatus(workflow);
registerWorkflowStop(workflow);
registerWorkflowWatch(workflow);
registerWait(program);
registerWorkflowTasks(workflow);
registerWorkflowErrors(workflow);
const task = program.command('task').description('inspect a task: its attempts and their logs');
registerTaskShow(task);
registerTaskLogs(task);
registerTaskDeps(task);
registerTaskWhy(task);
registerWorkflowResume(workflow);
registerWorkflowConcurrency(workflow);
const cluster = program.command('cluster').description('add, list and show clusters and their queues');
registerClusterAdd(cluster);
registerClusterList(cluster);
registerClusterShow(cluster);
registerConfig(program);
registerVersion(program);
const resources = program.command('resources').description('what finished tasks used, and what to ask next time');
registerResourcesUsage(resources);
registerResourcesSuggest(resources);
registerNodes(program);
registerWorkflowReset(workflow);
registerTaskUpdate(task);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // commander has said what was wrong; --help and --version end with 0, the rest is usage.
    process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else if (e instanceof DetachFailed) {
    process.stderr.write(`jobmon: ${printable(e.message)}\n`);
    process.exitCode = e.exitCode;
  } else if (e instanceof JobmonError) {
    process.stderr.write(`jobmon: ${printable(e.message)}\n`);
    process.exitCode = exitCodeOf(e);
  } else {
    process.stderr.write(`jobmon: ${printable((e as Error).message ?? String(e))}\n`);
    process.exitCode = EXIT.failed;
  }
}

function exitCodeOf(e: JobmonError): number {
  if (e.code === 'JM_NOT_FOUND' || e.status === 404 || e.status === 401 || e.status === 403) return EXIT.notFound;
  if (e.status >= 400 && e.status < 500) return EXIT.usage;
  return EXIT.failed;
}
