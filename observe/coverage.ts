/**
 * Coverage, pure: which days of the window each workload's own interfaces logged records, from the observe query's
 * `coverage` rows (records per interface, day and log status) and `address` rows (the workload's own addresses, each
 * with the interface it belongs to).
 * No records is not no traffic: a day without a record from the workload's interfaces is a gap, not a quiet day.
 */
import { addDays, epochOf } from '../core/dates.js';
import type { ObservedCoverage, WorkloadSelector } from '../model/types.js';
import type { CoverageRow, ObserveRow, ObserveWindow } from './observe-row.js';

/** Log statuses that show an interface's log was delivered: records, or "no traffic in this interval". */
const LOGGED = new Set(['OK', 'NODATA']);

/** The coverage of every workload of `selectors` over `window`. */
export function coverageByWorkload(
  rows: readonly ObserveRow[],
  selectors: Readonly<Record<string, WorkloadSelector>>,
  window: ObserveWindow,
  days: number,
): Map<string, ObservedCoverage> {
  // A workload's interfaces: those its selectors name, and those whose own address is one of the workload's.
  const ownIfaces = new Map<string, Set<string>>();
  for (const r of rows) {
    if (r.kind !== 'address' || r.iface === null) continue;
    const set = ownIfaces.get(r.workload);
    if (set) set.add(r.iface);
    else ownIfaces.set(r.workload, new Set([r.iface]));
  }
  const first = epochOf(window.from) / 86_400;
  // The look-back day before the window, and any day after it, are not the window's.
  const cells = rows
    .filter(
      (r): r is CoverageRow & { iface: string; epochDay: number } =>
        r.kind === 'coverage' &&
        r.iface !== null &&
        r.epochDay !== null &&
        r.epochDay >= first &&
        r.epochDay < first + days &&
        r.records > 0,
    )
    .map((r) => ({ ...r, day: r.epochDay - first }));
  const out = new Map<string, ObservedCoverage>();
  for (const name of Object.keys(selectors).sort()) {
    const sel = selectors[name]!;
    const ifaces = ownIfaces.get(name) ?? new Set<string>();
    const mine = (r: CoverageRow & { iface: string }): boolean => {
      const iface = r.iface;
      const [inst = '', subnet = ''] = (r.place ?? '').split(' ');
      return (
        ifaces.has(iface) ||
        sel.interfaces.includes(iface) ||
        (inst !== '' && sel.instances.includes(inst)) ||
        (subnet !== '' && sel.subnets.includes(subnet))
      );
    };
    const covered = new Set<number>();
    let skipped = 0;
    for (const r of cells) {
      if (!mine(r)) continue;
      if (LOGGED.has(r.status)) covered.add(r.day);
      else if (r.status === 'SKIPDATA') skipped += r.records;
    }
    const gaps: string[] = [];
    for (let d = 0; d < days; d++) if (!covered.has(d)) gaps.push(addDays(window.from, d));
    out.set(name, { days, covered: covered.size, gaps, skippedWindows: skipped });
  }
  return out;
}

/**
 * The days after `lastSeen` up to `to` that count towards retainDays: days some window covered. Days of `current`'s
 * window count unless they are its gaps; earlier days unless they were gaps of the previous window or lay between
 * the two windows (observed by neither); days before the previous window count as days (its run judged them).
 */
export function coveredDaysAfter(
  lastSeen: string,
  current: { window: ObserveWindow; gaps: ReadonlySet<string> },
  previous: { window: ObserveWindow; gaps: ReadonlySet<string> } | undefined,
): number {
  let n = 0;
  for (let d = addDays(lastSeen, 1); d <= current.window.to; d = addDays(d, 1)) {
    if (d >= current.window.from) {
      if (!current.gaps.has(d)) n++;
    } else if (!previous || d < previous.window.from) n++;
    else if (d <= previous.window.to && !previous.gaps.has(d)) n++;
  }
  return n;
}
