// Reading slurmrestd's JSON without trusting it: each accessor takes the value and its path in the
// answer (`jobs[3].job_state`) and returns it typed, or throws a RestShapeError naming the path, what
// was expected and what came. A changed or broken daemon then gives one clear error, not a crash
// somewhere later on `undefined`.

export class RestShapeError extends Error {
  constructor(
    readonly where: string,
    readonly path: string,
    readonly expected: string,
    got: unknown,
  ) {
    super(`slurmrestd answer to ${where}: ${path} should be ${expected}, got ${preview(got)}`);
    this.name = 'RestShapeError';
  }
}

function preview(v: unknown): string {
  if (v === undefined) return 'nothing (missing)';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Accessors bound to one answer (`where`: the request, for the message). */
export class Reader {
  constructor(readonly where: string) {}

  fail(path: string, expected: string, got: unknown): never {
    throw new RestShapeError(this.where, path, expected, got);
  }

  obj(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'an object', v);
    return v as Record<string, unknown>;
  }

  arr(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, 'an array', v);
    return v;
  }

  str(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, 'a string', v);
    return v;
  }

  int(v: unknown, path: string): number {
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(path, 'an integer', v);
    return v;
  }

  /** An integer, or null (Slurm's "not set"). */
  intOrNull(v: unknown, path: string): number | null {
    return v === null ? null : this.int(v, path);
  }

  /** A string, or null / missing. */
  optStr(v: unknown, path: string): string | undefined {
    return v === null || v === undefined ? undefined : this.str(v, path);
  }

  /** An integer, or null / missing. */
  optInt(v: unknown, path: string): number | undefined {
    return v === null || v === undefined ? undefined : this.int(v, path);
  }
}
