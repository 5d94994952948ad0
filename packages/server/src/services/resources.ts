// What finished tasks used, against what they asked (GET /resources/usage), compute resources to
// ask next time per template of a workflow (GET /workflows/{id}/resource-suggestions), and which
// nodes fail jobs for infrastructure reasons (GET /nodes).
//
// Usage and suggestions read the newest RESOURCE_SAMPLE_MAX finished (DONE) instances (a bounded
// read) and compute percentiles here; answers say how many were `sampled` of how many `finished`.
// Percentiles are nearest-rank: p of n sorted values is the ⌈p·n⌉-th.

import {
  NotFoundError,
  ValidationError,
  wire,
  type NodeReportT,
  type NodesResponseT,
  type ResourceSuggestResponseT,
  type ResourceSuggestionT,
  type ResourceUsageResponseT,
  type UsageStatsT,
  type UtilisationT,
} from '@jobmon/core';
import { onDb, type Db } from '../db/connect.js';
import type { Q } from '../db/conn.js';
import {
  countFinished,
  finishedUsage,
  nodeFailures,
  templatesNamed,
  templatesOfWorkflow,
  type FinishedFilter,
} from '../db/queries/resources.js';
import { findWorkflow } from '../db/queries/workflow.js';

const MIB = 1024 * 1024;
/** Memory suggestions are rounded up to this many MiB. */
export const MEMORY_STEP_MIB = 64;
/** Runtime suggestions are rounded up to whole minutes. */
export const RUNTIME_STEP_S = 60;
/** A node is suspicious with at least this many infrastructure failures… */
export const SUSPICIOUS_MIN_FAILURES = 3;
/** …and a failure rate at least this many times that of all other nodes together. */
export const SUSPICIOUS_FACTOR = 3;

/** The nearest-rank percentile of ascending `sorted`; null when empty. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1]!;
}

function stats(values: number[]): UsageStatsT {
  const s = [...values].sort((a, b) => a - b);
  return {
    count: s.length,
    min: s[0] ?? null,
    median: percentile(s, 0.5),
    p90: percentile(s, 0.9),
    max: s[s.length - 1] ?? null,
  };
}

function utilisation(ratios: number[]): UtilisationT {
  const s = [...ratios].sort((a, b) => a - b);
  const round = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
  return { count: s.length, median: round(percentile(s, 0.5)), p90: round(percentile(s, 0.9)) };
}

function bad(field: string, problem: string, value: unknown, route: string): ValidationError {
  return new ValidationError(`GET ${route}: querystring/${field} ${problem}`, {
    field: `querystring/${field}`,
    route,
    value,
  });
}

function nodeArgsOf(raw: string | string[] | undefined): [string, string][] {
  if (raw === undefined) return [];
  return [raw].flat().map((kv) => {
    const at = kv.indexOf('=');
    if (at <= 0) throw bad('nodeArg', 'must be key=value with a non-empty key', kv, '/resources/usage');
    // eslint-disable-next-line no-control-regex
    if (/\u0000/.test(kv)) throw bad('nodeArg', 'must not contain NUL', kv, '/resources/usage');
    return [kv.slice(0, at), kv.slice(at + 1)];
  });
}

interface Asked {
  memory?: unknown;
  runtime?: unknown;
  cores?: unknown;
}

function asked(resources: string): Asked {
  try {
    const r = JSON.parse(resources) as unknown;
    return typeof r === 'object' && r !== null ? (r as Asked) : {};
  } catch {
    return {};
  }
}
const positive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

interface Sample {
  finished: number;
  sampled: number;
  runtimeMs: number[];
  memoryBytes: number[];
  runtimeUse: number[];
  memoryUse: number[];
  /** Cores the newest instance asked for. */
  cores: number | null;
}

