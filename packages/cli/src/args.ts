// Argument and option parsers. They throw commander's InvalidArgumentError, so a bad value is a
// usage error like any other: commander names the argument and main.ts exits 2.

import { InvalidArgumentError } from 'commander';

export function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`must be a whole number ≥ 1, got '${v}'.`);
  return n;
}

export function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`must be 0–65535, got '${v}'.`);
  return n;
}

export function oneOf<T extends string>(...choices: T[]): (v: string) => T {
  return (v) => {
    if (!(choices as string[]).includes(v))
      throw new InvalidArgumentError(`must be ${choices.map((c) => `'${c}'`).join(' or ')}, got '${v}'.`);
    return v as T;
  };
}

/** `key=value`, repeatable: the list of them as given. */
export function keyValue(v: string, previous: string[] = []): string[] {
  if (v.indexOf('=') < 1) throw new InvalidArgumentError(`must be key=value, got '${v}'.`);
  return [...previous, v];
}

/** A length of time ahead: `90d`, `12h`, `30m`, `2w`; in milliseconds. */
export function period(v: string): number {
  const m = /^(\d+)([mhdw])$/.exec(v);
  if (!m || Number(m[1]) === 0)
    throw new InvalidArgumentError(`must be a length of time such as 30m, 12h, 90d or 2w, got '${v}'.`);
  return Number(m[1]) * AGO_UNITS[m[2]!]!;
}

const AGO_UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * A point in time: an age (`30m`, `12h`, `2d`, `1w`: that long before now) or an ISO 8601 date or
 * time (`2026-12-01`, `2026-12-01T08:00`). Answers it as an ISO string, for the API.
 */
export function pointInTime(v: string, now = Date.now()): string {
  const ago = /^(\d+)([mhdw])$/.exec(v);
  if (ago) return new Date(now - Number(ago[1]) * AGO_UNITS[ago[2]!]!).toISOString();
  const t = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t))
    throw new InvalidArgumentError(
      `must be an age such as 30m, 12h, 2d or 1w, or a date such as 2026-12-01, got '${v}'.`,
    );
  return new Date(t).toISOString();
}
