/**
 * The literals of an accepted query become `?` parameters, so no value of the question is ever part of the text
 * an engine runs (Athena gets them as ExecutionParameters, DuckDB as bound values). Pure.
 *
 * node-sql-parser gives no positions for literals (its Athena grammar locates function calls only), so the text
 * is tokenised here, after the validator accepted it (no comments, backslashes, backticks or `$`): single-quoted
 * strings, double-quoted identifiers, words, numbers, punctuation. Every string literal and every number is
 * replaced in text order, except the numbers that are syntax rather than values: LIMIT / OFFSET counts and
 * GROUP BY / ORDER BY ordinals (`ORDER BY 2`, which as a parameter would order by a constant).
 *
 * The tokens are then checked against the parser's AST: the same string literals, the same numbers, as many
 * LIMIT values and ordinals. Where the two disagree, the query is refused: nothing is ever spliced in. Typed
 * literals keep their type around the parameter: `TIMESTAMP '...'` becomes `CAST(? AS TIMESTAMP)` and
 * `INTERVAL '7' DAY` becomes `(? * INTERVAL '1' DAY)`, whose only literal is written here, not taken from the query.
 *
 * Athena gets `?` in text order (it substitutes each as a literal, so GROUP BY equivalence holds there). DuckDB's
 * binder tells parameters apart by number (`$1` is not `$3`, though both hold 1), so it gets `$n`, one per value.
 */
import sqlParser from 'node-sql-parser/build/athena.js';
import type { SqlParam } from '../observe/sql.js';
import { forParser, isStackOverflow, TOO_DEEP } from './sql-guard.js';

/** How DuckDB binds a value: as the literal it replaces would be typed. */
export type ParamType = 'VARCHAR' | 'INTEGER' | 'BIGINT' | 'DOUBLE';

export interface ParameterizedQuery {
  /** The text with one `?` per literal, in text order (Athena's execution parameters are positional). */
  sql: string;
  /** The values, in that order. */
  params: SqlParam[];
  /** The values as Athena execution parameters: strings quoted, numbers as written (1048576.0 stays a decimal). */
  literals: string[];
  /**
   * For DuckDB: `$n`, one number per distinct value, so that equal expressions stay equal to the binder
   * (`substr(srcaddr, 1, 6)` in the select list and in GROUP BY); with the values and their types.
   */
  numbered: { sql: string; params: SqlParam[]; types: ParamType[] };
}

type Parameterized = ({ ok: true } & ParameterizedQuery) | { ok: false; reason: string };

type Node = Record<string, unknown>;

interface Token {
  kind: 'string' | 'ident' | 'word' | 'number' | 'punct';
  start: number;
  end: number;
  /** Strings: the text between the quotes (quotes still doubled); words: upper case; others: the text. */
  text: string;
}

/** One literal of the text and what replaces it: `?` alone, or a form around it for typed literals. */
interface Replacement {
  start: number;
  end: number;
  value: SqlParam;
  type: ParamType;
  /** As Athena gets it. */
  literal: string;
  /** The text around the parameter: `?` by default, `CAST(? AS TIMESTAMP)`, `(? * INTERVAL '1' DAY)`. */
  form: (param: string) => string;
}

class Unsound extends Error {}

const unsound = (reason: string): never => {
  throw new Unsound(reason);
};

const NUMBER = /\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?/y;
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const WORD_CHAR = /[A-Za-z0-9_]/;
/** Tokens after which an ORDER BY / GROUP BY item ends. */
const ITEM_END = new Set([
  ',',
  ')',
  'ASC',
  'DESC',
  'NULLS',
  'LIMIT',
  'OFFSET',
  'HAVING',
  'ORDER',
  'WINDOW',
  'UNION',
  'INTERSECT',
  'EXCEPT',
]);
/** Words that start a clause other than an ORDER BY / GROUP BY list. */
const CLAUSES = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'HAVING',
  'LIMIT',
  'OFFSET',
  'UNION',
  'INTERSECT',
  'EXCEPT',
  'ON',
  'JOIN',
  'WINDOW',
  'PARTITION',
  'WITH',
]);
const INTERVAL_UNITS = new Set(['SECOND', 'MINUTE', 'HOUR', 'DAY', 'MONTH', 'YEAR']);

