// Progress display: a bar on a terminal, plain lines otherwise (CI logs, pipes).

import cliProgress from 'cli-progress';
import type { SwarmProgress } from '@jobmon/client';

export interface ProgressView {
  update(p: SwarmProgress): void;
  stop(): void;
}

export function progressView(stream: NodeJS.WriteStream, plainEveryMs = 5000): ProgressView {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: ' {bar} {percentage}% | {value}/{total} done | {running} running | {failed} failed | {eta_formatted} left',
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
          bar.start(p.total, p.done, { running: 0, failed: 0 });
          started = true;
        }
        bar.update(p.done, { running: p.running, failed: p.failed });
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
      const line = `progress: ${p.done}/${p.total} done, ${p.running} running, ${p.queued} queued, ${p.failed} failed`;
      if (now - last >= plainEveryMs && line !== lastLine) {
        stream.write(`${line}\n`);
        last = now;
        lastLine = line;
      }
    },
    stop() {},
  };
}
