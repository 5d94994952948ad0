// `jobmon login` / `jobmon logout`: keep a token for a server in JOBMON_HOME/credentials (mode
// 0600), keyed by the server's origin, after checking that the server accepts it. JOBMON_TOKEN, when
// set, is used instead of the stored one.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { credentialsFile, loadConfig, Requester, serverKey, ValidationError } from '@jobmon/core';
import { printable } from '../text.js';

function readCredentials(): { servers: Record<string, string> } {
  try {
    const c = JSON.parse(readFileSync(credentialsFile(), 'utf8')) as { servers?: Record<string, string> };
    return { servers: c.servers ?? {} };
  } catch {
    return { servers: {} };
  }
}

function writeCredentials(c: { servers: Record<string, string> }): void {
  const file = credentialsFile();
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(c, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

function serverUrl(opt: string | undefined): string {
  const url = opt ?? loadConfig().url;
  if (!url)
    throw new ValidationError(
      'no server to log in to: pass --url, or set JOBMON_URL (the embedded default needs no login)',
    );
  return url;
}

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('store a token for a server (checked first), read from stdin')
    .option('--url <url>', 'the server (default: $JOBMON_URL)')
    .addHelpText(
      'after',
      `
Examples:
  jobmon login --url http://jobmon.example.org:7070 < token.txt
  echo "$TOKEN" | jobmon login

The token comes from an admin (\`jobmon admin token create\`). It is stored in
$JOBMON_HOME/credentials (~/.jobmon/credentials), readable by you alone; JOBMON_TOKEN overrides it.`,
    )
    .action(async (opts: { url?: string }) => {
      const url = serverUrl(opts.url);
      if (process.stdin.isTTY) process.stderr.write(`paste the token for ${printable(url)}, then Ctrl-D:\n`);
      const token = await readStdin();
      if (!/^jm_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/.test(token))
        throw new ValidationError(
          'that is not a Jobmon token (jm_…): ask an admin for one (`jobmon admin token create`)',
        );
      // The server must accept it before it is kept.
      await new Requester(url, { token, retries: 1 }).get('/workflows?limit=1');
      const c = readCredentials();
      c.servers[serverKey(url)] = token;
      writeCredentials(c);
      console.log(
        `logged in to ${printable(serverKey(url))} with token ${token.slice(3, 15)} (stored in ${credentialsFile()})`,
      );
    });
  program
    .command('logout')
    .description('forget the stored token for a server')
    .option('--url <url>', 'the server (default: $JOBMON_URL)')
    .addHelpText('after', '\nExamples:\n  jobmon logout\n  jobmon logout --url http://jobmon.example.org:7070')
    .action((opts: { url?: string }) => {
      const url = serverUrl(opts.url);
      const c = readCredentials();
      const had = serverKey(url) in c.servers;
      delete c.servers[serverKey(url)];
      writeCredentials(c);
      console.log(
        had ? `logged out of ${printable(serverKey(url))}` : `no token was stored for ${printable(serverKey(url))}`,
      );
    });
}
