// The committed schema dump of this lane's dialect (packages/server/schema/<dialect>.sql) is what
// the migrations produce today: a migration changed without `npm run schema:dump` fails here.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dump, SCHEMA_PATH, STALE } from '../../../scripts/schema-dump.ts';
import { TEST_DB_KIND } from '../../../test-support/db.js';

const ROOT = resolve(import.meta.dirname, '../../..');

describe(SCHEMA_PATH(TEST_DB_KIND), () => {
  it('is what the migrations produce on a fresh database', async () => {
    const committed = readFileSync(join(ROOT, SCHEMA_PATH(TEST_DB_KIND)), 'utf8');
    const fresh = await dump(TEST_DB_KIND);
    // The diff first (vitest prints it), with the instruction as the failure's message.
    expect(fresh, STALE).toBe(committed);
  });
});
