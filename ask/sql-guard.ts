/**
 * The SQL guard (the validator) of `sql check` and of every query `ask` produces: what a model's SQL may read and
 * do before it runs. Pure: text in, verdict out.
 *
 * The query is parsed with node-sql-parser (its Athena grammar) and the AST is walked here against allow-lists of
 * node kinds, operators, functions and cast types; anything not classified is refused. The library's own whitelist
 * check is not used. On top of the AST, the raw text is scanned for what a parser may silently drop or read
 * differently from the engine: comments, stacked statements, backslashes, backticks.
 *
 * The printed SQL is the input text itself (trimmed, without a trailing semicolon), so every literal stays exactly
 * as written; only the LIMIT is appended, or its number replaced in place when above the maximum.
 *
 * Partition filter, precisely: every SELECT that names the flow-log table in its FROM must have, for each such
 * table reference, a top-level AND term of its WHERE that bounds the partition column with literals:
 * `day op 'lit'` (op one of = < <= > >=, either side), `day BETWEEN 'a' AND 'b'`, `day IN ('a', ...)`, or an OR
 * of such terms. The column is that reference's (qualified by its alias or name, or unqualified when the SELECT
 * reads the table once; `"day"` quoted as well). A SELECT reading only CTEs or subqueries needs none: the SELECT
 * that reads the table does. Each literal is a calendar day, and a lower bound none before policy.earliestDay.
 *
 * Depth: AND / OR chains, as long as they come, are walked with a stack; input nested deeper than the parser can
 * recurse (thousands of parentheses) is refused with TOO_DEEP rather than crashing.
 */
import sqlParser from 'node-sql-parser/build/athena.js';

export interface SqlPolicy {
  /** The flow-log table, as queries name it. */
  table: string;
  /** Its columns, the partition column included. */
  columns: readonly string[];
  partitionColumn: string;
  /** LIMIT added when missing, and the highest one kept. */
  maxLimit: number;
  /**
   * The earliest day (YYYY/MM/DD) a lower bound of the partition column may name: today less the environment's
   * window.retainDays. Undefined (sql check without --env): any real calendar day.
   */
  earliestDay?: string | undefined;
  /** Which logs the table holds: VPC flow logs (default) or Route 53 Resolver query logs (`--logs dns`). */
  logs?: 'flow' | 'dns';
}

type SqlCheck = { ok: true; sql: string; limit: number } | { ok: false; reason: string };

type Node = Record<string, unknown>;

class Refusal extends Error {}

const refuse = (reason: string): never => {
  throw new Refusal(reason);
};

const BINARY_OPERATORS = new Set([
  '=',
  '<>',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '||',
  'AND',
  'OR',
  'LIKE',
  'NOT LIKE',
  'IN',
  'NOT IN',
  'BETWEEN',
  'NOT BETWEEN',
  'IS',
  'IS NOT',
]);
/** EXTRACT fields that Athena and DuckDB read alike (DOW and DOY number days differently in the two). */
const EXTRACT_FIELDS = new Set(['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second']);
const UNARY_OPERATORS = new Set(['-', '+', 'NOT']);

/** Aggregates (aggr_func nodes). */
const AGGREGATES = new Set(['count', 'sum', 'min', 'max', 'avg']);

/** Scalar and window functions: strings, numbers, dates, conditionals. Nothing that reads files or the network. */
const FUNCTIONS = new Set([
  'not',
  'exists',
  'coalesce',
  'nullif',
  'greatest',
  'least',
  'lower',
  'upper',
  'substr',
  'substring',
  'length',
  'concat',
  'trim',
  'replace',
  'starts_with',
  'strpos',
  'split_part',
  'abs',
  'round',
  'floor',
  'ceil',
  'ceiling',
  'current_date',
  'date_trunc',
  'from_unixtime',
  'to_unixtime',
  'date_format',
  'row_number',
  'rank',
  'dense_rank',
  'approx_distinct',
]);

/** The functions a query may call, as the prompt of `ask` lists them (NOT and EXISTS read as operators). */
export const ALLOWED_FUNCTIONS: readonly string[] = [...AGGREGATES, ...FUNCTIONS].filter((f) => f !== 'not' && f !== 'exists');

