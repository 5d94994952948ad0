// Checking a request body against its wire schema where the server is not: a client validates
// every body of a bind before its first write, so a declaration the server would refuse (a NUL in
// a task name, an attempt count out of range) leaves nothing behind on the server. Imported as
// '@jobmon/core/wire-check', apart from the index, so the worker's start-up never loads the compiler.

import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValidationError } from './errors.js';
import { isCleanText } from './text.js';
import './wire.js'; // registers the clean-text format with TypeBox

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

// Bind bodies carry no report text, so every key and string must be storable as given. Checked
// apart from the schema because TypeBox reads neither `propertyNames` nor a format inside a union
// well enough to name the field; these bodies nest a few levels, so the walk is bounded.
function uncleanText(value: unknown, path: string, depth: number): string | undefined {
  if (typeof value === 'string') return isCleanText(value) ? undefined : path || '/';
  if (depth > 8 || typeof value !== 'object' || value === null) return undefined;
  for (const [k, v] of Object.entries(value)) {
    if (!Array.isArray(value) && !isCleanText(k)) return `${path} key ${JSON.stringify(k)}`;
    const inner = uncleanText(v, `${path}/${k}`, depth + 1);
    if (inner) return inner;
  }
  return undefined;
}

/** Throw ValidationError naming the first field of `value` that `schema` (a wire schema) refuses. */
export function assertWire(schema: TSchema, value: unknown, where: string): void {
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  const unclean = uncleanText(value, '', 0);
  if (unclean)
    throw new ValidationError(`${where}: ${unclean} must not contain NUL or an unpaired UTF-16 surrogate`, {
      field: unclean,
    });
  if (check.Check(value)) return;
  const first = check.Errors(value).First();
  const field = first?.path || '/';
  const problem =
    first?.schema['format'] === 'clean-text'
      ? 'must not contain NUL or an unpaired UTF-16 surrogate'
      : (first?.message ?? 'is invalid');
  throw new ValidationError(`${where}: ${field} ${problem}`, { field });
}
