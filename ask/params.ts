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
 * LIMIT values and ordinals. Where the two disagree, or a literal cannot be a parameter (INTERVAL '1' DAY, a
 * number whose text would change), the query is refused: nothing is ever spliced in.
 */
import sqlParser from 'node-sql-parser/build/athena.js';
import type { SqlParam } from '../observe/sql.js';

type Parameterized = { ok: true; sql: string; params: SqlParam[] } | { ok: false; reason: string };

type Node = Record<string, unknown>;

interface Token {
  kind: 'string' | 'ident' | 'word' | 'number' | 'punct';
  start: number;
  end: number;
  /** Strings: the text between the quotes (quotes still doubled); words: upper case; others: the text. */
  text: string;
}

class Unsound extends Error {}

const unsound = (reason: string): never => {
  throw new Unsound(reason);
};

const NUMBER = /\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?/y;
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const WORD_CHAR = /[A-Za-z0-9_]/;
/** Tokens after which an ORDER BY / GROUP BY item ends. */
const ITEM_END = new Set([',', ')', 'ASC', 'DESC', 'NULLS', 'LIMIT', 'OFFSET', 'HAVING', 'ORDER', 'WINDOW', 'UNION', 'INTERSECT', 'EXCEPT']);
/** Words that start a clause other than an ORDER BY / GROUP BY list. */
const CLAUSES = new Set(['SELECT', 'FROM', 'WHERE', 'HAVING', 'LIMIT', 'OFFSET', 'UNION', 'INTERSECT', 'EXCEPT', 'ON', 'JOIN', 'WINDOW', 'PARTITION', 'WITH']);

/** `sql` (accepted by checkSql) with its literals as `?`, and their values in order; or why that cannot be done. */
export function parameterize(sql: string): Parameterized {
  try {
    return { ok: true, ...rewrite(sql) };
  } catch (err) {
    if (err instanceof Unsound) return { ok: false, reason: `cannot pass the query's values as parameters: ${err.message}` };
    throw err;
  }
}

function rewrite(sql: string): { sql: string; params: SqlParam[] } {
  const tokens = tokenize(sql);
  const replaced: Token[] = [];
  const limits: number[] = [];
  const ordinals: number[] = [];
  /** The clause at each parenthesis depth: inside an ORDER BY / GROUP BY list or not. */
  const byList: boolean[] = [false];
  tokens.forEach((t, i) => {
    const prev = tokens[i - 1];
    const next = tokens[i + 1];
    if (t.kind === 'punct' && t.text === '(') byList.push(false);
    else if (t.kind === 'punct' && t.text === ')') byList.pop();
    else if (t.kind === 'word' && t.text === 'BY' && (prev?.text === 'ORDER' || prev?.text === 'GROUP')) byList[byList.length - 1] = true;
    else if (t.kind === 'word' && CLAUSES.has(t.text)) byList[byList.length - 1] = false;
    else if (t.kind === 'string') replaced.push(t);
    else if (t.kind === 'number') {
      if (isSyntax(prev, 'LIMIT', 'OFFSET')) limits.push(Number(t.text));
      else if (byList[byList.length - 1] && isSyntax(prev, 'BY', ',') && (next === undefined || isSyntax(next, ...ITEM_END))) ordinals.push(Number(t.text));
      else replaced.push(t);
    }
  });
  crossCheck(sql, tokens, limits, ordinals);

  const params: SqlParam[] = replaced.map((t) => {
    if (t.kind === 'string') return t.text.replace(/''/g, "'");
    const n = Number(t.text);
    if (!Number.isFinite(n) || (Number.isInteger(n) && !Number.isSafeInteger(n))) return unsound(`the number ${t.text} is too large to pass exactly`);
    if (String(n) !== t.text) return unsound(`the number ${t.text} would not keep its text as a parameter (write it as ${String(n)})`);
    return n;
  });
  let out = '';
  let at = 0;
  for (const t of replaced) {
    out += `${sql.slice(at, t.start)}?`;
    at = t.end;
  }
  return { sql: out + sql.slice(at), params };
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
      if (end < sql.length && (WORD_CHAR.test(sql[end] as string) || sql[end] === "'" || sql[end] === '"')) unsound(`cannot read the number at "${sql.slice(i, end + 1)}"`);
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
  const ast = new sqlParser.Parser().astify(sql, { database: 'athena' });
  const strings: string[] = [];
  const numbers: number[] = [];
  const astLimits: number[] = [];
  const astOrdinals: number[] = [];
  const isNumber = (v: unknown): v is Node => isNode(v) && (v.type === 'number' || v.type === 'bigint');
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (!isNode(v)) return;
    if (v.type === 'interval') unsound('an INTERVAL literal cannot be a parameter (compare "start" with Unix seconds instead)');
    if (v.type === 'single_quote_string') strings.push(String(v.value));
    if (isNumber(v)) numbers.push(Math.abs(Number(v.value)));
    for (const [key, child] of Object.entries(v)) {
      if (key === 'limit' && isNode(child) && Array.isArray(child.value)) astLimits.push(...child.value.filter(isNumber).map((n) => Number(n.value)));
      if (key === 'groupby') {
        const list = isNode(child) ? child.columns : child;
        if (Array.isArray(list)) astOrdinals.push(...list.filter(isNumber).map((n) => Number(n.value)));
      }
      if (key === 'orderby' && Array.isArray(child)) {
        astOrdinals.push(...child.map((o) => (isNode(o) ? o.expr : undefined)).filter(isNumber).map((n) => Number(n.value)));
      }
      visit(child);
    }
  };
  visit(ast);
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
