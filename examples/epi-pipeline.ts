// An epidemiology-shaped pipeline: prepare data, model every location, aggregate locations into
// regions, summarise. Each task is a real shell command writing real files, so you can look at
// what ran. Run it with `npm run example` (or `npx tsx examples/epi-pipeline.ts [locations]`).
// Run it twice: the second run finds the workflow DONE and does nothing.

import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tool } from '@jobmon/client';

const LOCATIONS = Number(process.argv[2] ?? 20);
const REGION_SIZE = 5;
const YEAR = 2025;
const out = process.env['EPI_OUT'] ?? join(tmpdir(), `jobmon-epi-example`);
mkdirSync(out, { recursive: true });

const tool = new Tool('epi_example');
tool.setDefaultCluster('local');

const dataPrep = tool.getTaskTemplate({
  name: 'data_prep',
  commandTemplate: 'mkdir -p {out} && echo "population,incidence" > {out}/inputs_{year}.csv && sleep 0.2',
  taskArgs: ['year'],
  opArgs: ['out'],
});
const oneLocation = tool.getTaskTemplate({
  name: 'one_location',
  // A stand-in model: derive a number from the location id and write it out.
  commandTemplate:
    'test -f {out}/inputs_{year}.csv && echo "location {location_id}: $(( ({location_id} * 7919) % 1000 ))" > {out}/loc_{location_id}_{year}.txt',
  nodeArgs: ['location_id'],
  taskArgs: ['year'],
  opArgs: ['out'],
});
const aggregate = tool.getTaskTemplate({
  name: 'aggregate',
  commandTemplate:
    'for loc in {members}; do cat {out}/loc_${{loc}}_{year}.txt; done > {out}/region_{region}_{year}.txt',
  nodeArgs: ['region'],
  taskArgs: ['year'],
  opArgs: ['out', 'members'],
});
const summarize = tool.getTaskTemplate({
  name: 'summarize',
  commandTemplate: 'cat {out}/region_*_{year}.txt | wc -l > {out}/summary_{year}.txt && cat {out}/summary_{year}.txt',
  taskArgs: ['year'],
  opArgs: ['out'],
});

const workflow = tool.createWorkflow({
  name: `epi_example_${LOCATIONS}_locations`,
  workflowArgs: { year: YEAR, locations: LOCATIONS },
  description: 'data_prep → one task per location → regional aggregates → summary',
});

const prep = dataPrep.createTask({ year: YEAR, out });
const locations = oneLocation.createTasks(
  { location_id: [...Array(LOCATIONS).keys()], year: YEAR, out },
  { upstream: [prep] },
);
const regions = [];
for (let r = 0; r * REGION_SIZE < LOCATIONS; r++) {
  regions.push(
    aggregate.createTask(
      {
        region: r,
        year: YEAR,
        out,
        members: [...Array(REGION_SIZE).keys()]
          .map((k) => r * REGION_SIZE + k)
          .filter((k) => k < LOCATIONS)
          .join(' '),
      },
      { upstream: locations.slice(r * REGION_SIZE, (r + 1) * REGION_SIZE) },
    ),
  );
}
const summary = summarize.createTask({ year: YEAR, out }, { upstream: regions });
workflow.addTasks([prep, ...locations, ...regions, summary]);
workflow.setTemplateConcurrency('one_location', 4);

const result = await workflow.run({
  onBound: ({ workflowId, resumed, total, alreadyDone }) =>
    console.log(`workflow ${workflowId}: ${total} tasks${resumed ? ` (resuming; ${alreadyDone} already done)` : ''}`),
});
if (result.alreadyDone) {
  console.log(`workflow ${result.workflowId} is already DONE; nothing to run.`);
} else {
  console.log(
    `workflow ${result.workflowId} ended ${result.status}: ${result.done}/${result.total} done, ${result.failed} failed in ${(result.elapsedMs / 1000).toFixed(1)} s`,
  );
  for (const e of result.errors) console.log(`  ${e.taskName}: ${e.errorClass} error: ${e.message}`);
  console.log(`outputs in ${out}; logs in ${result.logDir}`);
}
console.log(`state: ${result.stateLocation}`);
process.exitCode = result.status === 'DONE' ? 0 : 1;
