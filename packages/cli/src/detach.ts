// `--detach` (jobmon run, jobmon workflow resume): the same command again, in the background, in a
// session of its own (setsid: a terminal that closes sends its hang-up to its own session, not to
// this one), stdin from /dev/null and stdout and stderr to a log file. This process waits until the
// runner has said which workflow it runs (its first line `workflow <id> …`), prints the id, the log
// file and how to watch it, and exits 0; a runner that ends before that is reported with its log.

import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@jobmon/core';
import { printable } from './text.js';

/** Set in the detached runner, so it does not detach again. */
export const DETACHED_ENV = 'JOBMON_DETACHED';

const WAIT_FOR_ID_MS = 120_000;

export interface Detached {
  workflowId: number;
  pid: number;
  logFile: string;
}

/** Start this command again in the background (without --detach); answers once it names its workflow. */
export async function detachSelf(kind: string): Promise<Detached> {
  const dir = join(loadConfig().logDir, 'runners');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const logFile = join(dir, `${kind}-${stamp}-${process.pid}.log`);
  const fd = openSync(logFile, 'a');
  const args = process.argv.slice(2).filter((a) => a !== '--detach');
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, [DETACHED_ENV]: '1' },
  });
  closeSync(fd);
  let exited: number | undefined;
  child.on('exit', (code, signal) => (exited = code ?? (signal ? 128 : 1)));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start the detached runner (${process.execPath})`);
  const deadline = Date.now() + WAIT_FOR_ID_MS;
  for (;;) {
    const text = readFileSync(logFile, 'utf8');
    const m = /^workflow (\d+) /m.exec(text);
    if (m) {
      child.unref();
      return { workflowId: Number(m[1]), pid, logFile };
    }
    if (exited !== undefined) {
      process.stderr.write(printable(text));
      throw new DetachFailed(
        `the detached runner (pid ${pid}) ended with exit code ${exited} before it started a workflow; its log: ${logFile}`,
        exited,
      );
    }
    if (Date.now() > deadline) {
      child.unref();
      throw new Error(
        `the detached runner (pid ${pid}) has not named its workflow after ${WAIT_FOR_ID_MS / 1000} s; it goes on, its log: ${logFile}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The detached runner ended early; its exit code is the command's. */
export class DetachFailed extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The lines a detached start prints (and its --json shape: {workflowId, pid, logFile, watch}). */
export function detachedLines(d: Detached): string[] {
  return [
    `workflow ${d.workflowId}: runner started in the background (pid ${d.pid})`,
    `  log:   ${d.logFile}`,
    `  watch: jobmon workflow watch ${d.workflowId}`,
  ];
}
