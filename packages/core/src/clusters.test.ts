import { describe, expect, it } from 'vitest';
import { CLUSTER_TYPES, checkClusterSpec } from './clusters.js';
import { ValidationError } from './errors.js';

function refused(name: string, spec: unknown): ValidationError {
  try {
    checkClusterSpec(name, spec);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return e as ValidationError;
  }
  return expect.unreachable('expected ValidationError');
}

describe('checkClusterSpec', () => {
  it('accepts every known type and fills in empty options and queues', () => {
    for (const type of CLUSTER_TYPES)
      expect(checkClusterSpec('c', { type })).toEqual({ type, options: {}, queues: [] });
  });

  it("keeps a slurm cluster's options as given (its distributor defines them)", () => {
    const spec = checkClusterSpec('hpc', {
      type: 'slurm',
      options: { restUrl: 'http://slurm:6820', pollMs: 5000, useRest: true },
    });
    expect(spec.options).toEqual({ restUrl: 'http://slurm:6820', pollMs: 5000, useRest: true });
  });

  it.each([
    ['c', { type: 'pbs' }, 'type', /type "pbs" is not a known cluster type/],
    ['c', { type: 'local', options: { parallelism: 1.5 } }, 'options.parallelism', /whole number/],
    [
      'c',
      { type: 'local', options: { threads: 2 } },
      'options.threads',
      /not an option of a local cluster \(known: parallelism\)/,
    ],
    ['c', { type: 'slurm', options: { nested: { a: 1 } } }, 'options.nested', /string, a number or true\/false/],
    ['c', { type: 'local', queues: {} }, 'queues', /list of \{name, limits\}/],
    [
      'c',
      { type: 'local', queues: [{ name: 'q', limits: { cores: [1, Infinity] } }] },
      "queue 'q' limits.cores",
      /\[min, max\]/,
    ],
    ['c', { type: 'local', queues: [{ name: 'q', limits: [] }] }, "queue 'q' limits", /must be an object/],
    ['c', { type: 'local', queues: [{ name: 'q', size: 3 }] }, 'queues[0].size', /not a queue setting/],
    ['../etc', { type: 'local' }, 'name', /letters, digits/],
  ])('refuses %s %j, naming %s', (name, spec, field, message) => {
    const e = refused(name, spec);
    expect(e.message).toMatch(message);
    expect(e.message).toContain(`cluster '${name}'`);
    expect(e.details).toMatchObject({ field });
  });
});