const CAST_TYPES = new Set(['VARCHAR', 'INTEGER', 'INT', 'BIGINT', 'DOUBLE', 'REAL', 'BOOLEAN', 'DATE', 'TIMESTAMP', 'DECIMAL']);
const INTERVAL_UNITS = new Set(['second', 'minute', 'hour', 'day', 'month', 'year']);
const SET_OPERATORS = new Set(['union', 'union all', 'unionall', 'intersect', 'except']);
const JOIN = /^(?:(?:INNER|CROSS|(?:LEFT|RIGHT|FULL)(?: OUTER)?) )?JOIN$/;
const SYSTEM_SCHEMAS = new Set(['information_schema', 'pg_catalog', 'system', 'sys', 'main', 'temp']);
const SYSTEM_TABLE = /^(?:duckdb_|pg_|sqlite_|information_schema)/;

/** Keys of a SELECT node that the walker understands; any other key must be empty. */
const SELECT_KEYS = new Set([
  'with',
  'type',
  'options',
  'distinct',
  'columns',
  'from',
  'where',
  'groupby',
  'having',
  'orderby',
  'limit',
  '_next',
  'set_op',
  'loc',
  'parentheses',
  '_parentheses',
]);
const FROM_KEYS = new Set(['db', 'table', 'as', 'join', 'on', 'expr', 'loc']);

/** Checks one query against the policy: `{ ok, sql, limit }` to run, or the one-line reason it is refused. */
export function checkSql(sql: string, policy: SqlPolicy): SqlCheck {
  try {
    return { ok: true, ...check(sql, policy) };
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, reason: err.message };
    if (isStackOverflow(err)) return { ok: false, reason: TOO_DEEP };
    throw err;
  }
}

/** Why a query nested deeper than the parser can follow is refused (AND / OR chains of any length are walked). */
export const TOO_DEEP = 'the query nests parentheses, functions or subqueries too deeply to check: flatten it';

/** V8's "Maximum call stack size exceeded": the parser recursed on input nested thousands deep. */
export function isStackOverflow(err: unknown): boolean {
  return err instanceof RangeError && /call stack/i.test(err.message);
}

/**
 * The text as node-sql-parser is given it: its Athena grammar has no `IS [NOT] DISTINCT FROM`, so each becomes
 * `<>` (`=`) padded to the same length, an operator of the same precedence over the same operands; positions in
 * parse errors stay those of the input. The engine gets the input text.
 */
export function forParser(text: string): string {
  let out = '';
  let at = 0;
  for (const [start, end] of unquotedSpans(text)) {
    out += text.slice(at, start);
    out += text.slice(start, end).replace(/\bIS(\s+NOT)?\s+DISTINCT\s+FROM\b/gi, (m: string, not: string | undefined) => {
      const op = not ? '=' : '<>';
      return op + m.slice(op.length).replace(/[^\n]/g, ' ');
    });
    at = end;
  }
  return out + text.slice(at);
}

/** The [start, end) ranges of `text` outside string literals and quoted identifiers. */
function unquotedSpans(text: string): [number, number][] {
  const spans: [number, number][] = [];
  let from = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === quote) {
        if (text[i + 1] === quote) i++;
        else {
          quote = undefined;
          from = i + 1;
        }
      }
    } else if (c === "'" || c === '"') {
      spans.push([from, i]);
      quote = c;
    }
  }
  if (quote === undefined) spans.push([from, text.length]);
  return spans;
}

function check(input: string, policy: SqlPolicy): { sql: string; limit: number } {
  const body = scanText(input.trim());
  if (body === '') refuse('empty query');
  const ast = parse(body);
  const walker = new Walker(policy);
  walker.query(ast, new Map(), undefined);
  walker.assertAllClassified(ast);
  return applyLimit(body, lastBranch(ast).limit, policy.maxLimit);
}

/**
 * Lexical checks outside string literals and quoted identifiers, which the parser may drop or read differently
 * from the engine. Returns the text without its one trailing semicolon.
 */