async function sample(c: Q, f: FinishedFilter): Promise<Sample> {
  const rows = await finishedUsage(c, f, wire.RESOURCE_SAMPLE_MAX);
  const finished = rows.length < wire.RESOURCE_SAMPLE_MAX ? rows.length : await countFinished(c, f);
  const s: Sample = {
    finished,
    sampled: rows.length,
    runtimeMs: [],
    memoryBytes: [],
    runtimeUse: [],
    memoryUse: [],
    cores: null,
  };
  for (const r of rows) {
    const a = asked(r.resources);
    if (s.cores === null && positive(a.cores)) s.cores = a.cores;
    if (r.wall_time_ms !== null) {
      const ms = Number(r.wall_time_ms);
      s.runtimeMs.push(ms);
      if (positive(a.runtime)) s.runtimeUse.push(ms / 1000 / a.runtime);
    }
    if (r.peak_memory_bytes !== null) {
      const b = Number(r.peak_memory_bytes);
      s.memoryBytes.push(b);
      if (positive(a.memory)) s.memoryUse.push(b / (a.memory * MIB));
    }
  }
  return s;
}

/** Runtime and peak memory of a template's finished instances, in a workflow or across all. */
export async function resourceUsage(
  db: Db,
  q: { template?: string; tool?: string; workflowId?: number; nodeArg?: string | string[] },
): Promise<ResourceUsageResponseT> {
  const c = onDb(db);
  const nodeArgs = nodeArgsOf(q.nodeArg);
  if (q.template === undefined) throw bad('template', 'is required', undefined, '/resources/usage');
  const query = { ...q, template: q.template };
  let templateIds: number[];
  let tool: string;
  if (query.workflowId !== undefined) {
    const wf = await findWorkflow(c, query.workflowId);
    if (!wf) throw new NotFoundError(`workflow ${query.workflowId} does not exist`, { workflowId: query.workflowId });
    const t = (await templatesOfWorkflow(c, query.workflowId)).find((r) => r.name === query.template);
    if (!t)
      throw new NotFoundError(`workflow ${query.workflowId} has no task template '${query.template}'`, {
        workflowId: query.workflowId,
        template: query.template,
      });
    const named = await templatesNamed(c, query.template);
    const own = named.find((r) => r.id === t.id)!;
    tool = own.tool;
    templateIds = named.filter((r) => r.tool === tool).map((r) => r.id);
  } else {
    const named = await templatesNamed(c, query.template, query.tool);
    const tools = [...new Set(named.map((r) => r.tool))].sort();
    if (tools.length === 0)
      throw new NotFoundError(
        `no task template is named '${query.template}'${query.tool !== undefined ? ` in tool '${query.tool}'` : ''}`,
        { template: query.template, ...(query.tool !== undefined ? { tool: query.tool } : {}) },
      );
    if (tools.length > 1)
      throw new ValidationError(
        `task template '${query.template}' exists in ${tools.length} tools (${tools.join(', ')}); name one with tool, or give a workflow`,
        { field: 'querystring/template', template: query.template, tools },
      );
    tool = tools[0]!;
    templateIds = named.map((r) => r.id);
  }
  const f: FinishedFilter = {
    templateIds,
    nodeArgs,
    ...(query.workflowId !== undefined ? { workflowId: query.workflowId } : {}),
  };
  const s = await sample(c, f);
  return {
    template: query.template,
    tool,
    workflowId: query.workflowId ?? null,
    nodeArgs: Object.fromEntries(nodeArgs),
    finished: s.finished,
    sampled: s.sampled,
    runtimeMs: stats(s.runtimeMs),
    memoryBytes: stats(s.memoryBytes),
    utilisation: { runtime: utilisation(s.runtimeUse), memory: utilisation(s.memoryUse) },
  };
}

/** `stat × (1 + headroom)` rounded up to a multiple of `step` (at least one step). */
export function roundUp(value: number, headroomPercent: number, step: number): number {
  const v = value * (1 + headroomPercent / 100);
  // A hair of tolerance so that 1.2 × 100 = 120.00000000000001 stays 120.
  return Math.max(step, Math.ceil(v / step - 1e-9) * step);
}

