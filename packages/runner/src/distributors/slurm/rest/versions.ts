// Which data-parser version to speak: the daemon lists its paths in its OpenAPI document
// (GET /openapi/v3); the versions it offers are those with both /slurm/vX/ and /slurmdb/vX/ paths
// (the job list and the accounting). The highest one we have an adapter for is used; none → an
// error naming what the daemon offers and what we support.

import type { RestAdapter } from './adapter.js';
import { Reader } from './check.js';
import { v0_0_38 } from './v0_0_38.js';

/** The adapters we have, one per version (Slurm 22.05 offers v0.0.36 … v0.0.38). */
export const ADAPTERS: readonly RestAdapter[] = [v0_0_38];

const vnum = (v: string) => v.replace(/^v/, '').split('.').map(Number);
function compare(a: string, b: string): number {
  const [x, y] = [vnum(a), vnum(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The versions a daemon's OpenAPI document offers (both /slurm/ and /slurmdb/ paths), lowest first. */
export function offeredVersions(openapi: unknown): string[] {
  const r = new Reader('GET /openapi/v3');
  const paths = Object.keys(r.obj(r.obj(openapi, '(answer)')['paths'], 'paths'));
  const of = (prefix: string) =>
    new Set(paths.flatMap((p) => new RegExp(`^/${prefix}/(v\\d+(?:\\.\\d+)*)/`).exec(p)?.[1] ?? []));
  const db = of('slurmdb');
  return [...of('slurm')].filter((v) => db.has(v)).sort(compare);
}

/** The adapter for the highest version both sides know; throws naming both lists otherwise. */
export function chooseAdapter(
  openapi: unknown,
  where: string,
  adapters: readonly RestAdapter[] = ADAPTERS,
): RestAdapter {
  const offered = offeredVersions(openapi);
  const ours = [...adapters].sort((a, b) => compare(b.version, a.version));
  const pick = ours.find((a) => offered.includes(a.version));
  if (pick) return pick;
  throw new Error(
    `slurmrestd at ${where} offers data-parser versions ${offered.join(', ') || '(none with both /slurm/ and /slurmdb/ paths)'}; ` +
      `this Jobmon supports ${ours.map((a) => a.version).join(', ')}`,
  );
}
