// The REST transport: slurmrestd over its unix socket (rest_auth/local: no token, the client must
// be root or slurmrestd's own user) or TCP with a JWT (X-SLURM-USER-NAME / X-SLURM-USER-TOKEN).
// Same semantics as the command-line transport (../cli-transport.ts); every call is ONE request
// (facts: two, cancel: one per job, as REST cancels one id at a time), counted in `calls`.
//
// On first use it reads the daemon's /openapi/v3 and picks the highest data-parser version we have
// an adapter for (versions.ts); everything version-specific is in that adapter (v0_0_38.ts).
//
// REST has no "export my environment" (sbatch --export): the job's environment is sent whole.
// exportEnv 'ALL': this process's variables plus spec.env; a list: those names plus spec.env;
// 'NONE': spec.env only.

import { readFileSync } from 'node:fs';
import { DEFAULT_MAX_ARRAY_SIZE, newCalls } from '../transport.js';
import type { AccountingRecord, ClusterFacts, JobId, JobSpec, QueueEntry, SlurmTransport } from '../transport.js';
import type { RestAdapter } from './adapter.js';
import { restRequest, type RestEndpoint } from './http.js';
import { chooseAdapter } from './versions.js';

export interface RestTransportOptions {
  /** `unix:/run/slurmrestd/slurmrestd.sock` or `http://host:6820` */
  url: string;
  /** JWT auth: the token's user, and where the token is (a file, read at each request, so a
   *  renewed token is used; or the token itself, e.g. from SLURM_JWT). Neither: local auth. */
  user?: string;
  tokenFile?: string;
  token?: string;
  timeoutMs?: number;
}

/** The job's whole environment for a spec (see the header). */
export function jobEnvironment(spec: JobSpec, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  const names = spec.exportEnv === 'ALL' ? Object.keys(env) : spec.exportEnv === 'NONE' ? [] : spec.exportEnv;
  for (const k of names) {
    const v = env[k];
    if (v !== undefined) out[k] = v;
  }
  return { ...out, ...spec.env };
}

/** A user name → uid from /etc/passwd (undefined when it is not there). */
function uidOf(name: string): number | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [n, , uid] = line.split(':');
      if (n === name && uid !== undefined && /^\d+$/.test(uid)) return Number(uid);
    }
  } catch {
    // no /etc/passwd: who cancelled stays unknown
  }
  return undefined;
}

/** The id a caller passes that covers a key: `123` for `123_4`. */
const baseOf = (key: JobId) => key.split('_')[0]!;

export class RestTransport implements SlurmTransport {
  readonly kind = 'rest' as const;
  readonly calls = newCalls();
  private readonly endpoint: RestEndpoint;
  private adapterP: Promise<RestAdapter> | undefined;
  /**
   * Exit codes of our ended jobs as the controller's job list showed them (raw wait status, right),
   * kept until accounting reports the job: slurmdb v0.0.38 says 0 for a job that exited non-zero.
   */
  private readonly listedExit = new Map<JobId, string>();