/** Per template of the workflow: memory and runtime to ask, from its finished instances in this workflow. */
export async function resourceSuggestions(
  db: Db,
  workflowId: number,
  query: { strategy: 'p90' | 'max'; headroom: number },
): Promise<ResourceSuggestResponseT> {
  const c = onDb(db);
  const wf = await findWorkflow(c, workflowId);
  if (!wf) throw new NotFoundError(`workflow ${workflowId} does not exist`, { workflowId });
  const p = query.strategy === 'max' ? 1 : 0.9;
  const templates: ResourceSuggestionT[] = [];
  const unfinished: string[] = [];
  for (const t of await templatesOfWorkflow(c, workflowId)) {
    const s = await sample(c, { templateIds: [t.id], workflowId, nodeArgs: [] });
    if (s.sampled === 0) {
      unfinished.push(t.name);
      continue;
    }
    const mem = percentile(
      [...s.memoryBytes].sort((a, b) => a - b),
      p,
    );
    const run = percentile(
      [...s.runtimeMs].sort((a, b) => a - b),
      p,
    );
    templates.push({
      template: t.name,
      finished: s.finished,
      sampled: s.sampled,
      memory:
        mem === null ? null : { statBytes: mem, suggestedMiB: roundUp(mem / MIB, query.headroom, MEMORY_STEP_MIB) },
      runtime:
        run === null ? null : { statMs: run, suggestedSeconds: roundUp(run / 1000, query.headroom, RUNTIME_STEP_S) },
      cores: s.cores,
    });
  }
  return {
    workflowId,
    workflowName: wf.name,
    strategy: query.strategy,
    headroomPercent: query.headroom,
    templates,
    unfinished,
  };
}

/**
 * Per node, the instances created in the window and how many ended with an infrastructure-class
 * error. A node is suspicious with at least SUSPICIOUS_MIN_FAILURES such failures and a rate at least
 * SUSPICIOUS_FACTOR × the rate of all other nodes together (any rate, when they had none). Worst
 * first: suspicious, then by rate, failures, instances and name.
 */
export async function listNodes(db: Db, windowMs: number, now = Date.now()): Promise<NodesResponseT> {
  const since = now - windowMs;
  const rows = (await nodeFailures(onDb(db), since)).map((r) => ({
    nodeName: r.node_name!,
    instances: Number(r.instances),
    failures: Number(r.failures ?? 0),
    lastFailureAt: r.last_failure_at === null ? null : Number(r.last_failure_at),
  }));
  const instances = rows.reduce((n, r) => n + r.instances, 0);
  const failures = rows.reduce((n, r) => n + r.failures, 0);
  const nodes: NodeReportT[] = rows.map((r) => {
    const rate = r.failures / r.instances;
    const otherInstances = instances - r.instances;
    const otherRate = otherInstances === 0 ? null : (failures - r.failures) / otherInstances;
    const suspicious =
      r.failures >= SUSPICIOUS_MIN_FAILURES && otherRate !== null && rate >= SUSPICIOUS_FACTOR * otherRate;
    return {
      nodeName: r.nodeName,
      instances: r.instances,
      infrastructureFailures: r.failures,
      failureRate: rate,
      suspicious,
      lastFailureAt: r.lastFailureAt,
    };
  });
  nodes.sort(
    (a, b) =>
      Number(b.suspicious) - Number(a.suspicious) ||
      b.failureRate - a.failureRate ||
      b.infrastructureFailures - a.infrastructureFailures ||
      b.instances - a.instances ||
      a.nodeName.localeCompare(b.nodeName),
  );
  return {
    windowMs,
    since,
    instances,
    infrastructureFailures: failures,
    overallRate: instances === 0 ? 0 : failures / instances,
    nodeCount: nodes.length,
    nodes: nodes.slice(0, wire.NODES_MAX),
  };
}
