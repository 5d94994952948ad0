// One HTTP request to slurmrestd, over its unix socket (`unix:/run/slurmrestd/slurmrestd.sock`) or
// TCP (`http://host:6820`), with node:http. With a token (JWT auth) it sends X-SLURM-USER-NAME and
// X-SLURM-USER-TOKEN. The status and body come back as they are; deciding what they mean is the
// caller's job (slurmrestd answers 500 for an unknown job and 401 in plain text for a bad token).

import { request } from 'node:http';

export interface RestEndpoint {
  /** `unix:/path/to.sock` or `http://host:port` */
  url: string;
  /** JWT auth: the user the token belongs to, and the token (read when each request is made). */
  auth?: { user: string; token: () => string };
  timeoutMs?: number;
}

export interface RestAnswer {
  status: number;
  body: string;
}

export function restRequest(
  ep: RestEndpoint,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<RestAnswer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (payload !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(payload));
  }
  if (ep.auth) {
    headers['X-SLURM-USER-NAME'] = ep.auth.user;
    headers['X-SLURM-USER-TOKEN'] = ep.auth.token();
  }
  const target = ep.url.startsWith('unix:')
    ? { socketPath: ep.url.slice('unix:'.length), path }
    : (() => {
        const u = new URL(ep.url);
        return { host: u.hostname, port: u.port || 80, path: `${u.pathname.replace(/\/$/, '')}${path}` };
      })();
  const timeoutMs = ep.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const req = request({ ...target, method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => (text += s));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`slurmrestd ${ep.url}: ${method} ${path} got no answer within ${timeoutMs} ms`)),
    );
    req.on('error', (e) => reject(new Error(`slurmrestd ${ep.url}: ${method} ${path} failed: ${e.message}`)));
    req.end(payload);
  });
}
