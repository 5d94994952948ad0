// The stacked progress bar: five groups of task statuses (the groups of GET /workflows/{id}/progress)
// as segments whose widths are shares of the total, with the counts in its title and its label.

import { PROGRESS_GROUPS as GROUPS, PROGRESS_GROUP_OF, type ProgressGroup } from '@jobmon/core/states';

export { GROUPS };
export type Group = ProgressGroup;
export type GroupCounts = Record<Group, number>;

/** The workflow list counts tasks per status: the same groups as the server's progress. */
export function groupCounts(byStatus: Record<string, number>): GroupCounts {
  const out: GroupCounts = { PENDING: 0, SCHEDULED: 0, RUNNING: 0, DONE: 0, FATAL: 0 };
  for (const [status, n] of Object.entries(byStatus))
    out[PROGRESS_GROUP_OF[status as keyof typeof PROGRESS_GROUP_OF] ?? 'PENDING'] += n;
  return out;
}

export function countsText(c: GroupCounts): string {
  return GROUPS.map((g) => `${g.toLowerCase()} ${c[g]}`).join(', ');
}

export function ProgressBar({ counts }: { counts: GroupCounts }) {
  const total = GROUPS.reduce((s, g) => s + counts[g], 0);
  const text = countsText(counts);
  return (
    <div className="bar" role="img" aria-label={text} title={text} data-counts={text}>
      {total > 0 &&
        GROUPS.filter((g) => counts[g] > 0).map((g) => (
          <span key={g} className={`seg seg-${g.toLowerCase()}`} style={{ width: `${(100 * counts[g]) / total}%` }} />
        ))}
    </div>
  );
}

export function Legend() {
  return (
    <div className="legend">
      {GROUPS.map((g) => (
        <span key={g}>
          <span className={`swatch seg-${g.toLowerCase()}`} /> {g.toLowerCase()}
        </span>
      ))}
    </div>
  );
}
