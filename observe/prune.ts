/**
 * Files outside the window are not read: a log file whose delivery day (from AWS's S3 path, its Hive-style
 * partitions, or its file name) or whose Parquet statistics of `start` put it outside the days a query scans is
 * left out before DuckDB opens it. Never by mtime: a copy (`aws s3 sync`, a restore) gives any mtime.
 *
 * A file delivered on day D may hold records that started before D (its aggregation interval, a late delivery,
 * a record just before midnight): a file is kept while one of its days lies within one day of the scanned days,
 * and the query's own row filter decides exactly. A file whose day cannot be told is read.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { addDays, dayOf } from '../core/dates.js';

/** The seconds a query reads: [from, to). */
export interface ScanRange {
  from: number;
  to: number;
}

/** Days of margin on each side of the scanned days. */
const MARGIN_DAYS = 1;

/** `_YYYYMMDDTHHmmZ` in a delivered file name (flow logs and Resolver query logs). */
const NAME_STAMP = /_(\d{4})(\d{2})(\d{2})T\d{4}Z(?=[_.])/g;
/** `YYYY/MM/DD/` (and an hourly `HH/`) right above the file, as AWS delivers to S3. */
const DAY_FOLDERS = /(?:^|\/)(\d{4})\/(\d{2})\/(\d{2})\/(?:\d{2}\/)?[^/]+$/;
/** The Hive-compatible delivery: `year=YYYY/month=MM/day=DD/` (and `hour=HH/`) right above the file. */
const HIVE_FOLDERS = /(?:^|\/)year=(\d{4})\/month=(\d{2})\/day=(\d{2})\/(?:hour=\d{2}\/)?[^/]+$/;

/** A calendar day `YYYY-MM-DD`, or undefined when the parts name none (2026-02-30, month 13). */
function calendarDay(y: string, m: string, d: string): string | undefined {
  const day = `${y}-${m}-${d}`;
  const ms = Date.parse(`${day}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === day ? day : undefined;
}

/** The delivery days a path names (its folders and its file name), sorted; empty when it names none. */
export function deliveryDays(path: string): string[] {
  const p = path.replace(/\\/g, '/');
  const name = p.slice(p.lastIndexOf('/') + 1);
  const days = new Set<string>();
  for (const m of name.matchAll(NAME_STAMP)) {
    const d = calendarDay(m[1]!, m[2]!, m[3]!);
    if (d) days.add(d);
  }
  for (const re of [DAY_FOLDERS, HIVE_FOLDERS]) {
    const m = re.exec(p);
    const d = m && calendarDay(m[1]!, m[2]!, m[3]!);
    if (d) days.add(d);
  }
  return [...days].sort();
}

/** The first and last day a file may be dated and still hold a record of the range. */
function keptDays(range: ScanRange): { first: string; last: string } {
  return { first: addDays(dayOf(range.from), -MARGIN_DAYS), last: addDays(dayOf(range.to - 1), MARGIN_DAYS) };
}

/** Whether a path's delivery days say it can hold a record of the range: undefined when it names no day. */
export function dayMayHold(path: string, range: ScanRange): boolean | undefined {
  const days = deliveryDays(path);
  if (days.length === 0) return undefined;
  const { first, last } = keptDays(range);
  // Two days that disagree (folder and name): kept when either could be right.
  return days.some((d) => d >= first && d <= last);
}

/**
 * Whether a Parquet file's statistics of `start` say it can hold a record of the range; undefined when they say
 * nothing (no statistics, `start` not an integer column, a footer that cannot be read: then the read says why).
 */
async function parquetMayHold(connection: DuckDBConnection, path: string, range: ScanRange): Promise<boolean | undefined> {
  let rows: Record<string, unknown>[];
  try {
    const stmt = await connection.prepare(
      `SELECT type, stats_min_value AS lo, stats_max_value AS hi FROM parquet_metadata(?) WHERE path_in_schema = 'start'`,
    );
    stmt.bindVarchar(1, path);
    rows = (await stmt.runAndReadAll()).getRowObjects() as Record<string, unknown>[];
  } catch {
    return undefined;
  }
  if (rows.length === 0) return undefined;
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows) {
    // Text or decimal statistics do not order as the view's integers do.
    if (r.type !== 'INT64' && r.type !== 'INT32') return undefined;
    if (r.lo === null || r.hi === null || !/^-?\d+$/.test(String(r.lo)) || !/^-?\d+$/.test(String(r.hi))) return undefined;
    lo = Math.min(lo, Number(r.lo));
    hi = Math.max(hi, Number(r.hi));
  }
  // The statistics are the records' own starts, not a delivery day: no margin is needed.
  return hi >= range.from && lo < range.to;
}

/**
 * The files that may hold a record of the range, in their order: a file is left out only when its delivery day,
 * or (Parquet without one) its statistics of `start`, lie outside the range by more than the margin. When that
 * would leave nothing, every file is kept: the read then finds the window empty and names the newest record the
 * files hold, as it would have without pruning.
 */
export async function filesForRange<T extends { path: string }>(
  files: readonly T[],
  range: ScanRange,
  connection?: DuckDBConnection,
): Promise<T[]> {
  const kept: T[] = [];
  for (const f of files) {
    let may = dayMayHold(f.path, range);
    if (may === undefined && connection && /\.parquet$/i.test(f.path)) may = await parquetMayHold(connection, f.path, range);
    if (may !== false) kept.push(f);
  }
  return kept.length > 0 ? kept : [...files];
}
