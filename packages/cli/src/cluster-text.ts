// Clusters for the CLI: parsing `--option k=v` and `--queue name:cores=1-64,memory=1G-512G`, and
// printing a cluster or a list of them. Names and options come from the server and are printed
// through printable().

import { InvalidArgumentError } from 'commander';
import {
  LIMITED_RESOURCES,
  isClusterName,
  parseMemory,
  parseRuntime,
  type ClusterInfoT,
  type QueueSpec,
} from '@jobmon/core';
import { printable } from './text.js';

export function clusterName(v: string): string {
  if (!isClusterName(v))
    throw new InvalidArgumentError(
      `a cluster name is 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit; got '${v}'.`,
    );
  return v;
}

/** `key=value`: numbers and true/false keep their type; anything else is a string. */
export function parseOption(
  v: string,
  previous: Record<string, string | number | boolean> = {},
): Record<string, string | number | boolean> {
  const eq = v.indexOf('=');
  if (eq < 1) throw new InvalidArgumentError(`must be key=value, got '${v}'.`);
  const key = v.slice(0, eq);
  const raw = v.slice(eq + 1);
  const value = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw === 'true' ? true : raw === 'false' ? false : raw;
  return { ...previous, [key]: value };
}

/**
 * `name[:resource=min-max,...]`; memory takes sizes ("1G", MiB as a number), runtime durations
 * ("1h", "90m", seconds), cores whole numbers: `all.q:cores=1-64,memory=1G-512G,runtime=1m-7d`.
 */
export function parseQueue(v: string, previous: QueueSpec[] = []): QueueSpec[] {
  const colon = v.indexOf(':');
  const name = colon < 0 ? v : v.slice(0, colon);
  if (!isClusterName(name))
    throw new InvalidArgumentError(`queue name '${name}' must be 1–64 letters, digits, '.', '_' or '-'.`);
  const limits: QueueSpec['limits'] = {};
  const body = colon < 0 ? '' : v.slice(colon + 1);
  for (const part of body === '' ? [] : body.split(',')) {
    const m = /^([a-z]+)=([^-]+)-([^-]+)$/.exec(part.trim());
    if (!m)
      throw new InvalidArgumentError(
        `queue '${name}': '${part}' must be resource=min-max, such as cores=1-64 or memory=1G-512G.`,
      );
    const [, key, lo, hi] = m as unknown as [string, string, string, string];
    if (!(LIMITED_RESOURCES as readonly string[]).includes(key)) {
      throw new InvalidArgumentError(
        `queue '${name}': '${key}' is not a resource a queue limits (known: ${LIMITED_RESOURCES.join(', ')}).`,
      );
    }
    const where = `queue '${name}' ${key}`;
    const parse = (s: string): number => {
      try {
        if (key === 'memory') return parseMemory(/^\d+$/.test(s) ? Number(s) : s, where);
        if (key === 'runtime') return parseRuntime(s, where);
      } catch (e) {
        throw new InvalidArgumentError(`${(e as Error).message}.`);
      }
      const n = Number(s);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${where}: '${s}' must be a whole number.`);
      return n;
    };
    limits[key as keyof QueueSpec['limits']] = [parse(lo), parse(hi)];
  }
  return [...previous.filter((q) => q.name !== name), { name, limits }];
}

const MIB_UNITS: [number, string][] = [
  [1024 * 1024, 'T'],
  [1024, 'G'],
  [1, 'M'],
];
function size(mib: number): string {
  for (const [f, u] of MIB_UNITS) if (mib >= f && mib % f === 0) return `${mib / f}${u}`;
  return `${mib}M`;
}
function duration(s: number): string {
  for (const [f, u] of [
    [86400, 'd'],
    [3600, 'h'],
    [60, 'm'],
  ] as const)
    if (s >= f && s % f === 0) return `${s / f}${u}`;
  return `${s}s`;
}

/** "1-64", "1G-512G", "1m-7d"; '-' when the queue does not limit it. */
export function limitText(resource: string, range: unknown): string {
  if (!Array.isArray(range) || range.length !== 2) return '-';
  const [lo, hi] = range as [number, number];
  const f = resource === 'memory' ? size : resource === 'runtime' ? duration : String;
  return `${f(lo)}-${f(hi)}`;
}

function optionsText(options: Record<string, unknown>): string {
  const entries = Object.entries(options);
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}=${String(v)}`).join(' ');
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
}

export function clusterListLines(clusters: ClusterInfoT[]): string[] {
  return table([
    ['NAME', 'TYPE', 'QUEUES', 'OPTIONS'],
    ...clusters.map((c) => [c.name, c.type, c.queues.map((q) => q.name).join(','), optionsText(c.options)]),
  ]).map(printable);
}

export function clusterLines(c: ClusterInfoT): string[] {
  const lines = [
    `cluster ${c.name}`,
    `  type: ${c.type}`,
    `  options: ${optionsText(c.options)}`,
    '  queues (the first is the default):',
  ];
  const rows = table([
    ['QUEUE', ...LIMITED_RESOURCES.map((r) => r.toUpperCase())],
    ...c.queues.map((q) => [q.name, ...LIMITED_RESOURCES.map((r) => limitText(r, q.limits[r]))]),
  ]);
  return [...lines, ...rows.map((r) => `    ${r}`)].map(printable);
}
