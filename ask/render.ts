/** The result of `ask --run` as a plain text table. Pure. */
import type { Cell, QueryResult } from './run.js';

const text = (v: Cell): string => (v === null ? 'NULL' : String(v));

/** Columns padded to their widest value (numbers right-aligned), a rule under the header, and the row count. */
export function renderTable(result: QueryResult): string {
  const { columns, rows } = result;
  const count = `(${rows.length} row${rows.length === 1 ? '' : 's'})\n`;
  if (columns.length === 0) return count;
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => text(r[i] ?? null).length)));
  const numeric = columns.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null));
  const line = (cells: string[], align: boolean[]) =>
    cells
      .map((c, i) => (align[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  const out = [line(columns, numeric), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => line(r.map(text), numeric))];
  return `${out.join('\n')}\n${count}`;
}
