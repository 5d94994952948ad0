import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DOCS_PATH, render } from '../../../scripts/state-docs.ts';
import { MACHINES } from './states.js';

describe(DOCS_PATH, () => {
  it('is up to date with the state tables', () => {
    const committed = readFileSync(fileURLToPath(new URL(`../../../${DOCS_PATH}`, import.meta.url)), 'utf8');
    expect(committed === render(), 'run npx tsx scripts/gen-state-docs.ts').toBe(true);
  });

  it('shows every edge of every machine in a diagram and a table', () => {
    const text = render();
    for (const m of MACHINES) {
      for (const e of m.edges) {
        expect(text).toContain(`    ${e.from} --> ${e.to} : ${e.actor}\n`);
        expect(text).toContain(`| \`${e.from}\` | \`${e.to}\` | ${e.actor} | ${e.why} |`);
      }
      for (const e of m.untimely) expect(text).toContain(`| \`${e.from}\` | \`${e.to}\` | ${e.actor} | ${e.why} |`);
    }
  });
});
