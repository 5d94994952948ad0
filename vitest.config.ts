import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const LANES = ['restart', 'outage', 'packed', 'slurm', 'browser'];
const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

// Tests import packages from their TypeScript sources; processes they spawn (CLI, worker) run the
// built dist/, which `npm test` builds first. JOBMON_TEST_DB=postgres switches the DB lanes.
export default defineConfig({
  resolve: {
    alias: {
      '@jobmon/core/wire-check': fileURLToPath(new URL('./packages/core/src/wire-check.ts', import.meta.url)),
      '@jobmon/core/system-log': fileURLToPath(new URL('./packages/core/src/system-log.ts', import.meta.url)),
      '@jobmon/core/requester': fileURLToPath(new URL('./packages/core/src/requester.ts', import.meta.url)),
      '@jobmon/core/errors': fileURLToPath(new URL('./packages/core/src/errors.ts', import.meta.url)),
      '@jobmon/core': src('core'),
      '@jobmon/server': src('server'),
      '@jobmon/client': src('client'),
      '@jobmon/runner': src('runner'),
      '@jobmon/worker': src('worker'),
      '@jobmon/cli': src('cli'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    // Slow or disruptive lanes run alone, named by JOBMON_TEST_LANE: `*.restart.test.ts` (restarts
    // the shared PostgreSQL: `npm run test:pg-restart`), `*.outage.test.ts` (`npm run test:outage`) and
    // `*.packed.test.ts` (installs the packed packages in a temp folder: `npm run test:packed`) and
    // `*.browser.test.ts` (the GUI in headless Chromium: `npm run test:browser`).
    exclude: [
      '**/node_modules/**',
      ...LANES.filter((l) => l !== process.env['JOBMON_TEST_LANE']).map((l) => `**/*.${l}.test.ts`),
    ],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', 'json'],
    outputFile: { json: '.jobmon-test/vitest.json' },
  },
});
