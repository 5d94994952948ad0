// Running Slurm's commands (sbatch, squeue, sacct, scancel): each call is one child process with a
// bounded run time; its exit code and output are returned, never thrown, so callers decide.

import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `cmd args`, feeding `input` to its stdin; an error starting it (ENOENT) is code null. */
export function runCommand(
  cmd: string,
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const timer = setTimeout(() => {
      stderr += `\n${cmd} did not finish within ${opts.timeoutMs} ms: killed`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    timer.unref();
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.stdin.on('error', () => undefined); // a command that exits without reading its input
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}${cmd}: ${e.message}` });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** A command's failure as one line: what ran, its exit code and stderr. */
export function describeFailure(cmd: string, r: CommandResult): string {
  const err = r.stderr.trim().replace(/\s+/g, ' ').slice(0, 500);
  return `${cmd} ${r.code === null ? 'could not run' : `exited ${r.code}`}${err ? `: ${err}` : ''}`;
}
