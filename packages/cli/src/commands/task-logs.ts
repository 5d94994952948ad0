// `jobmon task logs <id>`: an attempt's stdout and stderr, read from the log files where the worker
// wrote them (the paths it recorded). Where a file is not readable from here (another machine, gone,
// no permission) it falls back to the tail the worker stored with the attempt's end, and says so on
// stderr. --follow keeps reading the files until the attempt ends. Log text is untrusted: it is
// printed through printable().

import { open, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { Option, type Command } from 'commander';
import { ACTIVE_INSTANCE_STATES, ValidationError, type TaskAttemptT } from '@jobmon/core';
import { positiveInt } from '../args.js';
import { cliConnect } from '../connect.js';
import { pickAttempt } from '../task-attempts.js';
import { jsonLine, printable } from '../text.js';

const DEFAULT_TAIL = 100;
const CHUNK = 64 * 1024;
const FOLLOW_POLL_MS = 500;
const FOLLOW_STATUS_EVERY_MS = 2_000;

type StreamName = 'stdout' | 'stderr';

interface LogsOptions {
  attempt?: number;
  stdout?: boolean;
  stderr?: boolean;
  tail?: number;
  all?: boolean;
  follow?: boolean;
  json?: boolean;
}

/** What one stream shows: the file's text, or the stored tail with why the file was not read. */
interface StreamLog {
  path: string | null;
  /** 'empty': no file and an empty stored tail: the command wrote nothing (a log file is created at
   *  its first byte, packages/worker/src/capped-log.ts). */
  source: 'file' | 'stored' | 'none' | 'empty';
  /** Why the file was not read (source 'stored' or 'none'). */
  reason?: string;
  text: string;
  /** Bytes of the file read up to (its size then): where --follow goes on from. */
  endOffset?: number;
}

export function registerTaskLogs(task: Command): void {
  task
    .command('logs')
    .description("show a task attempt's stdout and stderr, from its log files or else the stored tails")
    .argument('<id>', 'task id', positiveInt)
    .option('--attempt <n>', 'which attempt (1 is the first; default the newest)', positiveInt)
    .option('--stdout', 'only stdout')
    .option('--stderr', 'only stderr')
    .addOption(new Option('--tail <n>', `the last n lines (default ${DEFAULT_TAIL})`).argParser(positiveInt))
    .addOption(new Option('--all', 'the whole log').conflicts('tail'))
    .addOption(new Option('-f, --follow', 'keep printing what is written until the attempt ends').conflicts('json'))
    .option(
      '--json',
      'print JSON: {taskId, attempt, instanceId, status, stdout?, stderr?}, each {path, source, reason?, text}',
    )
    .addHelpText(
      'after',
      `
Where the log files cannot be read from this machine, the tails the worker stored (the last part of
each stream) are shown instead, and a note on stderr says so.

Examples:
  jobmon task logs 1234                  the newest attempt, last ${DEFAULT_TAIL} lines of each stream
  jobmon task logs 1234 --attempt 1 --stderr --all
  jobmon task logs 1234 --stdout --follow`,
    )
    .action(async (id: number, opts: LogsOptions) => {
      const streams: StreamName[] =
        opts.stdout === opts.stderr ? ['stdout', 'stderr'] : opts.stdout ? ['stdout'] : ['stderr'];
      const lines = opts.all ? undefined : (opts.tail ?? DEFAULT_TAIL);
      const conn = await cliConnect();
      try {
        const t = await conn.api.getTask({ id });
        let a = pickAttempt(t, opts.attempt);
        if (opts.follow && a.stdoutPath === null && ACTIVE_INSTANCE_STATES.includes(a.status)) {
          // Queued or launched: its worker records the log paths when the command starts.
          process.stderr.write(`jobmon: attempt ${a.attempt} is ${a.status}; waiting for it to start…\n`);
          while (a.stdoutPath === null && ACTIVE_INSTANCE_STATES.includes(a.status)) {
            await new Promise((r) => setTimeout(r, FOLLOW_STATUS_EVERY_MS));
            const id0 = a.id;
            a = (await conn.api.getTask({ id })).attempts.find((x) => x.id === id0) ?? a;
          }
        }
        const logs = new Map<StreamName, StreamLog>();
        for (const s of streams) logs.set(s, await readStream(a, s, lines));
        if (opts.json) {
          console.log(
            jsonLine(
              {
                taskId: t.id,
                attempt: a.attempt,
                instanceId: a.id,
                status: a.status,
                ...Object.fromEntries([...logs].map(([s, l]) => [s, { ...l, endOffset: undefined }])),
              },
              2,
            ),
          );
          return;
        }
        for (const [s, l] of logs) {
          if (l.source === 'stored' || l.source === 'none')
            process.stderr.write(
              `jobmon: ${printable(`${s} of task ${t.id} attempt ${a.attempt}: ${l.reason ?? ''}`)}\n`,
            );
          const empty = l.source === 'empty' ? ' (empty: the command wrote nothing)' : '';
          if (streams.length > 1) console.log(`==> ${s}: ${printable(l.path ?? '(no file recorded)')}${empty} <==`);
          if (l.text !== '') process.stdout.write(printable(l.text.endsWith('\n') ? l.text : `${l.text}\n`));
        }
        if (opts.follow) await follow(conn.api, t.id, a, logs);
      } finally {
        await conn.close();
      }
    });
}

/** The stream's text: the file's last `lines` lines (all when undefined), else the stored tail. */
async function readStream(a: TaskAttemptT, s: StreamName, lines: number | undefined): Promise<StreamLog> {
  const path = s === 'stdout' ? a.stdoutPath : a.stderrPath;
  const stored = s === 'stdout' ? a.stdoutTail : a.stderrTail;
  let reason: string;
  if (path === null) reason = 'no log file was recorded';
  else {
    try {
      const { text, end } = await readFileTail(path, lines);
      return { path, source: 'file', text, endOffset: end };
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT' && stored === '') return { path, source: 'empty', text: '' };
      reason = `cannot read ${path} from here (${err.code ?? err.message})`;
    }
  }
  if (stored === null) return { path, source: 'none', reason: `${reason}, and no tail was stored`, text: '' };
  const text = lines === undefined ? stored : lastLines(stored, lines);
  return {
    path,
    source: 'stored',
    reason: `${reason}; showing the tail stored with the attempt (${text.length} characters)`,
    text,
  };
}

function lastLines(text: string, n: number): string {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  const parts = body.split('\n');
  return parts.slice(-n).join('\n') + (text.endsWith('\n') ? '\n' : '');
}

/** The last `lines` lines of a file (all of it when undefined), reading backwards from its end. */
async function readFileTail(path: string, lines: number | undefined): Promise<{ text: string; end: number }> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    const size = st.size;
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
    let start = size;
    if (lines === undefined) start = 0;
    else {
      // Count newlines from the end until there are lines+1 of them (the last one may end the file).
      let newlines = 0;
      const buf = Buffer.alloc(CHUNK);
      while (start > 0) {
        const from = Math.max(0, start - CHUNK);
        const { bytesRead } = await fh.read(buf, 0, start - from, from);
        let found = -1;
        for (let i = bytesRead - 1; i >= 0; i--) {
          if (buf[i] !== 0x0a) continue;
          if (from + i === size - 1) continue; // the file's final newline ends the last line
          newlines++;
          if (newlines === lines) {
            found = from + i + 1;
            break;
          }
        }
        if (found >= 0) {
          start = found;
          break;
        }
        start = from;
      }
    }
    const decoder = new StringDecoder('utf8');
    let text = '';
    const buf = Buffer.alloc(CHUNK);
    for (let at = start; at < size;) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, size - at), at);
      if (bytesRead === 0) break;
      text += decoder.write(buf.subarray(0, bytesRead));
      at += bytesRead;
    }
    return { text: text + decoder.end(), end: size };
  } finally {
    await fh.close();
  }
}

