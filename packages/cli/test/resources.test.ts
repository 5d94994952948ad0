// `jobmon resources usage` and `jobmon resources suggest` as a user runs them: the built CLI against
// a server on the lane's database. One workflow runs real `sleep` tasks (measured by the worker);
// another runs real tasks whose recorded usage is then rewritten in the database to known values,
// so every statistic, utilisation and suggestion below has one right answer. The suggested YAML is
// fed back into a workflow file that then runs with exactly those resources.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createApiClient, normaliseResources, Requester, type ApiClient } from '@jobmon/core';
import { Tool } from '@jobmon/client';
import { startServer, type RunningServer } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';
import { jobmon as cli } from './cli.js';

let db: TestDb;
let server: RunningServer;
let api: ApiClient;

const env = () => ({ JOBMON_URL: server.url, JOBMON_HOME: join(db.dir, 'home') });
const jobmon = (args: string[]) => cli(args, env(), 120_000);
const MIB = 1024 * 1024;

function workflowFile(name: string, spec: object): string {
  const file = join(db.dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(spec));
  return file;
}

async function workflowId(name: string): Promise<number> {
  const [w] = (await api.listWorkflows({ query: { exactName: name } })).workflows;
  return w!.id;
}

let realId: number;
let ctlId: number;

beforeAll(async () => {
  db = await createTestDb('cli-resources');
  server = await startServer({ db: db.target, reaper: false });
  api = createApiClient(new Requester(server.url));
  // Real measurements: three 1-second sleeps that asked for 10 s and 512 MiB.
  const real = workflowFile('real', {
    name: 'real_wf',
    tool: 'epi',
    defaults: { compute_resources: { runtime: 10, memory: '512M' } },
    tasks: [
      ...[1, 2, 3].map((i) => ({ name: `nap_${i}`, template: 'nap', args: { i }, command: 'sleep 1' })),
      // Holds 96 MiB (filled, so resident) for 1.5 s.
      ...[1, 2].map((i) => ({
        name: `hog_${i}`,
        template: 'hog',
        args: { i },
        command: `'${process.execPath}' -e 'const b = Buffer.alloc(96 << 20, 1); setTimeout(() => b.length, 1500)'`,
      })),
    ],
  });
  expect((await jobmon(['run', real])).code).toBe(0);
  realId = await workflowId('real_wf');
  // Controlled: ten 'fit' tasks (location_id 0–9) that asked for 10 min, 2000 MiB and 2 cores;
  // their usage is rewritten below to 30 s…300 s and 100…1000 MiB. 'never' fails: no finished instance.
  const ctl = workflowFile('ctl', {
    name: 'ctl_wf',
    tool: 'epi',
    defaults: { compute_resources: { runtime: '10m', memory: 2000, cores: 2 } },
    tasks: [
      ...Array.from({ length: 10 }, (_, i) => ({
        name: `fit_${i}`,
        template: 'fit',
        args: { location_id: i },
        command: 'true',
      })),
      { name: 'never', template: 'never', command: 'exit 1', max_attempts: 1 },
    ],
  });
  expect((await jobmon(['run', ctl])).code).toBe(1);
  ctlId = await workflowId('ctl_wf');
  const fits = (await api.getWorkflowTasks({ id: ctlId, query: { template: 'fit' } })).tasks;
  for (const t of fits) {
    const i = Number(t.name.slice('fit_'.length));
    await server.db.kysely
      .updateTable('task_instance')
      .set({ wall_time_ms: (i + 1) * 30_000, peak_memory_bytes: (i + 1) * 100 * MIB })
      .where('task_id', '=', t.id)
      .execute();
  }
  // The same template name in another tool: 'fit' alone is ambiguous.
  const other = workflowFile('other', {
    name: 'other_wf',
    tool: 'other_tool',
    tasks: [{ name: 'f', template: 'fit', command: 'true' }],
  });
  expect((await jobmon(['run', other])).code).toBe(0);
}, 300_000);
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe(`jobmon resources on ${TEST_DB_KIND}`, () => {
  it('usage of real tasks: their measured wall time and peak memory against what they asked', async () => {
    const r = await jobmon(['resources', 'usage', '--template', 'nap', '--json']);
    expect(r.code).toBe(0);
    const u = JSON.parse(r.stdout);
    expect(u).toEqual(await api.resourceUsage({ query: { template: 'nap' } }));
    expect(u).toMatchObject({ template: 'nap', tool: 'epi', workflowId: null, finished: 3, sampled: 3 });
    expect(u.runtimeMs.count).toBe(3);
    expect(u.runtimeMs.min).toBeGreaterThanOrEqual(1000);
    // A 1 s sleep against a 10 s request: about a tenth used (startup included).
    expect(u.utilisation.runtime.count).toBe(3);
    expect(u.utilisation.runtime.median).toBeGreaterThanOrEqual(0.1);
    expect(u.utilisation.runtime.median).toBeLessThan(0.5);
    expect(u.memoryBytes.count).toBe(3);
    expect(u.memoryBytes.min).toBeGreaterThan(0);
    expect(u.utilisation.memory.p90).toBeGreaterThan(0);
    expect(u.utilisation.memory.p90).toBeLessThan(1);
    const human = await jobmon(['resources', 'usage', '--template', 'nap', '--workflow', 'real_wf']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`template nap (tool epi), workflow ${realId}\n3 finished instances\n`);
    expect(human.stdout).toMatch(/^ +COUNT +MIN +MEDIAN +P90 +MAX$/m);
    expect(human.stdout).toMatch(/^ {2}runtime +3 +\d/m);
    expect(human.stdout).toMatch(/^ {2}peak memory +3 +[\d.]+ [KM]iB/m);
    expect(human.stdout).toContain('used / requested:');
  });

  it('usage of real tasks that hold memory: their peak is at least what they held', async () => {
    const u = await api.resourceUsage({ query: { template: 'hog', workflowId: realId } });
    const json = JSON.parse(
      (await jobmon(['resources', 'usage', '--template', 'hog', '--workflow', 'real_wf', '--json'])).stdout,
    );
    expect(json).toEqual(u);
    expect(u).toMatchObject({ finished: 2, sampled: 2, memoryBytes: { count: 2 } });
    expect(u.memoryBytes.min).toBeGreaterThanOrEqual(96 * MIB);
    // At least 96 of the 512 MiB asked, and (it finished) under all of it.
    expect(u.utilisation.memory.median).toBeGreaterThanOrEqual(96 / 512);
    expect(u.utilisation.memory.p90).toBeLessThan(1);
    expect(u.runtimeMs.min).toBeGreaterThanOrEqual(1500);
    // Suggested from these measurements: over 96 MiB × 1.2, in 64 MiB steps; 1.5 s × 1.2 → 1 minute.
    const s = await api.resourceSuggestions({ id: realId });
    const hog = s.templates.find((t) => t.template === 'hog')!;
    expect(hog.memory!.suggestedMiB).toBeGreaterThanOrEqual(128);
    expect(hog.memory!.suggestedMiB % 64).toBe(0);
    expect(hog.memory!.suggestedMiB * MIB).toBeGreaterThanOrEqual(hog.memory!.statBytes * 1.2);
    expect(hog).toMatchObject({ runtime: { suggestedSeconds: 60 }, cores: null });
  });

  it('usage of controlled history: min, median, p90, max and utilisation are the known values', async () => {
    const r = await jobmon(['resources', 'usage', '--template', 'fit', '--workflow', String(ctlId), '--json']);
    expect(r.code).toBe(0);
    const u = JSON.parse(r.stdout);
    expect(u).toEqual(await api.resourceUsage({ query: { template: 'fit', workflowId: ctlId } }));
    expect(u).toEqual({
      template: 'fit',
      tool: 'epi',
      workflowId: ctlId,
      nodeArgs: {},
      finished: 10,
      sampled: 10,
      runtimeMs: { count: 10, min: 30_000, median: 150_000, p90: 270_000, max: 300_000 },
      memoryBytes: { count: 10, min: 100 * MIB, median: 500 * MIB, p90: 900 * MIB, max: 1000 * MIB },
      // 30…300 s of 600 s; 100…1000 MiB of 2000 MiB.
      utilisation: { runtime: { count: 10, median: 0.25, p90: 0.45 }, memory: { count: 10, median: 0.25, p90: 0.45 } },
    });
    const human = await jobmon(['resources', 'usage', '--template', 'fit', '--tool', 'epi']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^ {2}runtime +10 +30s +2m 30s +4m 30s +5m 0s$/m);
    expect(human.stdout).toMatch(/^ {2}peak memory +10 +100\.0 MiB +500\.0 MiB +900\.0 MiB +1000\.0 MiB$/m);
    expect(human.stdout).toMatch(/^ {2}runtime +10 +25% +45%$/m);
  });

  it('usage filtered on node args: only the tasks whose node arg has that value', async () => {
    const r = await jobmon([
      'resources',
      'usage',
      '--template',
      'fit',
      '--workflow',
      'ctl_wf',
      '--node-arg',
      'location_id=3',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const u = JSON.parse(r.stdout);
    expect(u).toMatchObject({ finished: 1, nodeArgs: { location_id: '3' } });
    expect(u.runtimeMs).toEqual({ count: 1, min: 120_000, median: 120_000, p90: 120_000, max: 120_000 });
    const none = JSON.parse(
      (
        await jobmon([
          'resources',
          'usage',
          '--template',
          'fit',
          '--tool',
          'epi',
          '--node-arg',
          'location_id=77',
          '--json',
        ])
      ).stdout,
    );
    expect(none).toMatchObject({ finished: 0, sampled: 0, runtimeMs: { count: 0, min: null, median: null } });
  });

  it('usage: an ambiguous template lists its tools and exits 2; unknown ones exit 3; bad input exits 2', async () => {
    const amb = await jobmon(['resources', 'usage', '--template', 'fit']);
    expect(amb.code).toBe(2);
    expect(amb.stderr).toContain("task template 'fit' exists in 2 tools (epi, other_tool)");
    const other = JSON.parse(
      (await jobmon(['resources', 'usage', '--template', 'fit', '--tool', 'other_tool', '--json'])).stdout,
    );
    expect(other).toMatchObject({ tool: 'other_tool', finished: 1 });
    const unknown = await jobmon(['resources', 'usage', '--template', 'nosuch']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain("no task template is named 'nosuch'");
    const notInWf = await jobmon(['resources', 'usage', '--template', 'nap', '--workflow', String(ctlId)]);
    expect(notInWf.code).toBe(3);
    expect(notInWf.stderr).toContain(`workflow ${ctlId} has no task template 'nap'`);
    expect((await jobmon(['resources', 'usage', '--template', 'fit', '--workflow', '999999'])).code).toBe(3);
    const badArg = await jobmon(['resources', 'usage', '--template', 'fit', '--node-arg', 'location_id']);
    expect(badArg.code).toBe(2);
    expect(badArg.stderr).toContain("must be key=value, got 'location_id'");
    expect((await jobmon(['resources', 'usage'])).code).toBe(2);
  });

  it('suggest: p90 (or max) × headroom, memory up to 64 MiB, runtime up to the minute, cores as asked', async () => {
    const r = await jobmon(['resources', 'suggest', '--workflow', 'ctl_wf', '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toEqual(await api.resourceSuggestions({ id: ctlId }));
    expect(s).toEqual({
      workflowId: ctlId,
      workflowName: 'ctl_wf',
      strategy: 'p90',
      headroomPercent: 20,
      // p90 900 MiB × 1.2 = 1080 → 1088 MiB; p90 270 s × 1.2 = 324 s → 360 s.
      templates: [
        {
          template: 'fit',
          finished: 10,
          sampled: 10,
          memory: { statBytes: 900 * MIB, suggestedMiB: 1088 },
          runtime: { statMs: 270_000, suggestedSeconds: 360 },
          cores: 2,
        },
      ],
      unfinished: ['never'],
    });
    const max = JSON.parse(
      (
        await jobmon([
          'resources',
          'suggest',
          '--workflow',
          String(ctlId),
          '--strategy',
          'max',
          '--headroom',
          '50%',
          '--json',
        ])
      ).stdout,
    );
    // max 1000 MiB × 1.5 = 1500 → 1536 MiB; max 300 s × 1.5 = 450 s → 480 s.
    expect(max.templates[0]).toMatchObject({ memory: { suggestedMiB: 1536 }, runtime: { suggestedSeconds: 480 } });
    const yaml = await jobmon(['resources', 'suggest', '--workflow', String(ctlId)]);
    expect(yaml.code).toBe(0);
    expect(yaml.stdout).toContain(
      '  template_resources:\n    fit: # 10 finished; p90 runtime 4m 30s; p90 peak memory 900.0 MiB\n      cores: 2\n      memory: 1088M\n      runtime: 6m\n',
    );
    expect(yaml.stdout).toContain('    # never: no finished instances; keep what it asks\n');
  });

  it('suggest: bad input exits 2 naming it; an unknown workflow exits 3', async () => {
    const h = await jobmon(['resources', 'suggest', '--workflow', 'ctl_wf', '--headroom', 'lots']);
    expect(h.code).toBe(2);
    expect(h.stderr).toContain("must be a whole percentage 0–1000 such as 20%, got 'lots'");
    const st = await jobmon(['resources', 'suggest', '--workflow', 'ctl_wf', '--strategy', 'p50']);
    expect(st.code).toBe(2);
    expect(st.stderr).toContain("must be 'p90' or 'max', got 'p50'");
    expect((await jobmon(['resources', 'suggest', '--workflow', '999999'])).code).toBe(3);
    expect((await jobmon(['resources', 'suggest', '--workflow', 'no_such_wf'])).code).toBe(3);
  });

  it('the suggested YAML is accepted as is: a workflow file built on it runs with those resources', async () => {
    const yaml = (await jobmon(['resources', 'suggest', '--workflow', 'ctl_wf'])).stdout;
    const doc = parseYaml(yaml) as { defaults: { template_resources: Record<string, Record<string, unknown>> } };
    expect(doc.defaults.template_resources).toEqual({ fit: { cores: 2, memory: '1088M', runtime: '6m' } });
    // The TypeScript client takes an entry as a template's defaultResources for a cluster.
    const fitResources = doc.defaults.template_resources['fit']!;
    expect(normaliseResources(fitResources, 'fit')).toEqual({ cores: 2, memory: 1088, runtime: 360 });
    const template = new Tool('epi').getTaskTemplate({
      name: 'fit',
      commandTemplate: '{command}',
      opArgs: ['command'],
      defaultResources: { local: fitResources },
    });
    expect(template.defaultResources['local']).toEqual(fitResources);
    // The workflow file takes the block as its `defaults`; a task's own compute_resources still win.
    const file = workflowFile('fed', {
      name: 'fed_wf',
      tool: 'epi',
      defaults: { ...doc.defaults, compute_resources: { runtime: '10m', memory: 2000, cores: 1 } },
      tasks: [
        { name: 'a', template: 'fit', args: { location_id: 0 }, command: 'true' },
        {
          name: 'b',
          template: 'fit',
          args: { location_id: 1 },
          command: 'true',
          compute_resources: { memory: '256M' },
        },
      ],
    });
    const run = await jobmon(['run', file]);
    expect(run.stderr).not.toMatch(/error|mistake/i);
    expect(run.code).toBe(0);
    const fedId = await workflowId('fed_wf');
    const asked = new Map<string, Record<string, unknown>>();
    for (const t of (await api.getWorkflowTasks({ id: fedId })).tasks)
      asked.set(t.name, (await api.getTask({ id: t.id })).attempts[0]!.resources);
    expect(asked.get('a')).toMatchObject({ cores: 2, memory: 1088, runtime: 360 });
    expect(asked.get('b')).toMatchObject({ cores: 2, memory: 256, runtime: 360 });
  });

  it('a workflow file whose template_resources name no template, are no object or do not parse is refused and nothing is written', async () => {
    const before = (await api.listWorkflows({ query: {} })).workflows.length;
    const file = workflowFile('badres', {
      name: 'badres_wf',
      defaults: { template_resources: { fti: { memory: '1G' }, task: 'lots', b: { runtime: 'forever' } } },
      tasks: [
        { name: 'a', command: 'true' },
        { name: 'b', template: 'b', command: 'true' },
      ],
    });
    const r = await jobmon(['run', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('defaults.template_resources.fti: names no template of a task in the file');
    expect(r.stderr).toContain('defaults.template_resources.task: must be an object of compute resources');
    expect(r.stderr).toContain('defaults.template_resources.b: runtime "forever" is not a positive duration');
    expect((await api.listWorkflows({ query: {} })).workflows.length).toBe(before);
  });
});