/** `sql` (accepted by checkSql) with its literals as parameters, and their values in order; or why that cannot be done. */
export function parameterize(sql: string): Parameterized {
  try {
    return { ok: true, ...rewrite(sql) };
  } catch (err) {
    if (err instanceof Unsound) return { ok: false, reason: `cannot pass the query's values as parameters: ${err.message}` };
    if (isStackOverflow(err)) return { ok: false, reason: TOO_DEEP };
    throw err;
  }
}

function rewrite(sql: string): ParameterizedQuery {
  const tokens = tokenize(sql);
  const replaced: Replacement[] = [];
  const limits: number[] = [];
  const ordinals: number[] = [];
  /** The clause at each parenthesis depth: inside an ORDER BY / GROUP BY list or not. */
  const byList: boolean[] = [false];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const prev = tokens[i - 1];
    const next = tokens[i + 1];
    if (t.kind === 'punct' && t.text === '(') byList.push(false);
    else if (t.kind === 'punct' && t.text === ')') byList.pop();
    else if (t.kind === 'word' && t.text === 'BY' && (prev?.text === 'ORDER' || prev?.text === 'GROUP')) byList[byList.length - 1] = true;
    else if (t.kind === 'word' && t.text === 'INTERVAL' && next?.kind === 'string') {
      // INTERVAL '7' DAY: a count cannot be a parameter inside the literal, but may multiply a unit interval.
      const unit = tokens[i + 2];
      if (unit?.kind !== 'word' || !INTERVAL_UNITS.has(unit.text) || !/^\d{1,9}$/.test(next.text))
        return unsound("an INTERVAL must read INTERVAL '7' DAY");
      const n = Number(next.text);
      replaced.push({
        start: t.start,
        end: unit.end,
        value: n,
        type: 'INTEGER',
        literal: String(n),
        form: (p) => `(${p} * INTERVAL '1' ${unit.text})`,
      });
      i += 2;
    } else if (t.kind === 'word' && (t.text === 'TIMESTAMP' || t.text === 'DATE') && next?.kind === 'string') {
      // TIMESTAMP '2026-11-20 00:00:00': the typed literal becomes a cast of a text parameter.
      const value = next.text.replace(/''/g, "'");
      replaced.push({
        start: t.start,
        end: next.end,
        value,
        type: 'VARCHAR',
        literal: quote(value),
        form: (p) => `CAST(${p} AS ${t.text})`,
      });
      i += 1;
    } else if (t.kind === 'word' && CLAUSES.has(t.text)) byList[byList.length - 1] = false;
    else if (t.kind === 'string') {
      const value = t.text.replace(/''/g, "'");
      replaced.push({ start: t.start, end: t.end, value, type: 'VARCHAR', literal: quote(value), form: (p) => p });
    } else if (t.kind === 'number') {
      if (isSyntax(prev, 'LIMIT', 'OFFSET')) limits.push(Number(t.text));
      else if (byList[byList.length - 1] && isSyntax(prev, 'BY', ',') && (next === undefined || isSyntax(next, ...ITEM_END)))
        ordinals.push(Number(t.text));
      else replaced.push(numberParam(t));
    }
  }
  crossCheck(sql, tokens, limits, ordinals);

  let out = '';
  let dollar = '';
  let at = 0;
  const distinct = new Map<string, number>();
  const numbered: ParameterizedQuery['numbered'] = { sql: '', params: [], types: [] };
  for (const r of replaced) {
    const key = `${r.type}:${r.literal}`;
    let n = distinct.get(key);
    if (n === undefined) {
      numbered.params.push(r.value);
      numbered.types.push(r.type);
      n = numbered.params.length;
      distinct.set(key, n);
    }
    out += `${sql.slice(at, r.start)}${r.form('?')}`;
    dollar += `${sql.slice(at, r.start)}${r.form(`$${n}`)}`;
    at = r.end;
  }
  numbered.sql = dollar + sql.slice(at);
  return { sql: out + sql.slice(at), params: replaced.map((r) => r.value), literals: replaced.map((r) => r.literal), numbered };
}

/**
 * A number literal as a parameter: a whole number as INTEGER (BIGINT beyond 32 bits), so that `substr(x, ?, ?)`
 * binds like `substr(x, 1, 3)`; a decimal or an exponent as DOUBLE, and to Athena as written (`1048576.0` stays a
 * decimal there, not an integer that would make `bytes / 1048576` an integer division).
 */
