/** Small judgements about free text and dates shared by several rules. */

/** Words that stand for an answer not yet written. */
const PLACEHOLDERS = new Set(['todo', 'tbd', 'tba', 'fixme', 'xxx', 'wip', '-', '--', '?', '...', 'n/a', 'na', 'none', 'null']);

/** True when the text says nothing: blank, a placeholder, or a note that begins with TODO/TBD/FIXME. */
export function isPlaceholder(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (t === '') return true;
  if (PLACEHOLDERS.has(t) || PLACEHOLDERS.has(t.replace(/[.!:;,]+$/, ''))) return true;
  return /^(todo|tbd|fixme)\b/.test(t);
}

/** YYYY-MM-DD plus `days`, in UTC. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