function scanText(text: string): string {
  let quote: string | undefined;
  let end = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\') refuse('backslash in the query');
    if (c === '\0') refuse('NUL character in the query');
    if (quote !== undefined) {
      if (c === quote) {
        if (text[i + 1] === quote) i++;
        else quote = undefined;
      }
      continue;
    }
    const two = text.slice(i, i + 2);
    if (c === "'" || c === '"') quote = c;
    else if (two === '--' || two === '/*' || two === '*/' || c === '#') refuse('comments are not allowed');
    else if (c === '`') refuse('backtick quoting is not allowed (use double quotes)');
    else if (c === '$' || c === '{' || c === '}') refuse(`character "${c}" is not allowed outside a string`);
    else if (c === ';') {
      if (text.slice(i + 1).trim() !== '') refuse('more than one statement');
      end = i;
      break;
    }
  }
  if (quote !== undefined) refuse(quote === "'" ? 'unterminated string literal' : 'unterminated quoted identifier');
  return text.slice(0, end).trimEnd();
}

function parse(text: string): Node {
  let ast: unknown;
  try {
    ast = new sqlParser.Parser().astify(forParser(text), { database: 'athena' });
  } catch (err) {
    if (isStackOverflow(err)) refuse(TOO_DEEP);
    const at = (err as { location?: { start?: { line?: number; column?: number } } }).location?.start;
    refuse(`cannot parse the query${at?.line !== undefined ? ` (line ${at.line}, column ${at.column})` : ''}`);
  }
  const statements = Array.isArray(ast) ? ast : [ast];
  if (statements.length !== 1) refuse('more than one statement');
  const stmt = statements[0] as Node | undefined;
  if (!isNode(stmt)) return refuse('cannot parse the query');
  if (stmt.type !== 'select') refuse(`only SELECT is allowed, not ${String(stmt.type).toUpperCase()}`);
  return stmt;
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether a value holds nothing (null, false, [], or objects of such). A loop, not recursion: WHERE can be deep. */
function isEmpty(value: unknown): boolean {
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || v === undefined || v === false) continue;
    if (Array.isArray(v)) {
      if (v.length > 0) return false;
    } else if (isNode(v)) stack.push(...Object.values(v));
    else return false;
  }
  return true;
}

function lastBranch(select: Node): Node {
  let s = select;
  while (isNode(s._next)) s = s._next;
  return s;
}

/** A name as the parser gives it: a string, or `{ type, value }`. Lower-cased (Athena names are case-insensitive). */
function nameOf(v: unknown): string {
  if (typeof v === 'string') return v.toLowerCase();
  if (isNode(v) && typeof v.value === 'string') return v.value.toLowerCase();
  return refuse('cannot classify a name in the query');
}

/** A relation in scope: its name (alias, or the table or CTE name) and its columns. */
interface Source {
  name: string;
  columns: ReadonlySet<string>;
  /** The flow-log table itself (not a CTE or subquery). */
  isTable: boolean;
}

interface Scope {
  sources: Source[];
  /** Output names of the SELECT, usable in GROUP BY, HAVING and ORDER BY. */
  aliases: Set<string>;
  parent: Scope | undefined;
  ctes: ReadonlyMap<string, ReadonlySet<string>>;
}

class Walker {
  private readonly seen = new Set<Node>();
  private readonly columns: ReadonlySet<string>;
  private readonly table: string;

  constructor(private readonly policy: SqlPolicy) {
    this.table = policy.table.toLowerCase();
    this.columns = new Set([...policy.columns, policy.partitionColumn].map((c) => c.toLowerCase()));
  }

  /** Every node with a `type` must have been classified by the walk: a safety net under the allow-lists. */
  assertAllClassified(root: unknown): void {
    const stack = [root];
    while (stack.length > 0) {
      const v = stack.pop();
      if (Array.isArray(v)) stack.push(...(v as unknown[]));
      else if (isNode(v)) {
        if (typeof v.type === 'string' && !this.seen.has(v)) refuse(`unsupported construct: ${v.type}`);
        for (const [k, c] of Object.entries(v)) if (k !== 'loc') stack.push(c);
      }
    }
  }

  private see(node: Node): Node {
    this.seen.add(node);
    return node;
  }

