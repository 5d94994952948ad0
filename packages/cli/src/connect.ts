// How the CLI connects: the client's connect(), saying on stderr while the server does not answer
// (at most one line every few seconds), so a wrong or down server is never a silent wait.

import { connect, type Connection } from '@jobmon/client/connection';
import { printable } from './text.js';

const SAY_EVERY_MS = 3_000;

export function cliConnect(): Promise<Connection> {
  let lastSaid = 0;
  return connect({
    onRetry: ({ error, elapsedMs, route }) => {
      const now = Date.now();
      if (now - lastSaid < SAY_EVERY_MS) return;
      lastSaid = now;
      const why =
        error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
      // `why` may be the server's own answer (a 503 body): printed like any untrusted text.
      process.stderr.write(
        `jobmon: the server does not answer ${route} (${printable(why)}); retrying… (${Math.round(elapsedMs / 1000)} s)\n`,
      );
    },
  });
}
