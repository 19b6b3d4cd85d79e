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
