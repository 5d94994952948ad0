// Copies one output pipe of a command into its log file, up to a cap: past it the output is still
// read (so the command never blocks on a full pipe) but dropped, and a last line in the file says
// how much was cut. Keeps the last bytes of everything the command wrote, cut or not, as its tail.
// The file is opened for appending: a log that is already there (an earlier attempt's, another
// database's run reusing a path) is added to, never truncated. It is created with the first byte
// of output: a command that writes nothing to an output leaves no file for it (creating two empty
// files per task was a third of the launcher's CPU on short tasks; bench/cpu-breakdown.md).

import { accessSync, closeSync, constants, openSync, write } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';

/** Default cap of one log file: enough for any log a person reads, far from filling a disk. */
export const DEFAULT_LOG_CAP_BYTES = 1024 ** 3;

export class CappedLog {
  /** Opened at the first output; null: it could not be (the rest of this log is lost, not the task). */
  private fd: number | null | undefined;
  private written = 0;
  private dropped = 0;
  private tailBuf = Buffer.alloc(0);
  /** Resolves once the pipe has ended and the file is closed. */
  readonly done: Promise<void>;

  constructor(
    readonly path: string,
    private readonly capBytes: number,
    private readonly tailBytes: number,
  ) {
    // Checked before the command starts, so a log folder that is missing or not ours to write
    // fails the spawn, as it did when the file was opened here.
    accessSync(dirname(path), constants.W_OK);
    let finished!: () => void;
    this.done = new Promise((r) => (finished = r));
    this.finished = finished;
  }

  private readonly finished: () => void;

  /** Start copying; the stream must be a pipe from the command. */
  attach(stream: Readable): void {
    let pending = Promise.resolve();
    stream.on('data', (chunk: Buffer) => {
      this.keepTail(chunk);
      const room = Math.max(0, this.capBytes - this.written);
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.dropped += chunk.length - part.length;
      if (part.length === 0) return;
      this.written += part.length;
      // One write in flight: the pipe waits for the disk rather than filling our memory.
      stream.pause();
      pending = pending.then(() => this.write(part)).then(() => void stream.resume());
    });
    let closed = false;
    const end = () => {
      if (closed) return;
      closed = true;
      void pending.then(async () => {
        if (this.dropped > 0) {
          const note = `\n[jobmon: log cut at ${this.capBytes} bytes (JOBMON_LOG_CAP_BYTES); ${this.dropped} more bytes were not kept]\n`;
          await this.write(Buffer.from(note));
        }
        if (typeof this.fd === 'number') closeSync(this.fd);
        this.finished();
      });
    };
    stream.once('end', end);
    stream.once('close', end);
    stream.once('error', end);
  }

  /** Give up without having attached (the command never started): no file was made. */
  abandon(): void {
    this.finished();
  }

  private write(buf: Buffer): Promise<void> {
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.path, 'a');
      } catch {
        this.fd = null;
      }
    }
    return this.fd === null ? Promise.resolve() : writeAll(this.fd, buf);
  }

  /** The last tailBytes of what the command wrote, as UTF-8 (a split leading character dropped). */
  tail(): string {
    const text = this.tailBuf.toString('utf8');
    return this.written + this.dropped > this.tailBuf.length ? text.replace(/^\uFFFD+/, '') : text;
  }

  private keepTail(chunk: Buffer): void {
    if (chunk.length >= this.tailBytes) this.tailBuf = Buffer.from(chunk.subarray(chunk.length - this.tailBytes));
    else {
      const joined = Buffer.concat([this.tailBuf, chunk]);
      this.tailBuf = joined.length > this.tailBytes ? joined.subarray(joined.length - this.tailBytes) : joined;
    }
  }
}

function writeAll(fd: number, buf: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const step = (off: number) => {
      if (off >= buf.length) return resolve();
      write(fd, buf, off, buf.length - off, null, (err, n) => {
        // A full or vanished disk: the rest of this log is lost, the task is not.
        if (err) return resolve();
        step(off + n);
      });
    };
    step(0);
  });
}
