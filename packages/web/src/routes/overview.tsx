// The overview (/): the workflow list, newest first, with its filters in the URL (?name=&user=
// &status=&since=) so a filtered view can be bookmarked and shared. Each row's bar comes from the
// list's own counts (one request for the page); the ETA and elapsed time of a running workflow come
// from its progress, read only for the first ACTIVE_ROWS active rows and less often.

import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { SINCE_MS, useProgress, useWorkflowList, type WorkflowListItem, type WorkflowStatus } from '../api/client.js';
import { ErrorNote } from '../components/banners.js';
import { duration, eta } from '../components/format.js';
import { groupCounts, Legend, ProgressBar } from '../components/progress-bar.js';

const STATUSES = [
  'REGISTERING',
  'QUEUED',
  'ABORTED',
  'INSTANTIATING',
  'LAUNCHED',
  'RUNNING',
  'DONE',
  'HALTED',
  'FAILED',
] as const satisfies readonly WorkflowStatus[];
// Fails to compile when the server gains a status this list lacks.
const _everyStatus: Record<Exclude<WorkflowStatus, (typeof STATUSES)[number]>, never> = {};

/** Statuses whose runs may still move: their ETA is worth asking for. */
const ACTIVE = new Set<WorkflowStatus>(['QUEUED', 'INSTANTIATING', 'LAUNCHED', 'RUNNING']);
const ACTIVE_ROWS = 25;
const ACTIVE_POLL_MS = 10_000;

const FILTERS = ['name', 'user', 'status', 'since'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

export function Overview() {
  const [params, setParams] = useSearchParams();
  const filters: Filters = {};
  for (const f of FILTERS) {
    const v = params.get(f);
    if (v) filters[f] = v;
  }
  const list = useWorkflowList(filters);
  const rows = list.data?.workflows ?? [];
  const activeIds = new Set(
    rows
      .filter((w) => ACTIVE.has(w.status))
      .slice(0, ACTIVE_ROWS)
      .map((w) => w.id),
  );

  return (
    <main>
      <h1>Workflows</h1>
      <FilterForm
        key={params.toString()}
        filters={filters}
        onApply={(next) => {
          const p = new URLSearchParams();
          for (const f of FILTERS) if (next[f]) p.set(f, next[f]);
          setParams(p);
        }}
      />
      <ErrorNote error={list.error} />
      <Legend />
      <table className="list" data-testid="workflow-list">
        <thead>
          <tr>
            <th>ID</th>
            <th>Name</th>
            <th>Tool</th>
            <th>User</th>
            <th>Status</th>
            <th className="bar-col">Progress</th>
            <th>Elapsed</th>
            <th>ETA</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((w) => (
            <Row key={w.id} w={w} active={activeIds.has(w.id)} />
          ))}
        </tbody>
      </table>
      {list.isSuccess && rows.length === 0 && <p className="empty">No workflow matches.</p>}
      {list.data?.nextCursor !== undefined && <p className="more">Showing the newest 100; narrow the filters.</p>}
    </main>
  );
}

function Row({ w, active }: { w: WorkflowListItem; active: boolean }) {
  const progress = useProgress(w.id, { enabled: active, intervalMs: ACTIVE_POLL_MS });
  const p = active ? progress.data : undefined;
  const counts = groupCounts(w.counts);
  return (
    <tr data-workflow-id={w.id}>
      <td className="num">{w.id}</td>
      <td>
        <Link to={`/workflows/${w.id}`}>{w.name}</Link>
      </td>
      <td>{w.tool}</td>
      <td>{w.user ?? '—'}</td>
      <td>
        <span className={`status status-${w.status.toLowerCase()}`} data-testid="status">
          {w.status}
        </span>
      </td>
      <td className="bar-col">
        <ProgressBar counts={counts} />
        <span className="bar-label">
          {counts.DONE}/{w.taskCount} done{counts.FATAL > 0 ? `, ${counts.FATAL} fatal` : ''}
        </span>
      </td>
      <td title={p ? 'since its latest run started' : 'from creation to its latest status change'}>
        {p && p.elapsedMs !== null ? duration(p.elapsedMs) : duration(w.statusAt - w.createdAt)}
      </td>
      <td title={p?.eta?.method ?? p?.etaReason ?? ''}>{p ? eta(p.eta) : w.status === 'DONE' ? 'done' : '—'}</td>
    </tr>
  );
}

function FilterForm({ filters, onApply }: { filters: Filters; onApply: (f: Filters) => void }) {
  // Edited here, applied to the URL on submit (typing does not fire a request per key).
  const [draft, setDraft] = useState<Filters>(filters);
  const set = (k: keyof Filters) => (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply(draft);
  };
  return (
    <form className="filters" onSubmit={submit} aria-label="filters">
      <label>
        Name <input name="name" placeholder="glob: flu_*" value={draft.name ?? ''} onChange={set('name')} />
      </label>
      <label>
        User <input name="user" value={draft.user ?? ''} onChange={set('user')} />
      </label>
      <label>
        Status
        <select name="status" value={draft.status ?? ''} onChange={set('status')}>
          <option value="">any</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label>
        Created
        <select name="since" value={draft.since ?? ''} onChange={set('since')}>
          <option value="">any time</option>
          {Object.keys(SINCE_MS).map((s) => (
            <option key={s} value={s}>
              in the last {s}
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Apply</button>
      <button
        type="button"
        onClick={() => {
          setDraft({});
          onApply({});
        }}
      >
        Clear
      </button>
    </form>
  );
}
