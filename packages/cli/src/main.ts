// The `jobmon` command line: one command per file under commands/. Errors print their message
// (never a stack trace) and one exit code per meaning, the same for every command (EXIT below).

import { Command, CommanderError } from 'commander';
import { JobmonError, JOBMON_VERSION } from '@jobmon/core';
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
// Each command's module is imported only when that command runs, or for help: `jobmon workflow
// status` does not load the server, the runner or the workflow-file parser, and starts in a
// fraction of the time (bench/cli-1m.md). The order here is the order of the help.
type Register = (parent: Command) => void;
type Loader = () => Promise<Register>;
type Group = { description: string; commands: [string, Loader][] };
const COMMANDS: [string, Loader | Group][] = [
  ['run', async () => (await import('./commands/run.js')).registerRun],
  ['server', async () => (await import('./commands/server.js')).registerServer],
  [
    'workflow',
    {
      description: 'inspect and control workflows',
      commands: [
        ['list', async () => (await import('./commands/workflow-list.js')).registerWorkflowList],
        ['status', async () => (await import('./commands/workflow-status.js')).registerWorkflowStatus],
        ['stop', async () => (await import('./commands/workflow-stop.js')).registerWorkflowStop],
        ['watch', async () => (await import('./commands/workflow-watch.js')).registerWorkflowWatch],
        ['tasks', async () => (await import('./commands/workflow-tasks.js')).registerWorkflowTasks],
        ['errors', async () => (await import('./commands/workflow-errors.js')).registerWorkflowErrors],
        ['resume', async () => (await import('./commands/workflow-resume.js')).registerWorkflowResume],
        ['concurrency', async () => (await import('./commands/workflow-concurrency.js')).registerWorkflowConcurrency],
        ['reset', async () => (await import('./commands/workflow-reset.js')).registerWorkflowReset],
        ['share', async () => (await import('./commands/workflow-share.js')).registerWorkflowShare],
        ['unshare', async () => (await import('./commands/workflow-share.js')).registerWorkflowShare],
      ],
    },
  ],
  ['wait', async () => (await import('./commands/wait.js')).registerWait],
  [
    'task',
    {
      description: 'inspect a task: its attempts and their logs',
      commands: [
        ['show', async () => (await import('./commands/task-show.js')).registerTaskShow],
        ['logs', async () => (await import('./commands/task-logs.js')).registerTaskLogs],
        ['deps', async () => (await import('./commands/task-deps.js')).registerTaskDeps],
        ['why', async () => (await import('./commands/task-why.js')).registerTaskWhy],
        ['update', async () => (await import('./commands/task-update.js')).registerTaskUpdate],
      ],
    },
  ],
  [
    'cluster',
    {
      description: 'add, list and show clusters and their queues',
      commands: [
        ['add', async () => (await import('./commands/cluster-add.js')).registerClusterAdd],
        ['list', async () => (await import('./commands/cluster-list.js')).registerClusterList],
        ['show', async () => (await import('./commands/cluster-show.js')).registerClusterShow],
      ],
    },
  ],
  ['config', async () => (await import('./commands/config.js')).registerConfig],
  ['version', async () => (await import('./commands/version.js')).registerVersion],
  [
    'resources',
    {
      description: 'what finished tasks used, and what to ask next time',
      commands: [
        ['usage', async () => (await import('./commands/resources-usage.js')).registerResourcesUsage],
        ['suggest', async () => (await import('./commands/resources-suggest.js')).registerResourcesSuggest],
      ],
    },
  ],
  ['nodes', async () => (await import('./commands/nodes.js')).registerNodes],
  ['login', async () => (await import('./commands/login.js')).registerLogin],
  ['logout', async () => (await import('./commands/login.js')).registerLogin],
  ['admin', async () => (await import('./commands/admin.js')).registerAdmin],
  ['audit', async () => (await import('./commands/audit.js')).registerAudit],
  ['gui', async () => (await import('./commands/gui.js')).registerGui],
];

/** The commands the arguments name (a command, or one command of a group); all of them for anything else (help, a typo). */
async function register(program: Command, [first, second]: string[]): Promise<void> {
  if (first === '--version' || first === '-V') return;
  const named = COMMANDS.find(([name]) => name === first);
  const registered = new Set<Register>();
  for (const [name, entry] of named ? [named] : COMMANDS) {
    if (typeof entry === 'function') {
      const register = await entry();
      // One module may register several commands (login and logout).
      if (!registered.has(register)) register(program);
      registered.add(register);
      continue;
    }
    const group = program.command(name).description(entry.description);
    const sub = entry.commands.find(([n]) => named && n === second);
    for (const [, load] of sub ? [sub] : entry.commands) {
      const register = await load();
      if (!registered.has(register)) register(group);
      registered.add(register);
    }
  }
}

try {
  await register(program, process.argv.slice(2));
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
