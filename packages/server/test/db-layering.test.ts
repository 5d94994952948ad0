// db/ is the bottom layer: queries and dialects run SQL and never import services/ or routes/
// (services open transactions and judge states over them). An import upward is how the old
// bulk.ts ↔ services/tx.ts loop began.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const DB = join(import.meta.dirname, '../src/db');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('src/db', () => {
  it('imports nothing from services/, routes/ or the app', () => {
    const all = files(DB);
    expect(all.length).toBeGreaterThan(5);
    const upward = all.flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/from\s+'([^']+)'/g)]
        .map((m) => m[1]!)
        .filter((spec) => /(^|\/)(services|routes|loops)\/|\/(app|index)\.js$/.test(spec))
        .map((spec) => `${relative(DB, f)} imports ${spec}`),
    );
    expect(upward).toEqual([]);
  });
});
