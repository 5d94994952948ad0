// The `jobmon` command line: one command per file under commands/. Errors print their message
// (never a stack trace) and set a non-zero exit code: 2 for bad input, 1 otherwise.

import { Command, CommanderError } from 'commander';
import { JobmonError, JOBMON_VERSION } from '@jobmon/core';
import { registerRun } from './commands/run.js';
import { registerServer } from './commands/server.js';
import { registerWorkflowStatus } from './commands/workflow-status.js';
import { registerWorkflowStop } from './commands/workflow-stop.js';

const program = new Command('jobmon')
  .description('Jobmon for TypeScript: run and watch workflows of shell-command tasks')
  .version(JOBMON_VERSION)
  .showHelpAfterError()
  .exitOverride();
registerRun(program);
registerServer(program);
const workflow = program.command('workflow').description('inspect and control workflows');
registerWorkflowStatus(workflow);
registerWorkflowStop(workflow);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode;
  } else if (e instanceof JobmonError) {
    process.stderr.write(`jobmon: ${e.message}\n`);
    process.exitCode = e.status >= 400 && e.status < 500 ? 2 : 1;
  } else {
    process.stderr.write(`jobmon: ${(e as Error).message ?? String(e)}\n`);
    process.exitCode = 1;
  }
}