  /** A query: optional WITH, then one SELECT or several joined by set operators. Returns its output columns. */
  query(select: Node, outerCtes: ReadonlyMap<string, ReadonlySet<string>>, parent: Scope | undefined): ReadonlySet<string> {
    const ctes = new Map(outerCtes);
    if (!isEmpty(select.with)) {
      if (!Array.isArray(select.with)) refuse('cannot classify the WITH clause');
      for (const cte of select.with as unknown[]) {
        if (!isNode(cte) || !isNode(cte.stmt) || !isNode(cte.stmt.ast)) return refuse('cannot classify a CTE');
        if (!isEmpty(cte.recursive)) refuse('recursive CTEs are not allowed');
        const name = nameOf(cte.name);
        if (isNode(cte.name)) this.see(cte.name);
        if (name === this.table) refuse(`CTE "${name}" shadows the table ${this.policy.table}`);
        if (ctes.has(name)) refuse(`CTE "${name}" is defined twice`);
        let columns = this.query(cte.stmt.ast, ctes, undefined);
        if (!isEmpty(cte.columns)) {
          if (!Array.isArray(cte.columns)) refuse('cannot classify a CTE column list');
          columns = new Set(
            (cte.columns as unknown[]).map((c) => {
              if (isNode(c)) this.see(c);
              return nameOf(c);
            }),
          );
        }
        ctes.set(name, columns);
      }
    }
    let output: ReadonlySet<string> | undefined;
    for (let s: Node | undefined = select; s !== undefined; s = isNode(s._next) ? s._next : undefined) {
      if (s !== select && !isEmpty(s.with)) refuse('WITH inside a set operation');
      if (!isEmpty(s.set_op) && !SET_OPERATORS.has(String(s.set_op).toLowerCase()))
        refuse(`set operator ${String(s.set_op)} is not allowed`);
      if (s.type !== 'select') refuse(`only SELECT is allowed, not ${String(s.type).toUpperCase()}`);
      const columns = this.select(s, ctes, parent);
      output ??= columns;
    }
    return output ?? new Set();
  }

  private select(s: Node, ctes: ReadonlyMap<string, ReadonlySet<string>>, parent: Scope | undefined): ReadonlySet<string> {
    this.see(s);
    for (const [key, value] of Object.entries(s)) {
      if (!SELECT_KEYS.has(key) && !isEmpty(value)) refuse(`unsupported clause: ${key.toUpperCase()}`);
    }
    if (!isEmpty(s.options)) refuse('SELECT options are not allowed');
    if (
      !isEmpty(s.distinct) &&
      !(s.distinct === 'DISTINCT' || (isNode(s.distinct) && s.distinct.type === 'DISTINCT' && this.see(s.distinct)))
    ) {
      refuse('cannot classify DISTINCT');
    }
    if (!Array.isArray(s.from) || s.from.length === 0) refuse(`a SELECT must read from ${this.policy.table}`);
    const scope: Scope = { sources: [], aliases: new Set(), parent, ctes };
    const joins: Node[] = [];
    for (const item of s.from as unknown[]) {
      if (!isNode(item)) return refuse('cannot classify a FROM item');
      for (const [key, value] of Object.entries(item)) {
        if (!FROM_KEYS.has(key) && !isEmpty(value)) refuse(`unsupported FROM clause: ${key.toUpperCase()}`);
      }
      if (!isEmpty(item.join)) {
        if (typeof item.join !== 'string' || !JOIN.test(item.join)) refuse(`join ${String(item.join)} is not allowed`);
        joins.push(item);
      }
      const source = this.fromItem(item, scope);
      if (scope.sources.some((o) => o.name === source.name)) refuse(`"${source.name}" appears twice in FROM: give each an alias`);
      scope.sources.push(source);
    }
    for (const j of joins) if (!isEmpty(j.on)) this.expr(j.on, scope, false);

    const columns = new Set<string>();
    if (!Array.isArray(s.columns)) refuse('cannot classify the select list');
    for (const item of s.columns as unknown[]) {
      if (!isNode(item) || !isNode(item.expr)) return refuse('cannot classify the select list');
      this.see(item);
      const e = item.expr;
      if (e.type === 'column_ref' && e.column === '*') {
        this.see(e);
        const from = e.table === null || e.table === undefined ? scope.sources : [this.source(scope, nameOf(e.table))];
        for (const src of from) src.columns.forEach((c) => columns.add(c));
      } else {
        this.expr(e, scope, false);
        if (e.type === 'column_ref' && typeof e.column === 'string') columns.add(e.column.toLowerCase());
        if (e.type === 'double_quote_string' && typeof e.value === 'string') columns.add(e.value.toLowerCase());
      }
      if (!isEmpty(item.as)) {
        const alias = nameOf(item.as);
        columns.add(alias);
        scope.aliases.add(alias);
      }
    }

    if (!isEmpty(s.where)) this.expr(s.where, scope, false);
    for (const src of scope.sources.filter((x) => x.isTable)) {
      if (!this.hasPartitionFilter(s.where, src, scope)) {
        refuse(
          `no filter on the partition column "${this.policy.partitionColumn}" of ${this.policy.table} (e.g. WHERE ${this.policy.partitionColumn} >= '2026/01/01')`,
        );
      }
    }
    if (!isEmpty(s.groupby)) {
      const g = s.groupby;
      const list = isNode(g) ? g.columns : g;
      if (!Array.isArray(list)) refuse('cannot classify GROUP BY');
      if (isNode(g))
        for (const [k, v] of Object.entries(g)) if (k !== 'columns' && !isEmpty(v)) refuse(`unsupported GROUP BY modifier: ${k}`);
      for (const e of list as unknown[]) this.expr(e, scope, true);
    }
    if (!isEmpty(s.having)) this.expr(s.having, scope, true);
    if (!isEmpty(s.orderby)) this.orderBy(s.orderby, scope);
    if (!isEmpty(s.limit)) {
      limitOf(s.limit);
      for (const v of (s.limit as Node).value as Node[]) this.see(v);
    }
    return columns;
  }

