// The GUI in a real headless Chromium (Debian's, driven by playwright-core; scripts/chromium.sh
// installs it) against a real server: a workflow run to DONE and one to FAILED by `jobmon run`,
// then the overview (both rows, their status and bars, a third run appearing by polling alone),
// the workflow page (template counts, the error group, its sample as text) and the banner once the
// server is gone; then what servers with other authentication say (a warning banner, a 401). Screenshots of each page go to .jobmon-test/screenshots/ (docs/gui.md uses them).
// Its own lane: `npm run test:browser`.

import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SHOTS = resolve(import.meta.dirname, '../../../.jobmon-test/screenshots');

let db: TestDb;
let server: RunningServer;
let browser: Browser;
let page: Page;

// The built CLI (npm run test:browser builds first), as a user runs it.
const CLI = resolve(import.meta.dirname, '../../cli/bin/jobmon.js');
function jobmon(args: string[]): Promise<{ code: number; stdout: string }> {
  const env = { ...process.env, JOBMON_URL: server.url, JOBMON_HOME: join(db.dir, 'home') };
  return new Promise((done) =>
    execFile(process.execPath, [CLI, ...args], { env, timeout: 120_000 }, (error, stdout) =>
      done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout }),
    ),
  );
}

function workflowFile(name: string, tasks: object[]): string {
  const file = join(db.dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ name, tasks }));
  return file;
}

beforeAll(async () => {
  db = await createTestDb('gui');
  server = await startServer({ db: db.target, reaper: false });
  mkdirSync(SHOTS, { recursive: true });
  const ok = workflowFile('gui_ok', [
    { name: 'prep_1', template: 'prep', command: 'true', upstream: [] },
    { name: 'prep_2', template: 'prep', command: 'true', upstream: [] },
    ...[1, 2, 3].map((i) => ({
      name: `model_${i}`,
      template: 'model',
      command: 'true',
      upstream: ['prep_1', 'prep_2'],
    })),
  ]);
  // Markup in the error output: the page must show it as text.
  const bad = workflowFile('gui_bad', [
    { name: 'load_1', template: 'load', command: 'true', upstream: [] },
    { name: 'load_2', template: 'load', command: 'true', upstream: [] },
    {
      name: 'fit_1',
      template: 'fit',
      command: 'echo "<b>fit</b> diverged at step 17" >&2; exit 4',
      upstream: [],
      max_attempts: 1,
    },
  ]);
  expect((await jobmon(['run', ok])).code).toBe(0);
  expect((await jobmon(['run', bad])).code).toBe(1);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await db?.drop();
});

