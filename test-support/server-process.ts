// `jobmon server` as a real child process, for tests that kill it, restart it or run several.

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { waitFor } from './wait.js';

const CLI = resolve(import.meta.dirname, '../packages/cli/bin/jobmon.js');

/** A port free right now on 127.0.0.1 (the OS picks it; we let it go for the child to take). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

/** Starts `jobmon server --db target --port port` with `env` added; resolves once /health answers. */
export async function spawnServer(target: string, port: number, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'server', '--db', target, '--port', String(port)], {
    stdio: 'ignore',
    env: { ...process.env, ...env },
  });
  await waitFor(
    `the server on port ${port} to come up`,
    async () => (await fetch(`http://127.0.0.1:${port}/api/v1/health`).catch(() => undefined))?.ok,
    20_000,
    50,
  );
  return child;
}
