// Banners over every page: the server does not answer (the data shown is as of the last answer),
// and the server's own warning (X-Jobmon-Warning: it runs without authentication).

import { useServerState } from '../api/client.js';
import { dateTime } from './format.js';

export function Banners() {
  const s = useServerState();
  return (
    <>
      {!s.reachable && (
        <div className="banner banner-down" role="alert" data-testid="unreachable">
          The server does not answer ({s.problem ?? 'no connection'}).{' '}
          {s.lastAnswerAt > 0 ? `The data below is from ${dateTime(s.lastAnswerAt)}.` : 'Nothing has loaded yet.'}{' '}
          Retrying every 2 s.
        </div>
      )}
      {s.warning && (
        <div className="banner banner-warn" role="status">
          {s.warning}
        </div>
      )}
    </>
  );
}

/** A query's error, as text; not when the server is unreachable: the banner says that once. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error || (error as { code?: unknown }).code === 'JM_SERVER_UNREACHABLE') return null;
  const status = (error as { status?: unknown }).status;
  return (
    <p className="error-note">
      {error instanceof Error ? error.message : String(error)}
      {status === 401 && (
        <>
          {' '}
          <a href="/auth/login">Sign in</a> (on a server with single sign-on).
        </>
      )}
    </p>
  );
}