  private fromItem(item: Node, scope: Scope): Source {
    this.see(item);
    const alias = isEmpty(item.as) ? undefined : nameOf(item.as);
    if (isNode(item.expr)) {
      const e = item.expr;
      if (e.type === 'tables') refuse('parenthesised table lists are not allowed');
      if (!isNode(e.ast)) return refuse('FROM may name only the table, its CTEs or subqueries');
      const columns = this.query(e.ast, scope.ctes, undefined);
      return { name: alias ?? '', columns, isTable: false };
    }
    if (typeof item.table !== 'string') return refuse('FROM may name only the table, its CTEs or subqueries');
    const table = item.table.toLowerCase();
    if (!isEmpty(item.db)) {
      const db = nameOf(item.db);
      if (SYSTEM_SCHEMAS.has(db) || SYSTEM_TABLE.test(table)) refuse(`system table "${db}.${table}" is not allowed`);
      refuse(`qualified name "${db}.${table}" is not allowed: name the table as ${this.policy.table}`);
    }
    const name = alias ?? table;
    if (table === this.table) return { name, columns: this.columns, isTable: true };
    const cte = scope.ctes.get(table);
    if (cte) return { name, columns: cte, isTable: false };
    if (SYSTEM_TABLE.test(table)) refuse(`system table "${table}" is not allowed`);
    return refuse(`table "${table}" is not allowed: only ${this.policy.table} and the query's own CTEs`);
  }

