/**
 * Volume anomalies, from the report query's daily rows (pure). A workload's day to an external destination is
 * flagged when it sent at least `volumeMinBytes` and at least `volumeFactor` times its baseline: the median of its
 * other days to that destination, or, for a destination with no other day, the median of its other days to all
 * external destinations.
 *
 * This runs here and not in SQL because on Athena every self-join of the per-day rows read the flow-log table again
 * (Trino plans each reference to a WITH query anew): the medians over "the other days" cost hundreds of scans
 * there. The daily rows are in the query's answer anyway; `basis = 'external'` marks the destinations outside the
 * VPC that are no workload's address.
 */
import type { AnomalyThresholds } from '../model/types.js';
import type { ReportRow } from './report-sql.js';

interface Day {
  workload: string;
  raddr: string;
  d: number;
  bytes: number;
  flows: number;
  /** The day's largest (port, protocol) to the destination. */
  top: { bytes: number; port: number | null; proto: number | null };
}

/** The median of `xs` (the mean of the two middle values for an even count); undefined when empty. */
export function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Ports and protocols compare as numbers, a missing one last (the SQL's ORDER BY ... ASC). */
function before(a: number | null, b: number | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a - b;
}

/** The median of the values of the other days (`d` excluded), and how many other days there were. */
function otherDays(byDay: ReadonlyMap<number, number>, d: number): { median: number; days: number } | undefined {
  const others = [...byDay].filter(([day]) => day !== d).map(([, v]) => v);
  const m = median(others);
  return m === undefined ? undefined : { median: m, days: others.length };
}

/** A day a workload sent far more than usual to an external destination. */
export interface VolumeRow {
  kind: 'volume';
  workload: string;
  raddr: string;
  /** The day's largest (port, protocol) to the destination. */
  port: number | null;
  proto: number | null;
  /** Days since the window's first day. */
  day: number;
  flows: number;
  bytes: number;
  /** The median bytes of the other days, and how many other days there were. */
  baseline: number;
  baselineDays: number;
  /** What the baseline is of: this destination's other days, or all external destinations' (first day seen here). */
  of: 'destination' | 'external';
}

/** The daily rows' days that are volume anomalies. */
export function volumeRows(rows: readonly ReportRow[], t: AnomalyThresholds): VolumeRow[] {
  const days = new Map<string, Day>();
  for (const r of rows) {
    if (r.kind !== 'daily' || !r.external || r.workload === null || r.raddr === null || r.day === null) continue;
    const key = `${r.workload}\0${r.raddr}\0${r.day}`;
    const day = days.get(key) ?? {
      workload: r.workload,
      raddr: r.raddr,
      d: r.day,
      bytes: 0,
      flows: 0,
      top: { bytes: -1, port: null, proto: null },
    };
    day.bytes += r.bytes;
    day.flows += r.flows;
    const better =
      r.bytes > day.top.bytes || (r.bytes === day.top.bytes && (before(r.port, day.top.port) || before(r.proto, day.top.proto)) < 0);
    if (better) day.top = { bytes: r.bytes, port: r.port, proto: r.proto };
    days.set(key, day);
  }

  // Bytes per day, per destination and per workload (to all external destinations).
  const perDest = new Map<string, Map<number, number>>();
  const perWorkload = new Map<string, Map<number, number>>();
  for (const day of days.values()) {
    const dest = `${day.workload}\0${day.raddr}`;
    perDest.set(dest, (perDest.get(dest) ?? new Map<number, number>()).set(day.d, day.bytes));
    const all = perWorkload.get(day.workload) ?? new Map<number, number>();
    perWorkload.set(day.workload, all.set(day.d, (all.get(day.d) ?? 0) + day.bytes));
  }

  const out: VolumeRow[] = [];
  for (const day of days.values()) {
    const dest = otherDays(perDest.get(`${day.workload}\0${day.raddr}`)!, day.d);
    const base = dest ?? otherDays(perWorkload.get(day.workload)!, day.d);
    if (!base || day.bytes < t.volumeMinBytes || day.bytes < t.volumeFactor * base.median) continue;
    out.push({
      kind: 'volume',
      workload: day.workload,
      raddr: day.raddr,
      port: day.top.port,
      proto: day.top.proto,
      day: day.d,
      flows: day.flows,
      bytes: day.bytes,
      baseline: base.median,
      baselineDays: base.days,
      of: dest ? 'destination' : 'external',
    });
  }
  return out;
}
