// The workflow page (/workflows/:id): a header (status, tool, owner, elapsed, last heartbeat, the
// ETA and how it was made), progress and counts per template, and the failures grouped by their
// normalised message. Three reads per poll, none of them proportional to the number of tasks.

import { Link, useParams } from 'react-router';
import { useErrorGroups, useProgress, useToolOf, useWorkflow } from '../api/client.js';
import { ErrorNote } from '../components/banners.js';
import { ago, dateTime, duration, eta } from '../components/format.js';
import { GROUPS, Legend, ProgressBar, type GroupCounts } from '../components/progress-bar.js';

/** Nothing runs in these until a resume: an ETA of "now" would read as "about to finish". */
const FINISHED = new Set(['DONE', 'FAILED', 'HALTED', 'ABORTED']);

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

export function WorkflowPage() {
  const id = Number(useParams()['id']);
  if (!Number.isSafeInteger(id) || id < 1)
    return (
      <main>
        <p className="error-note">Not a workflow id.</p>
      </main>
    );
  return <Workflow id={id} />;
}

function Workflow({ id }: { id: number }) {
  const wf = useWorkflow(id);
  const progress = useProgress(id);
  const groups = useErrorGroups(id);
  const tool = useToolOf(wf.data);
  const w = wf.data;
  const p = progress.data;
  const total: GroupCounts = { PENDING: 0, SCHEDULED: 0, RUNNING: 0, DONE: 0, FATAL: 0 };
  for (const t of p?.templates ?? []) for (const g of GROUPS) total[g] += t.counts[g];

  return (
    <main>
      <p className="crumbs">
        <Link to="/">Workflows</Link> / {id}
      </p>
      <ErrorNote error={wf.error} />
      {w && (
        <header className="wf-header" data-testid="workflow-header">
          <h1>
            {w.name} <span className={`status status-${w.status.toLowerCase()}`}>{w.status}</span>
          </h1>
          {w.description && <p className="description">{w.description}</p>}
          <dl>
            <dt>Tool</dt>
            <dd>{tool.data ?? '—'}</dd>
            <dt>Owner</dt>
            <dd>{w.owner ?? '—'}</dd>
            <dt>Created</dt>
            <dd>{dateTime(w.createdAt)}</dd>
            <dt>Elapsed</dt>
            <dd>{p?.elapsedMs != null ? duration(p.elapsedMs) : '—'}</dd>
            <dt>Last heartbeat</dt>
            <dd>
              {w.lastRun ? `${ago(w.lastRun.heartbeatAt)} (run ${w.lastRun.id}, ${w.lastRun.status})` : 'no run yet'}
            </dd>
            <dt>ETA</dt>
            <dd data-testid="eta">
              {!p
                ? '—'
                : w.status === 'DONE'
                  ? 'done'
                  : FINISHED.has(w.status)
                    ? `— (${w.status.toLowerCase()}: nothing runs until it is resumed)`
                    : eta(p.eta, p.etaReason)}
              {p?.eta && <span className="eta-method">{p.eta.method}</span>}
            </dd>
          </dl>
          <ProgressBar counts={total} />
        </header>
      )}

      <section>
        <h2>Templates</h2>
        <ErrorNote error={progress.error} />
        <Legend />
        <table className="list" data-testid="templates">
          <thead>
            <tr>
              <th>Template</th>
              <th className="bar-col">Progress</th>
              {GROUPS.map((g) => (
                <th key={g} className="num">
                  {g.toLowerCase()}
                </th>
              ))}
              <th className="num">Runtime</th>
            </tr>
          </thead>
          <tbody>
            {(p?.templates ?? []).map((t) => (
              <tr key={t.id} data-template={t.name}>
                <td>{t.name}</td>
                <td className="bar-col">
                  <ProgressBar counts={t.counts} />
                </td>
                {GROUPS.map((g) => (
                  <td key={g} className="num" data-group={g}>
                    {t.counts[g]}
                  </td>
                ))}
                <td className="num" title={t.runtimeSource}>
                  {t.runtimeSeconds === null ? '—' : duration(t.runtimeSeconds * 1000)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section>
        <h2>Errors</h2>
        <ErrorNote error={groups.error} />
        {groups.data && groups.data.groups.length === 0 && <p className="empty">No failures.</p>}
        {groups.data && groups.data.groups.length > 0 && (
          <>
            <p>
              {plural(groups.data.failures, 'failed attempt')} in {plural(groups.data.groupCount, 'group')}
              {groups.data.groupCount > groups.data.groups.length ? ` (the largest ${groups.data.groups.length})` : ''}.
            </p>
            <table className="list" data-testid="error-groups">
              <thead>
                <tr>
                  <th className="num">Count</th>
                  <th className="num">Tasks</th>
                  <th>Class</th>
                  <th>Sample</th>
                  <th>First seen</th>
                  <th>Last seen</th>
                </tr>
              </thead>
              <tbody>
                {groups.data.groups.map((g) => (
                  <tr key={`${g.errorClass}:${g.pattern}`}>
                    <td className="num">{g.count}</td>
                    <td className="num">{g.taskCount}</td>
                    <td>{g.errorClass}</td>
                    <td>
                      <pre className="sample">{g.sample}</pre>
                    </td>
                    <td>{dateTime(g.firstAt)}</td>
                    <td>{dateTime(g.lastAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </section>
    </main>
  );
}