  private source(scope: Scope, name: string): Source {
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      const found = s.sources.find((x) => x.name === name);
      if (found) return found;
    }
    return refuse(`"${name}" is not a table or alias of the query`);
  }

  private column(name: string, qualifier: string | undefined, scope: Scope, aliasesAllowed: boolean): void {
    if (qualifier !== undefined) {
      const src = this.source(scope, qualifier);
      if (!src.columns.has(name)) refuse(`column "${name}" is not in ${src.isTable ? this.policy.table : `"${src.name}"`}`);
      return;
    }
    if (aliasesAllowed && scope.aliases.has(name)) return;
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      if (s.sources.some((x) => x.columns.has(name))) return;
    }
    const names = scope.sources.map((x) => (x.isTable ? this.policy.table : `"${x.name}"`));
    refuse(`column "${name}" is not in ${[...new Set(names)].join(', ')}`);
  }

  private orderBy(list: unknown, scope: Scope): void {
    if (!Array.isArray(list)) refuse('cannot classify ORDER BY');
    for (const o of list as unknown[]) {
      if (!isNode(o)) return refuse('cannot classify ORDER BY');
      this.see(o);
      if (!isEmpty(o.nulls) && !/^NULLS (FIRST|LAST)$/i.test(String(o.nulls))) refuse('cannot classify ORDER BY');
      this.expr(o.expr, scope, true);
    }
  }

  private expr(v: unknown, scope: Scope, aliasesAllowed: boolean): void {
    if (!isNode(v)) return refuse('cannot classify an expression');
    // A subquery: { tableList, columnList, ast }.
    if (isNode(v.ast) && v.type === undefined) {
      this.query(v.ast, scope.ctes, scope);
      return;
    }
    this.see(v);
    const walk = (e: unknown): void => this.expr(e, scope, aliasesAllowed);
    switch (v.type) {
      case 'number':
      case 'bigint':
      case 'single_quote_string':
      case 'bool':
      case 'null':
      case 'star':
        return;
      case 'column_ref': {
        if (!isEmpty(v.db) || !isEmpty(v.schema) || !isEmpty(v.collate)) refuse('qualified or collated column references are not allowed');
        if (typeof v.column !== 'string') return refuse('cannot classify a column reference');
        if (v.column === '*') refuse('* is allowed only in the select list and COUNT(*)');
        return this.column(v.column.toLowerCase(), isEmpty(v.table) ? undefined : nameOf(v.table), scope, aliasesAllowed);
      }
      case 'double_quote_string':
        // A quoted identifier for the engine (Athena, DuckDB), not a string.
        return this.column(nameOf(v.value), undefined, scope, aliasesAllowed);
      case 'binary_expr': {
        // A chain of 2,000 AND / OR terms is a tree 2,000 deep: its operators are walked with a stack, not recursion.
        const stack: unknown[] = [v];
        while (stack.length > 0) {
          const e = stack.pop();
          if (isNode(e) && e.type === 'binary_expr') {
            this.see(e);
            const op = String(e.operator).toUpperCase();
            if (!BINARY_OPERATORS.has(op)) refuse(`operator ${String(e.operator)} is not allowed`);
            stack.push(e.right, e.left);
          } else walk(e);
        }
        return;
      }
      case 'unary_expr':
        if (!UNARY_OPERATORS.has(String(v.operator).toUpperCase())) refuse(`operator ${String(v.operator)} is not allowed`);
        return walk(v.expr);
      case 'expr_list':
        if (!Array.isArray(v.value)) refuse('cannot classify a list');
        (v.value as unknown[]).forEach(walk);
        return;
      case 'function': {
        const parts = isNode(v.name) ? v.name.name : undefined;
        const qualified = isNode(v.name) && Object.entries(v.name).some(([k, x]) => k !== 'name' && !isEmpty(x));
        if (qualified || !Array.isArray(parts) || parts.length !== 1 || !isNode(parts[0]))
          refuse('qualified function names are not allowed');
        const part = (parts as Node[])[0] as Node;
        this.see(part);
        const name = nameOf(part);
        if (!FUNCTIONS.has(name)) refuse(`function ${name} is not allowed`);
        if (!isEmpty(v.args)) walk(v.args);
        if (!isEmpty(v.over)) this.window(v.over, scope);
        return;
      }
      case 'aggr_func': {
        const name = String(v.name).toLowerCase();
        if (!AGGREGATES.has(name)) refuse(`function ${name} is not allowed`);
        const args = v.args;
        if (!isNode(args)) return refuse('cannot classify an aggregate');
        for (const [k, a] of Object.entries(args)) {
          if (k === 'expr') walk(a);
          else if (k === 'orderby') {
            if (!isEmpty(a)) this.orderBy(a, scope);
          } else if (k === 'distinct') {
            if (!isEmpty(a) && a !== 'DISTINCT') refuse('cannot classify an aggregate');
          } else if (!isEmpty(a)) refuse(`unsupported aggregate option: ${k}`);
        }
        if (!isEmpty(v.over)) this.window(v.over, scope);
        return;
      }
      case 'case':
        if (!isEmpty(v.expr)) walk(v.expr);
        if (!Array.isArray(v.args)) refuse('cannot classify CASE');
        for (const arm of v.args as unknown[]) {
          if (!isNode(arm) || (arm.type !== 'when' && arm.type !== 'else')) return refuse('cannot classify CASE');
          this.see(arm);
          if (arm.type === 'when') walk(arm.cond);
          walk(arm.result);
        }
        return;
      case 'cast': {
        if (v.keyword !== 'cast' && v.keyword !== 'try_cast') refuse('cannot classify a cast');
        walk(v.expr);
        const targets = Array.isArray(v.target) ? (v.target as unknown[]) : [v.target];
        for (const t of targets) {
          const type = isNode(t) ? String(t.dataType).toUpperCase() : '';
          if (!CAST_TYPES.has(type)) refuse(`cast to ${type || 'an unknown type'} is not allowed`);
        }
        return;
      }
      case 'interval': {
        if (!INTERVAL_UNITS.has(String(v.unit).toLowerCase())) refuse(`interval unit ${String(v.unit)} is not allowed`);
        // Athena takes the count as a quoted whole number only; ask passes it as a parameter (ask/params.ts).
        const count = v.expr;
        if (!isNode(count) || count.type !== 'single_quote_string' || typeof count.value !== 'string' || !/^\d{1,9}$/.test(count.value)) {
          refuse("an INTERVAL takes a quoted whole number, as in INTERVAL '7' DAY");
        }
        return walk(count);
      }
      case 'timestamp':
      case 'date':
        // TIMESTAMP '2026-11-20 00:00:00' / DATE '2026-11-20': a typed string literal (ask passes it as CAST(? AS ...)).
        if (typeof v.value !== 'string') refuse(`cannot classify a ${v.type} literal`);
        return;
      case 'extract': {
        const args = v.args;
        if (!isNode(args) || !isEmpty(args.cast_type)) return refuse('cannot classify EXTRACT');
        const field = String(args.field).toLowerCase();
        if (!EXTRACT_FIELDS.has(field))
          refuse(
            `EXTRACT(${String(args.field).toUpperCase()} ...) is not allowed: use one of ${[...EXTRACT_FIELDS].join(', ').toUpperCase()}`,
          );
        return walk(args.source);
      }
      default:
        return refuse(`unsupported expression: ${String(v.type)}`);
    }
  }

  private window(over: unknown, scope: Scope): void {
    const spec =
      isNode(over) && over.type === 'window' && isNode(over.as_window_specification)
        ? over.as_window_specification.window_specification
        : undefined;
    if (!isNode(spec)) return refuse('named windows are not allowed');
    this.see(over as Node);
    if (!isEmpty(spec.name) || !isEmpty(spec.window_frame_clause)) refuse('window frames and named windows are not allowed');
    if (!isEmpty(spec.partitionby)) {
      if (!Array.isArray(spec.partitionby)) refuse('cannot classify PARTITION BY');
      for (const p of spec.partitionby as unknown[]) {
        if (!isNode(p)) return refuse('cannot classify PARTITION BY');
        this.see(p);
        this.expr(p.expr, scope, false);
      }
    }
    if (!isEmpty(spec.orderby)) this.orderBy(spec.orderby, scope);
  }

  /**
   * Whether `where` bounds the partition column of `src` in one of its top-level AND terms (see the header).
   * Refuses a bound whose lower day is no calendar day or lies before the retention (policy.earliestDay).
   */
  private hasPartitionFilter(where: unknown, src: Source, scope: Scope): boolean {
    const tables = scope.sources.filter((x) => x.isTable).length;
    const partition = this.policy.partitionColumn.toLowerCase();
    // `day` or `"day"` (a quoted identifier, unqualified) or `f.day` / `f."day"`.
    const isDay = (e: unknown): boolean =>
      isNode(e) &&
      ((e.type === 'column_ref' &&
        typeof e.column === 'string' &&
        e.column.toLowerCase() === partition &&
        (isEmpty(e.table) ? tables === 1 : nameOf(e.table) === src.name)) ||
        (e.type === 'double_quote_string' && typeof e.value === 'string' && e.value.toLowerCase() === partition && tables === 1));
    // A bound is a day as the partition writes it ('2026/11/21'), a real one: '' or '0000/00/00' would pass every
    // partition. And it must bound from below (=, >, >=, BETWEEN, IN): day < '2026/11/21' alone still scans all the
    // history before it; a lower bound before the retention scans days the environment does not keep.
    let problem: string | undefined;
    const day = (e: unknown, lower: boolean): boolean => {
      if (!isNode(e) || e.type !== 'single_quote_string' || typeof e.value !== 'string' || !PARTITION_DAY.test(e.value)) return false;
      const col = this.policy.partitionColumn;
      if (!isCalendarDay(e.value)) {
        problem ??= `'${e.value}' is not a calendar day: bound ${col} from below with a real day (e.g. WHERE ${col} >= '${this.policy.earliestDay ?? '2026/01/01'}')`;
        return false;
      }
      const earliest = this.policy.earliestDay;
      if (lower && earliest !== undefined && e.value < earliest) {
        problem ??= `the lower bound '${e.value}' of ${col} lies before ${earliest}, the first day the environment retains (window.retainDays): bound ${col} from ${earliest} on`;
        return false;
      }
      return true;
    };
    const bounds = (e: unknown): boolean => {
      if (!isNode(e) || e.type !== 'binary_expr') return false;
      const op = String(e.operator).toUpperCase();
      if (op === 'OR') return operands(e, 'OR').every(bounds);
      if (['=', '>', '>='].includes(op) && isDay(e.left)) return day(e.right, true);
      if (['=', '<', '<='].includes(op) && isDay(e.right)) return day(e.left, true);
      if ((op === 'BETWEEN' || op === 'IN') && isDay(e.left)) {
        const list = isNode(e.right) && e.right.type === 'expr_list' && Array.isArray(e.right.value) ? (e.right.value as unknown[]) : [];
        // BETWEEN low AND high: only low bounds from below; every value of IN does.
        return list.length > 0 && list.map((x, i) => day(x, op === 'IN' || i === 0)).every(Boolean);
      }
      return false;
    };
    if (operands(where, 'AND').some(bounds)) return true;
    if (problem !== undefined) refuse(problem);
    return false;
  }
}

