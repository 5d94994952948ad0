// `jobmon workflow watch <id>`: live progress until the workflow ends, fed by the event log (a
// long poll wakes it on each change; the counts come from GET /workflows/{id}/progress, at most
// once a second). On a terminal: a bar per template, redrawn; otherwise a plain line per template
// whenever its counts change. Exits with the code `jobmon run` would have given: 0 DONE, 1 FAILED
// or ABORTED, 130 HALTED (stopped).

import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { formatDuration, type WorkflowProgressT } from '@jobmon/core';
import { cliConnect } from '../connect.js';
import { resolveWorkflow, workflowRef } from '../workflow-ref.js';
import { jsonLine, printable } from '../text.js';

const END_CODE: Record<string, number> = { DONE: 0, FAILED: 1, ABORTED: 1, HALTED: 130 };

interface View {
  update(p: WorkflowProgressT): void;
  stop(): void;
}

const line = (t: WorkflowProgressT['templates'][number]) => {
  const c = t.counts;
  const total = c.PENDING + c.SCHEDULED + c.RUNNING + c.DONE + c.FATAL;
  return `${c.DONE}/${total} done, ${c.RUNNING} running, ${c.SCHEDULED} scheduled, ${c.PENDING} pending, ${c.FATAL} failed`;
};

const etaText = (p: WorkflowProgressT) =>
  p.eta === null ? 'no estimate' : `about ${formatDuration(p.eta.seconds)} left`;

function barsView(stream: NodeJS.WriteStream): View {
  const multi = new cliProgress.MultiBar(
    { format: ' {name} {bar} {value}/{total} | {detail}', stream, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<number, cliProgress.SingleBar>();
  let summary: cliProgress.SingleBar | undefined;
  return {
    update(p) {
      const width = Math.max(...p.templates.map((t) => t.name.length), 8);
      summary ??= multi.create(1, 0, { name: 'workflow'.padEnd(width), detail: '' });
      const done = p.templates.reduce((a, t) => a + t.counts.DONE, 0);
      const total = p.templates.reduce((a, t) => a + Object.values(t.counts).reduce((x, y) => x + y, 0), 0);
      summary.setTotal(Math.max(total, 1));
      summary.update(done, { detail: `${p.status}, ${etaText(p)}` });
      for (const t of p.templates) {
        const c = t.counts;
        const n = c.PENDING + c.SCHEDULED + c.RUNNING + c.DONE + c.FATAL;
        let bar = bars.get(t.id);
        if (!bar) bars.set(t.id, (bar = multi.create(n, 0, { name: printable(t.name).padEnd(width), detail: '' })));
        bar.setTotal(Math.max(n, 1));
        bar.update(c.DONE, { detail: line(t) });
      }
    },
    stop() {
      multi.stop();
    },
  };
}

function linesView(out: (s: string) => void): View {
  const last = new Map<number, string>();
  let lastStatus = '';
  return {
    update(p) {
      if (p.status !== lastStatus) out(`workflow ${p.id} '${p.name}': ${p.status}, ${etaText(p)}`);
      lastStatus = p.status;
      for (const t of p.templates) {
        const l = line(t);
        if (last.get(t.id) === l) continue;
        last.set(t.id, l);
        out(`  ${t.name}: ${l}`);
      }
    },
    stop() {},
  };
}

/** --json: the GET /workflows/{id}/progress answer as one JSON line whenever it changes. */
function jsonView(): View {
  let last = '';
  return {
    update(p) {
      const { elapsedMs: _elapsed, ...rest } = p;
      const key = JSON.stringify({ ...rest, eta: null });
      if (key === last) return;
      last = key;
      console.log(jsonLine(p));
    },
    stop() {},
  };
}

export function registerWorkflowWatch(workflow: Command): void {
  workflow
    .command('watch')
    .description('follow a workflow live until it ends; exit as `jobmon run` would have')
    .argument('<workflow>', 'workflow id or exact name', workflowRef)
    .option('--json', 'print the GET /workflows/{id}/progress answer as a JSON line whenever a count or status changes')
    .addHelpText(
      'after',
      `
Examples:
  jobmon workflow watch 42                 # bars per template on a terminal, until the workflow ends
  jobmon workflow watch 42 --json | jq -c '{status, eta: .eta.seconds}'
  jobmon workflow watch 42 > watch.log     # plain lines when a template's counts change
  jobmon workflow watch 42 && echo done    # exit 0 only if it ended DONE`,
    )
    .action(async (ref: string, opts: { json?: boolean }) => {
      const conn = await cliConnect();
      let wid = 0;
      const out = (s: string) => console.log(printable(s));
      const view = opts.json ? jsonView() : process.stdout.isTTY ? barsView(process.stdout) : linesView(out);
      try {
        wid = await resolveWorkflow(conn.api, ref);
        let after = (await conn.api.latestEvent()).last;
        for (;;) {
          const started = Date.now();
          const p = await conn.api.getWorkflowProgress({ id: wid });
          view.update(p);
          const code = END_CODE[p.status];
          if (code !== undefined) {
            view.stop();
            if (!opts.json) out(`workflow ${p.id} '${p.name}' ended ${p.status}`);
            process.exitCode = code;
            return;
          }
          // Wake on the workflow's next event (or after 10 s), then at most once a second.
          after = (await conn.api.followEvents({ query: { after, workflowId: wid, limit: 10_000, waitMs: 10_000 } }))
            .last;
          const pause = 1_000 - (Date.now() - started);
          if (pause > 0) await new Promise((res) => setTimeout(res, pause));
        }
      } finally {
        view.stop();
        await conn.close();
      }
    });
}
