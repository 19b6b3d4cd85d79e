/** Calendar arithmetic on `YYYY-MM-DD` dates and epoch seconds, all in UTC. */
import { UsageError } from './errors.js';

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Throws a UsageError unless `value` is a date `YYYY-MM-DD` (`what`: the option that gave it, e.g. `--to`). */
export function assertDate(what: string, value: string): string {
  // A date that exists: Date.parse alone rolls 2026-02-30 over to March.
  const ms = DATE.test(value) ? Date.parse(`${value}T00:00:00Z`) : NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value)
    throw new UsageError(`${what} must be a date YYYY-MM-DD, got ${JSON.stringify(value)}`);
  return value;
}

/** The `--to` of a window (default today): a date, and not after today, when no flow logs can cover it yet. */
export function windowEnd(to: string | undefined, today: string): string {
  const end = assertDate('--to', to ?? today);
  if (end > today) throw new UsageError(`--to ${end} is after today (${today}): no flow logs cover those days yet`);
  return end;
}

/** `date` plus `days` (negative: minus). */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/** Epoch seconds of a date's midnight. */
export function epochOf(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) / 1000;
}

/** The date of an epoch second (null: the epoch itself). */
export function dayOf(epochSeconds: number | null): string {
  return new Date((epochSeconds ?? 0) * 1000).toISOString().slice(0, 10);
}
