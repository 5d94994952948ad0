import { describe, expect, it } from 'vitest';
import { normaliseMessage } from './error-groups.js';

describe('normaliseMessage', () => {
  it('makes messages that differ only in numbers, hex, paths, ids and quoted values equal', () => {
    const a = normaliseMessage(
      "task 17 failed: cannot open /data/run_2019/part-0001.csv (errno 2) at 0x7ffd1234, key 'alpha' job 4f3a9c2d7e",
    );
    const b = normaliseMessage(
      "task 9921 failed: cannot open /scratch/x/y.csv (errno 13) at 0xdeadbeef, key 'beta gamma' job 99aa00ffee11",
    );
    expect(a).toBe(b);
    expect(a).toBe("task <n> failed: cannot open <path> (errno <n>) at <hex>, key '<q>' job <hex>");
    expect(normaliseMessage('id 123e4567-e89b-12d3-a456-426614174000 gone')).toBe('id <id> gone');
    expect(normaliseMessage('see https://x.org/a?b=1 now')).toBe('see <url> now');
  });

  it('keeps different causes apart', () => {
    const causes = new Set(
      ['MemoryError: out of memory in worker 3', 'FileNotFoundError: /a/b/c.csv', 'ValueError: bad year 2019'].map(
        normaliseMessage,
      ),
    );
    expect(causes.size).toBe(3);
  });

  it('collapses whitespace and caps the length', () => {
    expect(normaliseMessage('  a \n\n b\t c ')).toBe('a b c');
    expect(normaliseMessage('x'.repeat(2000)).length).toBe(501);
  });
});