/** The operands of a chain of one operator (`a AND b AND c`), in order; in a loop: 2,000 terms are a tree as deep. */
function operands(e: unknown, operator: 'AND' | 'OR'): unknown[] {
  const out: unknown[] = [];
  const stack = [e];
  while (stack.length > 0) {
    const x = stack.pop();
    if (isNode(x) && x.type === 'binary_expr' && String(x.operator).toUpperCase() === operator) stack.push(x.right, x.left);
    else out.push(x);
  }
  return out;
}

/** A day of the partition column, as the flow-log table writes it. */
const PARTITION_DAY = /^\d{4}\/\d{2}\/\d{2}$/;

/** Whether a YYYY/MM/DD text names a day of the calendar (not 0000/00/00 nor 2026/02/30). */
function isCalendarDay(text: string): boolean {
  const [y, m, d] = text.split('/').map(Number) as [number, number, number];
  if (y < 1) return false;
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** The LIMIT of a SELECT: `LIMIT n` or `LIMIT n OFFSET m`, as numbers. */
function limitOf(limit: unknown): { count: number; offset?: number } | undefined {
  if (isEmpty(limit)) return undefined;
  if (!isNode(limit) || !Array.isArray(limit.value)) return refuse('cannot classify LIMIT');
  const values = (limit.value as unknown[]).map((v) => {
    if (!isNode(v) || v.type !== 'number' || typeof v.value !== 'number' || !Number.isSafeInteger(v.value) || v.value < 0)
      return refuse('LIMIT and OFFSET must be whole numbers');
    return v.value;
  });
  if (limit.seperator === '' && values.length === 1) return { count: values[0] as number };
  if (limit.seperator === 'offset' && values.length === 2) return { count: values[0] as number, offset: values[1] as number };
  return refuse('only LIMIT n or LIMIT n OFFSET m is allowed');
}

const LIMIT_TAIL = /\bLIMIT\s+(\d+)(?:\s+OFFSET\s+(\d+))?$/i;

/**
 * Adds `LIMIT max` when the outermost query has none, or lowers its number in place when above max. The LIMIT is
 * found at the end of the text and must agree with the AST, so a LIMIT inside a subquery is never taken for it.
 */
function applyLimit(body: string, astLimit: unknown, max: number): { sql: string; limit: number } {
  const fromAst = limitOf(astLimit);
  const tail = LIMIT_TAIL.exec(body);
  const agrees =
    fromAst !== undefined &&
    tail !== null &&
    Number(tail[1]) === fromAst.count &&
    (tail[2] === undefined ? fromAst.offset === undefined : Number(tail[2]) === fromAst.offset);
  if (fromAst === undefined && tail === null) return { sql: `${body} LIMIT ${max}`, limit: max };
  if (!agrees || tail === null || fromAst === undefined) return refuse('cannot locate the LIMIT of the outermost query');
  if (fromAst.count <= max) return { sql: body, limit: fromAst.count };
  const start = tail.index + tail[0].indexOf(tail[1] as string, 5);
  return { sql: `${body.slice(0, start)}${max}${body.slice(start + (tail[1] as string).length)}`, limit: max };
}
