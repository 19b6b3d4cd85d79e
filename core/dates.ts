/** Calendar arithmetic on `YYYY-MM-DD` dates and epoch seconds, all in UTC. */

const DAY_MS = 86_400_000;

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