/** Print what is appended to the readable streams' files until the attempt has ended and been drained. */
async function follow(
  api: Awaited<ReturnType<typeof cliConnect>>['api'],
  taskId: number,
  a: TaskAttemptT,
  logs: Map<StreamName, StreamLog>,
): Promise<void> {
  const followed = [...logs].filter(([, l]) => l.source === 'file' && l.path !== null);
  if (followed.length === 0) {
    throw new ValidationError(`cannot follow task ${taskId} attempt ${a.attempt}: no log file is readable from here`);
  }
  const offsets = new Map(followed.map(([s, l]) => [s, l.endOffset ?? 0]));
  const decoders = new Map(followed.map(([s]) => [s, new StringDecoder('utf8')]));
  let active = ACTIVE_INSTANCE_STATES.includes(a.status);
  let lastCheck = Date.now();
  for (;;) {
    for (const [s, l] of followed) {
      const size = (await stat(l.path!).catch(() => undefined))?.size;
      if (size === undefined) continue;
      let at = offsets.get(s)!;
      if (size < at) at = 0; // truncated or replaced: start again from its beginning
      if (size > at) {
        const fh = await open(l.path!, 'r');
        try {
          const buf = Buffer.alloc(Math.min(CHUNK, size - at));
          while (at < size) {
            const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - at), at);
            if (bytesRead === 0) break;
            at += bytesRead;
            const text = decoders.get(s)!.write(buf.subarray(0, bytesRead));
            (s === 'stdout' ? process.stdout : process.stderr).write(printable(text));
          }
        } finally {
          await fh.close();
        }
      }
      offsets.set(s, at);
    }
    if (!active) return;
    await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    if (Date.now() - lastCheck >= FOLLOW_STATUS_EVERY_MS) {
      lastCheck = Date.now();
      const now = (await api.getTask({ id: taskId })).attempts.find((x) => x.id === a.id);
      // One more pass after it ended, for what it wrote last.
      active = now !== undefined && ACTIVE_INSTANCE_STATES.includes(now.status);
    }
  }
}
