// `jobmon resources suggest --workflow W [--strategy p90|max] [--headroom 20%]`: compute resources
// per template from the workflow's finished instances (GET /workflows/{id}/resource-suggestions),
// written as YAML on stdout: a `defaults: template_resources:` block that a workflow file takes as
// it is (docs/workflow-file.md), each entry a compute-resources object the TypeScript client takes
// as a TaskTemplate's defaultResources for a cluster. Templates without finished instances are
// comments. Memory is rounded up to 64 MiB, runtime to the minute; cores are kept as asked.

import { InvalidArgumentError, type Command } from 'commander';
import type { ResourceSuggestResponseT } from '@jobmon/core';
import { oneOf } from '../args.js';
import { cliConnect } from '../connect.js';
import { bytes, duration } from '../table.js';
import { jsonLine, printable } from '../text.js';
import { resolveWorkflow, workflowRef } from '../workflow-ref.js';

/** `20%` or `20` → 20; a whole percentage, 0–1000. */
export function headroom(v: string): number {
  const m = /^(\d+)%?$/.exec(v.trim());
  const n = m ? Number(m[1]) : NaN;
  if (!(n >= 0 && n <= 1000))
    throw new InvalidArgumentError(`must be a whole percentage 0–1000 such as 20%, got '${v}'.`);
  return n;
}

/** 5400 → "1h30m", 120 → "2m" (whole minutes: what parseRuntime reads back). */
function runtimeText(seconds: number): string {
  const m = Math.ceil(seconds / 60);
  const h = Math.floor(m / 60);
  return h > 0 ? `${h}h${m % 60 > 0 ? `${m % 60}m` : ''}` : `${m}m`;
}

/** A mapping key as YAML: plain when it is safe, else double-quoted (JSON strings are YAML). */
const yamlKey = (s: string) => (/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(s) ? s : JSON.stringify(s));
/** Text for a YAML comment: one line, no controls. */
const comment = (s: string) => printable(s).replace(/\n/g, ' ');

/** The YAML the command prints. */
export function suggestionYaml(r: ResourceSuggestResponseT): string {
  const stat = r.strategy === 'max' ? 'max' : 'p90';
  const out = [
    `# jobmon resources suggest: workflow ${r.workflowId} (${comment(r.workflowName)}), ${stat} + ${r.headroomPercent}% headroom`,
    '# memory rounded up to 64 MiB, runtime to the minute, cores as asked. Use it as a workflow file',
    "# `defaults:` block, or give a template's entry to the TypeScript client as defaultResources.",
    'defaults:',
    '  template_resources:',
  ];
  for (const t of r.templates) {
    const how = [
      `${t.finished} finished${t.sampled < t.finished ? `, newest ${t.sampled} sampled` : ''}`,
      ...(t.runtime ? [`${stat} runtime ${duration(t.runtime.statMs)}`] : []),
      ...(t.memory ? [`${stat} peak memory ${bytes(t.memory.statBytes)}`] : []),
    ].join('; ');
    const lines = [
      ...(t.cores !== null ? [`cores: ${t.cores}`] : []),
      ...(t.memory ? [`memory: ${t.memory.suggestedMiB}M`] : []),
      ...(t.runtime ? [`runtime: ${runtimeText(t.runtime.suggestedSeconds)}`] : []),
    ];
    if (lines.length === 0) {
      out.push(`    # ${comment(t.template)}: finished instances recorded no usage (${how})`);
      continue;
    }
    out.push(`    ${yamlKey(t.template)}: # ${comment(how)}`);
    for (const l of lines) out.push(`      ${l}`);
  }
  for (const name of r.unfinished) out.push(`    # ${comment(name)}: no finished instances; keep what it asks`);
  if (r.templates.length === 0) out.push('    {}');
  return out.join('\n');
}

export function registerResourcesSuggest(resources: Command): void {
  resources
    .command('suggest')
    .description('compute resources per template from finished tasks, as YAML a workflow file and the client accept')
    .requiredOption('--workflow <workflow>', 'the workflow (id or exact name)', workflowRef)
    .option(
      '--strategy <p90|max>',
      'the statistic of runtime and peak memory to start from (default p90)',
      oneOf('p90', 'max'),
    )
    .option('--headroom <percent>', 'added on top of the statistic (default 20%)', headroom)
    .option(
      '--json',
      'print JSON: the GET /workflows/{id}/resource-suggestions answer, {workflowId, workflowName, strategy, headroomPercent, templates: [...], unfinished: [...]}',
    )
    .addHelpText(
      'after',
      `
Per template with finished (DONE) instances in the workflow (the newest 10,000 at most): memory =
statistic of peak memory × (1 + headroom), rounded up to 64 MiB; runtime = statistic of wall time
× (1 + headroom), rounded up to the minute; cores as the newest instance asked. Templates without
finished instances are listed as comments.

Examples:
  jobmon resources suggest --workflow 42 > resources.yaml
  jobmon resources suggest --workflow flu_2020 --strategy max --headroom 50%`,
    )
    .action(async (opts: { workflow: string; strategy?: 'p90' | 'max'; headroom?: number; json?: boolean }) => {
      const conn = await cliConnect();
      try {
        const id = await resolveWorkflow(conn.api, opts.workflow);
        const r = await conn.api.resourceSuggestions({
          id,
          query: {
            ...(opts.strategy !== undefined ? { strategy: opts.strategy } : {}),
            ...(opts.headroom !== undefined ? { headroom: opts.headroom } : {}),
          },
        });
        console.log(opts.json ? jsonLine(r, 2) : suggestionYaml(r));
      } finally {
        await conn.close();
      }
    });
}