describe(`the web GUI in Chromium on ${TEST_DB_KIND}`, () => {
  it('lists both workflows with their status and progress, and shows a new one without a reload', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${server.url}/?name=${encodeURIComponent('gui_*')}`);
    const rows = page.locator('tr[data-workflow-id]');
    await expect.poll(() => rows.count()).toBe(2);
    // Newest first.
    const okRow = rows.filter({ hasText: 'gui_ok' });
    const badRow = rows.filter({ hasText: 'gui_bad' });
    expect(await okRow.getByTestId('status').textContent()).toBe('DONE');
    expect(await badRow.getByTestId('status').textContent()).toBe('FAILED');
    expect(await okRow.locator('.bar').getAttribute('data-counts')).toBe(
      'pending 0, scheduled 0, running 0, done 5, fatal 0',
    );
    expect(await badRow.locator('.bar').getAttribute('data-counts')).toBe(
      'pending 0, scheduled 0, running 0, done 2, fatal 1',
    );
    expect(await okRow.locator('.bar-label').textContent()).toBe('5/5 done');
    expect(await badRow.locator('.bar-label').textContent()).toBe('2/3 done, 1 fatal');
    // The filter is in the URL and in the form.
    expect(await page.locator('input[name=name]').inputValue()).toBe('gui_*');
    await page.screenshot({ path: join(SHOTS, 'overview.png'), fullPage: true });

    // A workflow that starts after the page loaded appears by polling alone.
    const late = workflowFile('gui_late', [{ name: 'only', template: 'solo', command: 'true', upstream: [] }]);
    expect((await jobmon(['run', late])).code).toBe(0);
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(3);
    expect(await rows.first().textContent()).toContain('gui_late');
    expect(errors).toEqual([]);
  });

  it('opens a workflow: its header, counts per template and the grouped error as text', async () => {
    await page.locator('tr[data-workflow-id]', { hasText: 'gui_bad' }).getByRole('link', { name: 'gui_bad' }).click();
    await page.waitForURL(/\/workflows\/\d+$/);
    const header = page.getByTestId('workflow-header');
    await expect.poll(() => header.locator('h1').textContent()).toBe('gui_bad FAILED');
    await expect.poll(() => page.locator('tr[data-template]').count()).toBe(2);
    const counts = async (template: string) =>
      Object.fromEntries(
        await page
          .locator(`tr[data-template="${template}"] td[data-group]`)
          .evaluateAll((tds) => tds.map((td) => [td.getAttribute('data-group'), Number(td.textContent)])),
      );
    expect(await counts('load')).toEqual({ PENDING: 0, SCHEDULED: 0, RUNNING: 0, DONE: 2, FATAL: 0 });
    expect(await counts('fit')).toEqual({ PENDING: 0, SCHEDULED: 0, RUNNING: 0, DONE: 0, FATAL: 1 });
    expect(await header.locator('dd').first().textContent()).toBe('jobmon-run');
    expect(await page.getByTestId('eta').textContent()).toContain('— (failed: nothing runs until it is resumed)');

    const group = page.getByTestId('error-groups').locator('tbody tr');
    await expect.poll(() => group.count()).toBe(1);
    expect(await group.locator('td').first().textContent()).toBe('1');
    const sample = group.locator('pre.sample');
    expect(await sample.textContent()).toContain('<b>fit</b> diverged at step 17');
    // Rendered as text: no element came out of the server's text.
    expect(await sample.locator('b').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'workflow.png'), fullPage: true });
  });

  it('opens a workflow page by its address, and says when the server stops answering', async () => {
    const url = page.url();
    await page.goto(url);
    await expect.poll(() => page.locator('tr[data-template]').count()).toBe(2);
    await server.close();
    const banner = page.getByTestId('unreachable');
    await expect.poll(() => banner.count(), { timeout: 20_000 }).toBe(1);
    expect(await banner.textContent()).toContain('The server does not answer');
    // What was read before stays on the page.
    expect(await page.locator('tr[data-template]').count()).toBe(2);
    await page.screenshot({ path: join(SHOTS, 'unreachable.png') });
  });
});

describe(`what the server says about access, in Chromium on ${TEST_DB_KIND}`, () => {
  it("shows the server's warning when it runs without authentication beyond loopback", async () => {
    const open = await startServer({ db: db.target, reaper: false, host: '0.0.0.0', auth: { mode: 'none' } });
    try {
      const p = await browser.newPage();
      await p.goto(`http://127.0.0.1:${new URL(open.url).port}/`);
      await expect.poll(() => p.locator('tr[data-workflow-id]').count()).toBeGreaterThan(0);
      expect(await p.getByRole('status').textContent()).toContain('no authentication');
      await p.close();
    } finally {
      await open.close();
    }
  });

  it('says 401 with a sign-in link when the server wants a token or a session', async () => {
    const locked = await startServer({ db: db.target, reaper: false, auth: { mode: 'token' } });
    try {
      const p = await browser.newPage();
      await p.goto(`${locked.url}/`);
      const note = p.locator('.error-note');
      await expect.poll(() => note.count()).toBe(1);
      expect(await note.textContent()).toContain('authentication required');
      expect(await note.getByRole('link', { name: 'Sign in' }).getAttribute('href')).toBe('/auth/login');
      expect(await p.getByRole('status').count()).toBe(0);
      await p.close();
    } finally {
      await locked.close();
    }
  });
});
