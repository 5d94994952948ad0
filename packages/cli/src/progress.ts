// Progress display: a bar on a terminal, plain lines otherwise (CI logs, pipes). Every task is in
// exactly one count: done, failed, running (reported running), launched (handed to its cluster,
// not yet running), queued (ready, waiting for a slot) or pending (waiting for upstream tasks).

import cliProgress from 'cli-progress';
import type { SwarmProgress } from '@jobmon/client';

export interface ProgressView {
  update(p: SwarmProgress): void;
  stop(): void;
}

const counts = (p: SwarmProgress) => ({ running: p.running, launched: p.launched, queued: p.queued, failed: p.failed });

export function progressView(stream: NodeJS.WriteStream, plainEveryMs = 5000): ProgressView {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format:
          ' {bar} {percentage}% | {value}/{total} done | {running} running, {launched} launched, {queued} queued | {failed} failed | {eta_formatted} left',
        stream,
        hideCursor: true,
        etaBuffer: 200,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(p) {
        if (!started) {
          bar.start(p.total, p.done, counts(p));
          started = true;
        }
        bar.update(p.done, counts(p));
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let last = 0;
  let lastLine = '';
  return {
    update(p) {
      const now = Date.now();
      const line = `progress: ${p.done}/${p.total} done, ${p.running} running, ${p.launched} launched, ${p.queued} queued, ${p.pending} pending, ${p.failed} failed`;
      if (now - last >= plainEveryMs && line !== lastLine) {
        stream.write(`${line}\n`);
        last = now;
        lastLine = line;
      }
    },
    stop() {},
  };
}
