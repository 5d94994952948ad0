// Jobmon's own log (not a task's): what the server and the runner did and what went wrong, as
// pino JSON lines in one bounded file under the state directory, so a failure that scrolled off a
// terminal, or a 500 whose driver text the API no longer echoes, can be read afterwards.
//
// Bounded: past maxBytes the file is renamed to `<file>.1` (replacing the previous one) and a new
// one is started, so at most twice maxBytes is kept. Several processes may share one file (a
// runner and its embedded server): each appends whole lines, and whichever sees the file full
// rotates it; the others carry on in the renamed file until they look again. A log that cannot be
// written is given up quietly: it must never fail the work it describes.
//
// A subpath (`@jobmon/core/system-log`) so the worker, which never logs here, does not load pino.

import { closeSync, fstatSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';

export type { Logger };

/** Default size of the file before it is rotated: a few days of a busy server's warnings. */
export const DEFAULT_SYSTEM_LOG_BYTES = 10 * 1024 * 1024;

/** How often (in lines) a writer checks whether another process rotated the file. */
const RECHECK_LINES = 100;

export class BoundedFile {
  private fd: number | null = null;
  private size = 0;
  private sinceCheck = 0;

  constructor(
    readonly path: string,
    private readonly maxBytes: number = DEFAULT_SYSTEM_LOG_BYTES,
  ) {
    this.open();
  }

  write(line: string): boolean {
    if (this.fd === null) return true;
    try {
      const buf = Buffer.from(line);
      if (++this.sinceCheck >= RECHECK_LINES) this.recheck();
      if (this.size > 0 && this.size + buf.length > this.maxBytes) this.rotate();
      if (this.fd === null) return true;
      writeSync(this.fd, buf);
      this.size += buf.length;
    } catch {
      this.close(); // a full or vanished disk: stop logging, keep working
    }
    return true;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private open(): void {
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      this.fd = openSync(this.path, 'a');
      this.size = fstatSync(this.fd).size;
    } catch {
      this.fd = null;
    }
  }

  /** Another process rotated the file: follow it to the new one. */
  private recheck(): void {
    this.sinceCheck = 0;
    try {
      if (statSync(this.path).ino === fstatSync(this.fd!).ino) return;
    } catch {
      // gone: reopen below
    }
    this.close();
    this.open();
  }

  private rotate(): void {
    this.close();
    try {
      renameSync(this.path, `${this.path}.1`);
    } catch {
      // another process rotated it first
    }
    this.open();
  }
}

/** A logger writing JSON lines to `path` (bounded), each with `name` and the process id. */
export function openSystemLog(path: string, name: string, maxBytes?: number): Logger {
  return pino(
    { name, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    new BoundedFile(path, maxBytes),
  );
}
