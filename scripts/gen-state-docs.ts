// Writes docs/state-machines.md from the state tables: `npx tsx scripts/gen-state-docs.ts`
// (or `npm run docs:states`). packages/core/src/state-docs.test.ts fails when the file is stale.

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DOCS_PATH, render } from './state-docs.ts';

const target = fileURLToPath(new URL(`../${DOCS_PATH}`, import.meta.url));
writeFileSync(target, render());
console.log(`wrote ${DOCS_PATH}`);
