// Compute resources: parsing of human units and validation against a queue's limits.
// Memory is normalised to MiB, runtime to seconds. Unknown keys are kept (a cluster may use them).

import { InvalidResourcesError } from './errors.js';

export interface ComputeResources {
  cores?: number;
  /** MiB */
  memory?: number;
  /** seconds */
  runtime?: number;
  queue?: string;
  [key: string]: unknown;
}

export type ResourceInput = Record<string, unknown>;

const MEMORY_UNITS: Record<string, number> = {
  '': 1,
  b: 1 / (1024 * 1024),
  k: 1 / 1024,
  kb: 1 / 1024,
  kib: 1 / 1024,
  m: 1,
  mb: 1,
  mib: 1,
  g: 1024,
  gb: 1024,
  gib: 1024,
  t: 1024 * 1024,
  tb: 1024 * 1024,
  tib: 1024 * 1024,
};

/** "4G", "512M", "1.5GiB", 2048 (MiB) → MiB. */
export function parseMemory(value: unknown, where: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return Math.ceil(value);
  if (typeof value === 'string') {
    const m = /^\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*$/.exec(value);
    const factor = m ? MEMORY_UNITS[(m[2] ?? '').toLowerCase()] : undefined;
    if (m && factor !== undefined && Number(m[1]) > 0) return Math.ceil(Number(m[1]) * factor);
  }
  throw new InvalidResourcesError(
    `${where}: memory ${JSON.stringify(value)} is not a positive size (use MiB as a number, or "4G", "512M")`,
    { field: 'memory', value },
  );
}

const RUNTIME_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "1h30m", "90m", "01:30:00", "2d", 3600 (seconds) → seconds. */
export function parseRuntime(value: unknown, where: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return Math.ceil(value);
  if (typeof value === 'string') {
    const s = value.trim();
    const hms = /^(?:(\d+)-)?(\d+):(\d{1,2})(?::(\d{1,2}))?$/.exec(s);
    if (hms) {
      const [, d, a, b, c] = hms;
      const secs =
        Number(d ?? 0) * 86400 +
        (c === undefined ? Number(a) * 60 + Number(b) : Number(a) * 3600 + Number(b) * 60 + Number(c));
      if (secs > 0) return secs;
    }
    if (/^(\d+(\.\d+)?[smhd])+$/i.test(s)) {
      let secs = 0;
      for (const part of s.matchAll(/(\d+(?:\.\d+)?)([smhd])/gi)) {
        secs += Number(part[1]) * (RUNTIME_UNITS[(part[2] ?? 's').toLowerCase()] ?? 1);
      }
      if (secs > 0) return Math.ceil(secs);
    }
    if (/^\d+(\.\d+)?$/.test(s) && Number(s) > 0) return Math.ceil(Number(s));
  }
  throw new InvalidResourcesError(
    `${where}: runtime ${JSON.stringify(value)} is not a positive duration (seconds, "1h30m", "90m" or "HH:MM:SS")`,
    { field: 'runtime', value },
  );
}

/** Normalise units and check types. Does not know queue limits (see validateAgainstQueue). */
export function normaliseResources(input: ResourceInput | undefined, where: string): ComputeResources {
  const out: ComputeResources = {};
  if (input === undefined) return out;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidResourcesError(`${where}: compute resources must be an object`, { value: input });
  }
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || value === null) continue;
    switch (key) {
      case 'cores':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
          throw new InvalidResourcesError(`${where}: cores ${JSON.stringify(value)} must be a positive integer`, {
            field: 'cores',
            value,
          });
        }
        out.cores = value;
        break;
      case 'memory':
        out.memory = parseMemory(value, where);
        break;
      case 'runtime':
        out.runtime = parseRuntime(value, where);
        break;
      case 'queue':
        if (typeof value !== 'string' || value === '') {
          throw new InvalidResourcesError(`${where}: queue must be a non-empty string`, { field: 'queue', value });
        }
        out.queue = value;
        break;
      default:
        out[key] = value;
    }
  }
  return out;
}

/** A queue's limits: [min, max] per numeric resource. */
export type QueueLimits = Partial<Record<'cores' | 'memory' | 'runtime', readonly [number, number]>>;

export function validateAgainstQueue(
  resources: ComputeResources,
  limits: QueueLimits,
  where: string,
  queueName: string,
): void {
  for (const key of ['cores', 'memory', 'runtime'] as const) {
    const range = limits[key];
    const value = resources[key];
    if (range === undefined || value === undefined) continue;
    if (value < range[0] || value > range[1]) {
      throw new InvalidResourcesError(
        `${where}: ${key} ${value} is outside queue '${queueName}' limits [${range[0]}, ${range[1]}]`,
        { field: key, value, queue: queueName, limits: range },
      );
    }
  }
}

/**
 * How a task's resources grow after a resource error, per resource: a factor (0.5 = +50 %) or
 * the successive values to try (normalised like the resource itself: MiB, seconds).
 */
export type ResourceScales = Record<string, number | number[]>;

/** Applied to memory and runtime unless a task or template names them. */
export const DEFAULT_RESOURCE_SCALES: Readonly<ResourceScales> = { memory: 0.5, runtime: 0.5 };

/** Check and normalise resource scales: factors ≥ 0; lists of positive values in the resource's units. */
export function normaliseResourceScales(input: unknown, where: string): ResourceScales {
  const out: ResourceScales = {};
  if (input === undefined || input === null) return out;
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidResourcesError(
      `${where}: resource scales must be an object such as {"memory": 0.5, "runtime": [3600, 7200]}`,
      {
        field: 'resourceScales',
        value: input,
      },
    );
  }
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (value === undefined || value === null) continue;
    if (typeof value === 'number') {
      if (!Number.isFinite(value) || value < 0) {
        throw new InvalidResourcesError(
          `${where}: resource scale for ${key} must be a factor ≥ 0 (0.5 means +50 %), not ${JSON.stringify(value)}`,
          {
            field: 'resourceScales',
            resource: key,
            value,
          },
        );
      }
      out[key] = value;
    } else if (Array.isArray(value) && value.length > 0) {
      out[key] = value.map((v) => {
        if (key === 'memory') return parseMemory(v, `${where}: resource scale`);
        if (key === 'runtime') return parseRuntime(v, `${where}: resource scale`);
        if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (key === 'cores' && !Number.isInteger(v))) {
          throw new InvalidResourcesError(
            `${where}: resource scale for ${key} lists ${JSON.stringify(v)}, which is not a positive number`,
            {
              field: 'resourceScales',
              resource: key,
              value: v,
            },
          );
        }
        return v;
      });
    } else {
      throw new InvalidResourcesError(
        `${where}: resource scale for ${key} must be a factor or a non-empty list of values`,
        {
          field: 'resourceScales',
          resource: key,
          value,
        },
      );
    }
  }
  return out;
}
