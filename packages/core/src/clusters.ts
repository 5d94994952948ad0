// Clusters as data: the known cluster types, and the one check of a cluster's definition (its
// type, options and queues with limits) that the server's PUT /clusters/:name, the config file
// and the CLI all use, so a mistake reads the same wherever it was made and names the field.

import { ValidationError } from './errors.js';

/** Cluster types a distributor may exist for; the runner picks a distributor by type. */
export const CLUSTER_TYPES = ['sequential', 'local', 'dummy', 'slurm'] as const;
export type ClusterType = (typeof CLUSTER_TYPES)[number];

/** Resources a queue may limit, in normalised units: cores, memory in MiB, runtime in seconds. */
export const LIMITED_RESOURCES = ['cores', 'memory', 'runtime'] as const;
export type LimitedResource = (typeof LIMITED_RESOURCES)[number];

/** Cluster and queue names: a word that is safe in a URL, a file name and a shell (`null.q`, `all-gpu_2`). */
export const CLUSTER_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const NAME_RE = new RegExp(CLUSTER_NAME_PATTERN);

export type ClusterOptionValue = string | number | boolean;
export interface QueueSpec {
  name: string;
  /** [min, max] per resource, inclusive. */
  limits: Partial<Record<LimitedResource, [number, number]>>;
}
export interface ClusterSpec {
  type: ClusterType;
  options: Record<string, ClusterOptionValue>;
  queues: QueueSpec[];
}

/**
 * Options each type understands; a key outside its list is refused (a typo would otherwise be
 * silently ignored). `null`: not fixed yet (slurm's options belong to its distributor).
 */
const KNOWN_OPTIONS: Record<ClusterType, Record<string, (v: unknown) => string | undefined> | null> = {
  sequential: {},
  local: {
    parallelism: (v) =>
      typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 100_000
        ? undefined
        : 'must be a whole number from 1 to 100000',
  },
  dummy: {},
  slurm: null,
};

export function isClusterName(name: string): boolean {
  return NAME_RE.test(name);
}

export function isClusterType(type: unknown): type is ClusterType {
  return typeof type === 'string' && (CLUSTER_TYPES as readonly string[]).includes(type);
}

/**
 * Check a cluster definition and return it in canonical form (options and queues present).
 * `where` prefixes every message ("cluster 'gpu'", "config file /x/config.json: clusters.gpu");
 * details.field is the path of the offending field inside the definition.
 */
export function checkClusterSpec(name: string, input: unknown, where = `cluster '${name}'`): ClusterSpec {
  const fail = (field: string, problem: string, extra: Record<string, unknown> = {}): never => {
    throw new ValidationError(`${where}: ${field} ${problem}`, { cluster: name, field, ...extra });
  };
  if (!isClusterName(name))
    fail(
      'name',
      `${JSON.stringify(name)} must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return fail('definition', 'must be an object with type, options and queues');
  const spec = input as Record<string, unknown>;
  for (const key of Object.keys(spec))
    if (!['type', 'options', 'queues'].includes(key))
      fail(key, 'is not a cluster setting (known: type, options, queues)');
  const type = spec['type'];
  if (!isClusterType(type)) {
    return fail('type', `${JSON.stringify(type)} is not a known cluster type (known: ${CLUSTER_TYPES.join(', ')})`, {
      type,
    });
  }
  const options: Record<string, ClusterOptionValue> = {};
  const rawOptions = spec['options'] ?? {};
  if (typeof rawOptions !== 'object' || rawOptions === null || Array.isArray(rawOptions))
    fail('options', 'must be an object');
  const known = KNOWN_OPTIONS[type];
  for (const [key, value] of Object.entries(rawOptions as Record<string, unknown>)) {
    const field = `options.${key}`;
    if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(key)) fail(field, 'is not a valid option name (letters, digits, _)');
    if (
      !['string', 'number', 'boolean'].includes(typeof value) ||
      (typeof value === 'number' && !Number.isFinite(value))
    ) {
      fail(field, 'must be a string, a number or true/false');
    }
    if (typeof value === 'string' && value.length > 4096) fail(field, 'is longer than 4096 characters');
    if (known !== null) {
      const check = known[key];
      if (check === undefined) {
        const list = Object.keys(known);
        fail(
          field,
          `is not an option of a ${type} cluster (${list.length === 0 ? 'it has none' : `known: ${list.join(', ')}`})`,
        );
      } else {
        const problem = check(value);
        if (problem !== undefined) fail(field, problem, { value });
      }
    }
    options[key] = value as ClusterOptionValue;
  }
  const rawQueues = spec['queues'] ?? [];
  if (!Array.isArray(rawQueues)) return fail('queues', 'must be a list of {name, limits}');
  if (rawQueues.length > 256) fail('queues', 'has more than 256 queues');
  const queues: QueueSpec[] = [];
  rawQueues.forEach((q: unknown, i) => {
    const at = `queues[${i}]`;
    if (typeof q !== 'object' || q === null || Array.isArray(q)) return fail(at, 'must be an object {name, limits}');
    const entry = q as Record<string, unknown>;
    for (const key of Object.keys(entry))
      if (key !== 'name' && key !== 'limits') fail(`${at}.${key}`, 'is not a queue setting (known: name, limits)');
    const qname = entry['name'];
    if (typeof qname !== 'string' || !isClusterName(qname)) {
      return fail(
        `${at}.name`,
        `${JSON.stringify(qname)} must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
      );
    }
    if (queues.some((o) => o.name === qname)) fail(`${at}.name`, `'${qname}' appears twice`);
    queues.push({ name: qname, limits: checkLimits(entry['limits'] ?? {}, `queue '${qname}' limits`, fail) });
  });
  return { type, options, queues };
}

function checkLimits(
  input: unknown,
  at: string,
  fail: (field: string, problem: string, extra?: Record<string, unknown>) => never,
): QueueSpec['limits'] {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return fail(at, 'must be an object such as {"cores": [1, 64]}');
  const out: QueueSpec['limits'] = {};
  for (const [key, range] of Object.entries(input as Record<string, unknown>)) {
    const field = `${at}.${key}`;
    if (!(LIMITED_RESOURCES as readonly string[]).includes(key))
      fail(field, `is not a resource a queue limits (known: ${LIMITED_RESOURCES.join(', ')})`);
    const ok =
      Array.isArray(range) &&
      range.length === 2 &&
      range.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER);
    if (!ok) fail(field, `must be [min, max], two numbers ≥ 0 (got ${JSON.stringify(range)})`, { value: range });
    const [min, max] = range as [number, number];
    if (min > max) fail(field, `has min ${min} greater than max ${max}`, { value: range });
    out[key as LimitedResource] = [min, max];
  }
  return out;
}
