// The local launcher: one small, long-lived process that spawns commands for the `local`
// distributor. Each command is still started directly (/bin/sh -c, its own process group, files
// for stdout/stderr) — the launcher only keeps fork() out of the busy runner process, whose size
// makes every fork slower, and lets spawning run on another core.
//
// Protocol: newline-delimited JSON on stdin/stdout.
//   in:  {"t":"s","id":N,"c":command,"o":stdoutPath,"e":stderrPath,"v":{extra env},
//         "rl":runtimeLimitMs,"ml":memoryLimitBytes}                                  spawn
//        {"t":"k","id":N,"s":"SIGKILL"}                                               kill group
//   out: {"t":"r","id":N,"pid":P}                      started
//        {"t":"x","id":N,"code":C,"sig":S,"wall":ms,"mem":bytes|null,"out":tail,"err":tail,
//         "why":{"r":"runtime"|"memory","used":ms|bytes,"lim":ms|bytes},"cl":text}
//        {"t":"f","id":N,"msg":text}                   could not start
//        {"t":"c","id":N}                              cancelled before it started
// "v", "rl", "ml" and "cl" (processes the command left behind, killed when it exited) are optional. A group that outlives "rl" or whose summed RSS exceeds "ml"
// is killed (SIGKILL to the group) and its exit message carries "why"; otherwise "why" is absent.
// --log-cap caps each log file (default: spawnGroup's, 1 GiB).
// At most --parallelism commands run at once (default 1); the rest wait here in order, so the
// next command starts the moment one ends, without a round trip to the runner.
// When stdin closes (the runner exited or died) every group still running is killed.

import { createInterface } from 'node:readline';
import { spawnGroup, type GroupHandle } from './process-group.js';

interface SpawnMsg {
  t: 's';
  id: number;
  c: string;
  o: string;
  e: string;
  v?: Record<string, string>;
  /** Runtime limit, ms. */
  rl?: number;
  /** Memory limit (summed RSS of the group), bytes. */
  ml?: number;
}
interface KillMsg {
  t: 'k';
  id: number;
  s?: NodeJS.Signals;
}

const running = new Map<number, GroupHandle>();
const waiting: SpawnMsg[] = [];
const pIndex = process.argv.indexOf('--parallelism');
const parallelism = Math.max(1, pIndex > 0 ? Number(process.argv[pIndex + 1]) || 1 : 1);
const cIndex = process.argv.indexOf('--log-cap');
const logCap = cIndex > 0 ? Number(process.argv[cIndex + 1]) : NaN;
const logCapBytes = Number.isSafeInteger(logCap) && logCap > 0 ? { logCapBytes: logCap } : {};

function startNext(): void {
  while (running.size < parallelism && waiting.length > 0) start(waiting.shift()!);
}
const baseEnv = { ...process.env };
let outBuf: string[] = [];
let flushScheduled = false;

function send(msg: object): void {
  outBuf.push(JSON.stringify(msg));
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      const text = outBuf.join('\n') + '\n';
      outBuf = [];
      process.stdout.write(text);
    });
  }
}

function start(m: SpawnMsg): void {
  let h: GroupHandle;
  try {
    const limits = {
      ...(m.rl === undefined ? {} : { runtimeMs: m.rl }),
      ...(m.ml === undefined ? {} : { memoryBytes: m.ml }),
    };
    h = spawnGroup({
      command: m.c,
      stdoutPath: m.o,
      stderrPath: m.e,
      env: m.v ? { ...baseEnv, ...m.v } : baseEnv,
      limits,
      ...logCapBytes,
    });
  } catch (e) {
    send({ t: 'f', id: m.id, msg: (e as Error).message });
    return;
  }
  running.set(m.id, h);
  if (h.pid !== undefined) send({ t: 'r', id: m.id, pid: h.pid });
  void h.done.then((r) => {
    running.delete(m.id);
    // Say this one ended before the next one starts: the runner counts what runs from these
    // messages in order, and the other way round it saw one more running than the parallelism.
    if (r.spawnError !== undefined && h.pid === undefined) {
      send({ t: 'f', id: m.id, msg: r.spawnError });
    } else {
      const why = r.limitExceeded && {
        r: r.limitExceeded.resource,
        used: r.limitExceeded.used,
        lim: r.limitExceeded.limit,
      };
      send({
        t: 'x',
        id: m.id,
        code: r.exitCode,
        sig: r.signal,
        wall: r.wallTimeMs,
        mem: r.peakMemoryBytes,
        out: r.stdoutTail,
        err: r.stderrTail,
        ...(why ? { why } : {}),
        ...(r.cleanup ? { cl: r.cleanup } : {}),
      });
    }
    startNext();
  });
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  if (line === '') return;
  const m = JSON.parse(line) as SpawnMsg | KillMsg;
  if (m.t === 's') {
    waiting.push(m);
    startNext();
  } else if (m.t === 'k') {
    const at = waiting.findIndex((w) => w.id === m.id);
    if (at >= 0) {
      waiting.splice(at, 1);
      send({ t: 'c', id: m.id });
    } else running.get(m.id)?.kill(m.s ?? 'SIGKILL');
  }
});
rl.on('close', () => {
  for (const w of waiting.splice(0)) send({ t: 'c', id: w.id });
  for (const h of running.values()) h.kill('SIGKILL');
  const waits = [...running.values()].map((h) => h.done);
  void Promise.all(waits).then(() => process.exit(0));
});
process.on('SIGTERM', () => rl.close());
process.on('SIGINT', () => undefined); // the runner decides; a terminal ^C must not orphan commands