  constructor(readonly options: RestTransportOptions) {
    const { url, user, tokenFile, token } = options;
    const auth =
      user === undefined
        ? undefined
        : {
            user,
            token: () => {
              if (token !== undefined) return token;
              if (tokenFile === undefined) throw new Error(`slurmrestd ${url}: user ${user} given, but no token`);
              try {
                return readFileSync(tokenFile, 'utf8')
                  .trim()
                  .replace(/^SLURM_JWT=/, '');
              } catch (e) {
                throw new Error(`slurmrestd ${url}: cannot read the token file ${tokenFile}: ${(e as Error).message}`);
              }
            },
          };
    this.endpoint = {
      url,
      ...(auth ? { auth } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    };
  }

  /** The adapter for the daemon's version (GET /openapi/v3 once; retried after a failure). */
  adapter(): Promise<RestAdapter> {
    this.adapterP ??= this.json('GET', '/openapi/v3').then(
      ({ json }) => chooseAdapter(json, this.endpoint.url),
      (e: unknown) => {
        this.adapterP = undefined;
        throw e;
      },
    );
    return this.adapterP;
  }

  /** One request; the body parsed as JSON. 401/403 and non-JSON answers throw, naming the request. */
  private async json(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) {
    const a = await restRequest(this.endpoint, method, path, body);
    const what = `slurmrestd ${this.endpoint.url}: ${method} ${path}`;
    if (a.status === 401 || a.status === 403)
      throw new Error(
        `${what}: HTTP ${a.status} ${a.body.trim().slice(0, 100)} (${this.endpoint.auth ? `is the token for user ${this.endpoint.auth.user} valid and unexpired?` : 'local auth: run as root or as slurmrestd’s user, or give restUser and a token'})`,
      );
    let json: unknown;
    try {
      json = JSON.parse(a.body);
    } catch {
      throw new Error(`${what}: HTTP ${a.status}, not JSON: ${a.body.trim().slice(0, 200)}`);
    }
    return { status: a.status, json };
  }

  /** A request that must succeed (HTTP 200, no errors[]). */
  private async ok(
    adapter: RestAdapter,
    method: 'GET' | 'DELETE',
    path: string,
    answered?: { status: number; json: unknown },
  ): Promise<unknown> {
    const { status, json } = answered ?? (await this.json(method, path));
    const errs = adapter.errors(json);
    if (status !== 200 || errs.length > 0) {
      // JWT: an invalid or expired token is not a 401 but slurmctld's refusal: "Unspecified error".
      const hint =
        this.endpoint.auth && /Unspecified error/.test(errs.join(' '))
          ? ` (with JWT auth this is also how Slurm refuses an invalid or expired token for user ${this.endpoint.auth.user})`
          : '';
      throw new Error(
        `slurmrestd ${this.endpoint.url}: ${method} ${path}: HTTP ${status}: ${errs.join('; ') || '(no errors given)'}${hint}`,
      );
    }
    return json;
  }

  async submit(spec: JobSpec): Promise<{ jobId: JobId } | { error: string }> {
    const adapter = await this.adapter();
    this.calls.submit++;
    const { status, json } = await this.json(
      'POST',
      adapter.paths.submit,
      adapter.submitBody(spec, jobEnvironment(spec)),
    );
    return adapter.parseSubmit(status, json);
  }

  async queue(jobIds: JobId[]): Promise<Map<JobId, QueueEntry>> {
    const out = new Map<JobId, QueueEntry>();
    if (jobIds.length === 0) return out;
    const adapter = await this.adapter();
    this.calls.queue++;
    // The list cannot be filtered by id (v0.0.38): one GET of all, ours picked here.
    const listed = adapter.parseJobs(await this.ok(adapter, 'GET', adapter.paths.jobs));
    const want = new Set(jobIds);
    for (const j of listed) {
      if (!want.has(j.base) && !want.has(j.key)) continue;
      if (j.exitCode !== undefined) this.listedExit.set(j.key, j.exitCode);
      else out.set(j.key, j.entry);
    }
    return out;
  }

  async accounting(jobIds: JobId[]): Promise<Map<JobId, AccountingRecord>> {
    const out = new Map<JobId, AccountingRecord>();
    if (jobIds.length === 0) return out;
    const adapter = await this.adapter();
    this.calls.accounting++;
    const path = adapter.paths.dbJobs(jobIds);
    // Jobs accounting does not know yet (it lags the queue) are simply missing, as with sacct:
    // slurmdbd says "Nothing found" for a query none of them matches yet.
    const { status, json } = await this.json('GET', path);
    const errs = adapter.errors(json);
    if (status === 200 && errs.length > 0 && errs.every((e) => /Nothing found/i.test(e))) return out;
    const rows = adapter.parseDbJobs(await this.ok(adapter, 'GET', path, { status, json }));
    const want = new Set(jobIds);
    for (const { record, killRequestUser } of rows) {
      if (!want.has(record.jobId) && !want.has(baseOf(record.jobId))) continue;
      const listed = this.listedExit.get(record.jobId);
      // slurmdb's "0:0" for a job that exited non-zero (22.05): the controller's list knew better.
      if (listed !== undefined && record.exitCode === '0:0') record.exitCode = listed;
      if (record.state === 'CANCELLED' && killRequestUser !== undefined) {
        const uid = /^\d+$/.test(killRequestUser) ? Number(killRequestUser) : uidOf(killRequestUser);
        if (uid !== undefined) record.cancelledBy = uid;
      }
      if (record.state !== 'PENDING' && record.state !== 'RUNNING') this.listedExit.delete(record.jobId);
      out.set(record.jobId, record);
    }
    return out;
  }

  async cancel(jobIds: JobId[]): Promise<void> {
    if (jobIds.length === 0) return;
    const adapter = await this.adapter();
    const failures: string[] = [];
    // One DELETE per id (REST has no batch cancel), a few at a time.
    const queue = [...jobIds];
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        this.calls.cancel++;
        const path = adapter.paths.job(id);
        const { status, json } = await this.json('DELETE', path);
        const errs = adapter.errors(json);
        // A job that already ended (or is unknown by now) is no failure.
        if ((status !== 200 || errs.length > 0) && !/already complet|Invalid job id/i.test(errs.join(' ')))
          failures.push(`${id}: HTTP ${status} ${errs.join('; ')}`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, jobIds.length) }, worker));
    if (failures.length > 0)
      throw new Error(`slurmrestd ${this.endpoint.url}: cancel failed for ${failures.join(', ')}`);
  }

  async facts(): Promise<ClusterFacts> {
    const adapter = await this.adapter();
    this.calls.facts++;
    const [partitions, nodes] = await Promise.all([
      this.ok(adapter, 'GET', adapter.paths.partitions),
      this.ok(adapter, 'GET', adapter.paths.nodes),
    ]);
    // MaxArraySize: v0.0.38 shows no slurm.conf value (/slurm/…/diag holds scheduler statistics,
    // /slurmdb/…/config the accounting database's objects), so Slurm's default is assumed; a site
    // with a lower MaxArraySize refuses a bigger array at submit, which is reported as such.
    return { maxArraySize: DEFAULT_MAX_ARRAY_SIZE, partitions: adapter.parsePartitions(partitions, nodes) };
  }
}
