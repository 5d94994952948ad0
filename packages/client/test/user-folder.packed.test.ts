// The README's "Writing a pipeline in TypeScript", done as a user would, outside this repository:
// its three blocks are read from README.md between their markers (so the README and this test
// cannot drift), the pack block runs here, the install block and pipeline.ts run in a fresh
// folder under a fresh HOME, and the pipeline must reach DONE on the embedded SQLite default.
// The @jobmon/* packages come only from the tarballs (the registry does not know them); third-
// party packages come from npm's cache, falling back to the registry. Slow (the install compiles
// better-sqlite3), so it is its own lane: `npm run test:packed`.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The fenced block between `<!-- name: begin … -->` and `<!-- name: end -->`, without its fences. */
function block(name: string): string {
  const m = new RegExp(`<!-- ${name}: begin[^>]*-->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\`\`\`\\s*<!-- ${name}: end -->`).exec(
    README,
  );
  if (!m)
    throw new Error(`README.md has no '${name}' block between '<!-- ${name}: begin -->' and '<!-- ${name}: end -->'`);
  return m[1]!;
}

// A space in the path, as in many users' folders: every path must be a file path, not a URL's.
const home = mkdtempSync(join(tmpdir(), 'jobmon user-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe("the README's pipeline, from the user's own folder", () => {
  it('packs, installs from the tarballs and runs pipeline.ts to DONE on the embedded default', () => {
    const npmCache = execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim();
    // HOME moves `~` (the tarballs' folder, ~/.jobmon) into the temp dir; npm keeps its own cache.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: home,
      npm_config_cache: npmCache,
      npm_config_prefer_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
    };
    for (const k of ['JOBMON_URL', 'JOBMON_DB', 'JOBMON_HOME', 'JOBMON_CONFIG']) delete env[k];
    const sh = (script: string, cwd: string) =>
      execFileSync('bash', ['-euo', 'pipefail', '-c', script], {
        cwd,
        env,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });

    sh(block('pack'), ROOT);
    const project = join(home, 'my-pipeline');
    mkdirSync(project);
    writeFileSync(join(project, 'pipeline.ts'), block('pipeline.ts'));
    const out = sh(block('install'), project);

    expect(out).toMatch(/^workflow \d+: DONE; state: /m);
    expect(out).toContain(`state: ${join(home, '.jobmon', 'jobmon.db')}`);
    // Installed from the tarballs, not linked to this repository.
    const installed = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(installed.dependencies['@jobmon/client']).toMatch(/^file:.*jobmon-client-0\.1\.0\.tgz$/);
  }, 600_000);
});