function numberParam(t: Token): Replacement {
  const n = Number(t.text);
  const whole = /^\d+$/.test(t.text);
  if (!Number.isFinite(n) || (whole && !Number.isSafeInteger(n))) return unsound(`the number ${t.text} is too large to pass exactly`);
  const type: ParamType = !whole ? 'DOUBLE' : n < 2 ** 31 ? 'INTEGER' : 'BIGINT';
  return { start: t.start, end: t.end, value: n, type, literal: whole ? String(n) : t.text, form: (p) => p };
}

function quote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      if (c === "'" && i > 0 && /[A-Za-z0-9_&]/.test(sql[i - 1] as string)) unsound('a prefixed string literal');
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) return unsound('an unterminated quote');
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      out.push({ kind: c === "'" ? 'string' : 'ident', start: i, end: j + 1, text: sql.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    WORD.lastIndex = i;
    const word = WORD.exec(sql);
    if (word) {
      out.push({ kind: 'word', start: i, end: i + word[0].length, text: word[0].toUpperCase() });
      i += word[0].length;
      continue;
    }
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(sql);
    if (num) {
      const end = i + num[0].length;
      if (end < sql.length && (WORD_CHAR.test(sql[end] as string) || sql[end] === "'" || sql[end] === '"'))
        unsound(`cannot read the number at "${sql.slice(i, end + 1)}"`);
      out.push({ kind: 'number', start: i, end, text: num[0] });
      i = end;
      continue;
    }
    out.push({ kind: 'punct', start: i, end: i + 1, text: c });
    i++;
  }
  return out;
}

/** The tokens must agree with the parser: the same string literals and numbers, as many LIMIT values and ordinals. */
function crossCheck(sql: string, tokens: readonly Token[], limits: readonly number[], ordinals: readonly number[]): void {
  const ast = new sqlParser.Parser().astify(forParser(sql), { database: 'athena' });
  const strings: string[] = [];
  const numbers: number[] = [];
  const astLimits: number[] = [];
  const astOrdinals: number[] = [];
  const isNumber = (v: unknown): v is Node => isNode(v) && (v.type === 'number' || v.type === 'bigint');
  // A loop, not recursion: 2,000 AND terms are a tree 2,000 deep.
  const stack: unknown[] = [ast];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      stack.push(...(v as unknown[]));
      continue;
    }
    if (!isNode(v)) continue;
    // TIMESTAMP '...' and DATE '...' are string tokens of the text.
    if (v.type === 'single_quote_string' || v.type === 'timestamp' || v.type === 'date') strings.push(String(v.value));
    if (isNumber(v)) numbers.push(Math.abs(Number(v.value)));
    for (const [key, child] of Object.entries(v)) {
      if (key === 'limit' && isNode(child) && Array.isArray(child.value))
        astLimits.push(...child.value.filter(isNumber).map((n) => Number(n.value)));
      if (key === 'groupby') {
        const list = isNode(child) ? child.columns : child;
        if (Array.isArray(list)) astOrdinals.push(...list.filter(isNumber).map((n) => Number(n.value)));
      }
      if (key === 'orderby' && Array.isArray(child)) {
        astOrdinals.push(
          ...child
            .map((o) => (isNode(o) ? o.expr : undefined))
            .filter(isNumber)
            .map((n) => Number(n.value)),
        );
      }
      stack.push(child);
    }
  }
  const textStrings = tokens.filter((t) => t.kind === 'string').map((t) => t.text);
  const textNumbers = tokens.filter((t) => t.kind === 'number').map((t) => Number(t.text));
  if (!sameItems(textStrings, strings)) unsound('its string literals could not all be located');
  if (!sameItems(textNumbers, numbers)) unsound('its numbers could not all be located');
  if (!sameItems(limits, astLimits)) unsound('its LIMIT could not be located');
  if (!sameItems(ordinals, astOrdinals)) unsound('its GROUP BY / ORDER BY positions could not be located');
}

/** A keyword or punctuation (not a quoted name or a literal) among `texts`. */
function isSyntax(t: Token | undefined, ...texts: string[]): boolean {
  return t !== undefined && (t.kind === 'word' || t.kind === 'punct') && texts.includes(t.text);
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sameItems<T extends string | number>(a: readonly T[], b: readonly T[]): boolean {
  const sort = (x: readonly T[]) => [...x].map(String).sort();
  return a.length === b.length && sort(a).every((v, i) => v === sort(b)[i]);
}
