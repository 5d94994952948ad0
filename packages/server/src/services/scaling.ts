// Resources for a retry after a resource error, decided by the server when the task is queued
// again: scale the last attempt's resources (per resource a factor or a list of successive values;
// memory and runtime +50 % by default), then place the result on the task's queue or the first of
// its fallback queues whose limits it fits; if none fits, the last queue tried is used and the
// values are coerced into its limits. Pure functions: queueTasks reads the rows and writes the result.

import {
  DEFAULT_RESOURCE_SCALES,
  normaliseResourceScales,
  type ComputeResources,
  type QueueLimits,
  type ResourceScales,
} from '@jobmon/core';

export interface QueueChoice {
  id: number;
  name: string;
  limits: QueueLimits;
}

const LIMITED = ['cores', 'memory', 'runtime'] as const;

/** One resource's next value: a factor grows it (0.5 → +50 %, rounded up); a list gives the first
 * listed value above the current one, and once exhausted keeps the last (never shrinking). */
export function scaleValue(current: number, scale: number | readonly number[]): number {
  if (typeof scale === 'number') return Math.ceil(current * (1 + scale));
  const next = scale.find((v) => v > current);
  return next ?? Math.max(current, scale[scale.length - 1] ?? current);
}

/** The task's scales over the defaults. A stored value that no longer validates counts as absent. */
export function effectiveScales(stored: unknown): ResourceScales {
  let own: ResourceScales;
  try {
    own = normaliseResourceScales(stored, 'resource scales');
  } catch {
    own = {};
  }
  return { ...DEFAULT_RESOURCE_SCALES, ...own };
}

/** Scale every numeric resource that has a scale; resources the task did not request stay absent. */
export function scaleResources(last: ComputeResources, scales: ResourceScales): ComputeResources {
  const out: ComputeResources = { ...last };
  for (const [key, scale] of Object.entries(scales)) {
    const v = last[key];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) out[key] = scaleValue(v, scale);
  }
  return out;
}

export function fitsQueue(resources: ComputeResources, limits: QueueLimits): boolean {
  return LIMITED.every((key) => {
    const range = limits[key];
    const v = resources[key];
    return range === undefined || typeof v !== 'number' || (v >= range[0] && v <= range[1]);
  });
}

/** Clamp each limited resource into the queue's [min, max]; returns the names of those changed. */
export function coerceToQueue(
  resources: ComputeResources,
  limits: QueueLimits,
): { resources: ComputeResources; coerced: string[] } {
  const out: ComputeResources = { ...resources };
  const coerced: string[] = [];
  for (const key of LIMITED) {
    const range = limits[key];
    const v = out[key];
    if (range === undefined || typeof v !== 'number') continue;
    const clamped = Math.min(Math.max(v, range[0]), range[1]);
    if (clamped !== v) {
      out[key] = clamped;
      coerced.push(key);
    }
  }
  return { resources: out, coerced };
}

/** The current queue, then the fallbacks in order: the first that fits, else the last, coerced. */
export function placeOnQueue(
  resources: ComputeResources,
  current: QueueChoice,
  fallbacks: readonly QueueChoice[],
): { resources: ComputeResources; queue: QueueChoice; coerced: string[] } {
  const chain = [current, ...fallbacks.filter((q) => q.id !== current.id)];
  const fit = chain.find((q) => fitsQueue(resources, q.limits));
  if (fit) return { resources, queue: fit, coerced: [] };
  const last = chain[chain.length - 1]!;
  return { ...coerceToQueue(resources, last.limits), queue: last };
}

export interface RetryPlan {
  resources: ComputeResources;
  queue: QueueChoice;
  /** Resources clamped to the chosen queue's limits (the scaled value did not fit anywhere). */
  coerced: string[];
}

/**
 * The next attempt's resources and queue. `queues` are the queues of the task's cluster; fallback
 * names that are not among them are skipped (bind rejects them; a queue may have been removed).
 */
export function planRetry(task: {
  resources: ComputeResources;
  resourceScales: unknown;
  fallbackQueues: unknown;
  queueId: number;
  queues: readonly QueueChoice[];
}): RetryPlan {
  const scaled = scaleResources(task.resources, effectiveScales(task.resourceScales));
  const current = task.queues.find((q) => q.id === task.queueId);
  if (!current)
    return { resources: scaled, queue: { id: task.queueId, name: `queue ${task.queueId}`, limits: {} }, coerced: [] };
  const names = Array.isArray(task.fallbackQueues)
    ? task.fallbackQueues.filter((n): n is string => typeof n === 'string')
    : [];
  const fallbacks = names.flatMap((n) => task.queues.filter((q) => q.name === n));
  return placeOnQueue(scaled, current, fallbacks);
}
