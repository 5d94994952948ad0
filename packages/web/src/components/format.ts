// How times, durations and the ETA read on the pages: short, in the viewer's locale and time zone.

/** 3725000 → "1h 2m"; 42000 → "42s". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function dateTime(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** "3m ago" for a time in the past. */
export function ago(ms: number, now = Date.now()): string {
  return `${duration(now - ms)} ago`;
}

export function eta(e: { seconds: number; low: number; high: number } | null, reason?: string): string {
  if (!e) return reason ? `— (${reason})` : '—';
  if (e.seconds === 0) return 'now';
  return `${duration(e.seconds * 1000)} (${duration(e.low * 1000)} – ${duration(e.high * 1000)})`;
}
