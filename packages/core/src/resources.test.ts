import { describe, expect, it } from 'vitest';
import { InvalidResourcesError } from './errors.js';
import { normaliseResources, parseMemory, parseRuntime, validateAgainstQueue } from './resources.js';

function thrown(fn: () => unknown): InvalidResourcesError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidResourcesError);
    return e as InvalidResourcesError;
  }
  return expect.unreachable('expected InvalidResourcesError');
}

describe('parseMemory', () => {
  it.each([
    ['4G', 4096],
    ['4g', 4096],
    ['4 GB', 4096],
    ['512M', 512],
    ['512MiB', 512],
    ['1.5GiB', 1536],
    ['1T', 1024 * 1024],
    ['1024K', 1],
    ['100', 100],
    [2048, 2048],
    [0.5, 1],
  ] as const)('%j → %d MiB', (input, mib) => {
    expect(parseMemory(input, "task 'a'")).toBe(mib);
  });

  it.each([['lots'], ['4X'], ['-1G'], ['0'], [0], [-5], [Number.NaN], [Infinity], [''], [null], [true], [{}]])(
    'rejects %j, naming the field and the place',
    (input) => {
      const e = thrown(() => parseMemory(input, "task 'a'"));
      expect(e.message).toContain('memory');
      expect(e.message).toContain("task 'a'");
      expect(e.details).toMatchObject({ field: 'memory' });
    },
  );
});

describe('parseRuntime', () => {
  it.each([
    ['1h30m', 5400],
    ['90m', 5400],
    ['01:30:00', 5400],
    ['2-00:00:00', 172_800],
    ['1-01:00', 86_400 + 60], // D-MM:SS
    ['10:30', 630], // MM:SS
    ['45', 45],
    ['45s', 45],
    ['2d', 172_800],
    ['1.5h', 5400],
    [' 2H ', 7200],
    [3600, 3600],
    [1.2, 2],
  ] as const)('%j → %d s', (input, secs) => {
    expect(parseRuntime(input, "task 'b'")).toBe(secs);
  });

  it.each([['soon'], ['1x'], ['00:00:00'], ['0'], ['h'], ['1h 30m'], ['-5'], [0], [-1], [''], [null], [[]]])(
    'rejects %j, naming the field and the place',
    (input) => {
      const e = thrown(() => parseRuntime(input, "task 'b'"));
      expect(e.message).toContain('runtime');
      expect(e.message).toContain("task 'b'");
      expect(e.details).toMatchObject({ field: 'runtime' });
    },
  );
});

describe('normaliseResources', () => {
  it('normalises units, keeps unknown keys and drops null or undefined values', () => {
    expect(
      normaliseResources({ cores: 2, memory: '2G', runtime: '1h', queue: 'all.q', gpus: 1, project: null }, 't'),
    ).toEqual({ cores: 2, memory: 2048, runtime: 3600, queue: 'all.q', gpus: 1 });
    expect(normaliseResources(undefined, 't')).toEqual({});
    expect(normaliseResources({}, 't')).toEqual({});
  });

  it.each([
    [{ cores: 0 }, 'cores'],
    [{ cores: 1.5 }, 'cores'],
    [{ cores: '2' }, 'cores'],
    [{ queue: '' }, 'queue'],
    [{ queue: 3 }, 'queue'],
    [{ memory: 'big' }, 'memory'],
    [{ runtime: 'long' }, 'runtime'],
  ])('rejects %j naming %s', (input, field) => {
    const e = thrown(() => normaliseResources(input, "template 'fit'"));
    expect(e.message).toContain(field);
    expect(e.message).toContain("template 'fit'");
    expect(e.details).toMatchObject({ field });
  });

  it.each([[[]], ['4G'], [null]])('rejects a non-object (%j)', (input) => {
    const e = thrown(() => normaliseResources(input as unknown as Record<string, unknown>, 't'));
    expect(e.message).toContain('must be an object');
  });
});

describe('validateAgainstQueue', () => {
  const limits = { cores: [1, 8], memory: [1, 65_536], runtime: [1, 86_400] } as const;

  it('accepts resources within the limits, including the bounds, and ignores missing ones', () => {
    expect(() =>
      validateAgainstQueue({ cores: 8, memory: 1, runtime: 86_400 }, limits, "task 'a'", 'all.q'),
    ).not.toThrow();
    expect(() => validateAgainstQueue({}, limits, "task 'a'", 'all.q')).not.toThrow();
    expect(() => validateAgainstQueue({ cores: 100 }, {}, "task 'a'", 'all.q')).not.toThrow();
  });

  it.each([
    [{ cores: 9 }, 'cores', '[1, 8]'],
    [{ memory: 100_000 }, 'memory', '[1, 65536]'],
    [{ runtime: 90_000 }, 'runtime', '[1, 86400]'],
    [{ cores: 0 }, 'cores', '[1, 8]'],
  ])('rejects %j, naming the queue and its limits', (resources, field, range) => {
    const e = thrown(() => validateAgainstQueue(resources, limits, "task 'a'", 'all.q'));
    expect(e.message).toContain("queue 'all.q'");
    expect(e.message).toContain(range);
    expect(e.message).toContain(field);
    expect(e.message).toContain("task 'a'");
    expect(e.details).toMatchObject({ field, queue: 'all.q' });
  });
});
