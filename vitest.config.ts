import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

// Tests import packages from their TypeScript sources; processes they spawn (CLI, worker) run the
// built dist/, which `npm test` builds first. JOBMON_TEST_DB=postgres switches the DB lanes.
export default defineConfig({
  resolve: {
    alias: {
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
    // Tests that restart shared services run alone: `npm run test:pg-restart`.
    exclude: process.env['JOBMON_TEST_RESTARTS'] === '1' ? ['**/node_modules/**'] : ['**/node_modules/**', '**/*.restart.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', 'json'],
    outputFile: { json: '.jobmon-test/vitest.json' },
  },
});
