/** Values of a query row as they come from DuckDB (numbers, bigints) or Athena (strings); empty and NULL are null. */

export function numberOrNull(v: unknown): number | null {
  return v === null || v === undefined || v === '' ? null : Number(v);
}

export function stringOrNull(v: unknown): string | null {
  return v === null || v === undefined || v === '' ? null : String(v);
}
