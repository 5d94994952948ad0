// Argument and option parsers. They throw commander's InvalidArgumentError, so a bad value is a
// usage error like any other: commander names the argument and main.ts exits 2.

import { InvalidArgumentError } from 'commander';

export function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`must be a whole number ≥ 1, got '${v}'.`);
  return n;
}

export function workflowId(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`a workflow id is a positive whole number, got '${v}'.`);
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
