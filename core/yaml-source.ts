/**
 * A YAML file read with its source positions, so every finding can name file, line and column.
 * Positions come from the parser's node ranges and a LineCounter, never from searching text.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { Finding } from './findings.js';
import { firstLine } from './text.js';

export type PathSegment = string | number;

export interface YamlSource {
  /** Path relative to the repository root, forward slashes. */
  file: string;
  doc: Document;
  lineCounter: LineCounter;
  /** The plain data (undefined when the document has syntax errors). */
  data: unknown;
  /** Syntax errors (duplicate keys included) as findings. */
  errors: Finding[];
}

/** The parser allows no more alias uses than this (a guard against "alias bombs", tiny files that expand hugely). */
const MAX_ALIAS_COUNT = 100;

/** Parses YAML text; syntax errors become findings with the parser's own positions. */
export function parseYamlSource(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const finding = (at: number | { line: number; col: number }, message: string): Finding => {
    const { line, col } = typeof at === 'number' ? lineCounter.linePos(at) : at;
    return { rule: 'yaml', severity: 'error', file, line, col, path: '<root>', message };
  };
  // The parser reports every document after the first; the first of them says it all.
  const errors: Finding[] = doc.errors
    .filter((e, i, all) => e.code !== 'MULTIPLE_DOCS' || all.findIndex((x) => x.code === 'MULTIPLE_DOCS') === i)
    .map((e) => {
      if (e.code !== 'MULTIPLE_DOCS') return finding(e.linePos?.[0] ?? e.pos[0], firstLine(e.message));
      const { line } = lineCounter.linePos(e.pos[0]);
      const where = text.startsWith('---', e.pos[0]) ? `at "---" on line ${line}` : `on line ${line}`;
      return finding(e.pos[0], `this file must hold one YAML document, but a second one starts ${where}`);
    });
  let data: unknown;
  if (errors.length === 0) {
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      // Building the data can fail where parsing did not: an alias bomb (tiny text, millions of values) above all.
      const message = firstLine((err as Error).message);
      errors.push(
        /excessive alias count/i.test(message)
          ? finding(
              firstAlias(doc) ?? 0,
              `the aliases expand to too many values (over the limit of ${MAX_ALIAS_COUNT} that guards against YAML ` +
                '"alias bombs"): write the values out, or use fewer aliases',
            )
          : finding(rangeStart(doc.contents) ?? 0, message),
      );
    }
  }
  return { file, doc, lineCounter, data, errors };
}

/** Offset of the document's first alias (`*name`). */
function firstAlias(doc: Document): number | undefined {
  let offset: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0];
      return visit.BREAK;
    },
  });
  return offset;
}

/** Line and column (1-based) of the deepest node of `path` that exists; the document start when none does. */
export function locate(src: YamlSource, path: readonly PathSegment[]): { line: number; col: number } {
  let node: unknown = src.doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      // A key with no value points at the key itself.
      const next = pair.value ?? pair.key;
      offset = rangeStart(next) ?? rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
      node = node.items[seg];
      offset = rangeStart(node) ?? offset;
    } else {
      break;
    }
  }
  return src.lineCounter.linePos(offset);
}

/** `egress[2].ports[0]`; `<root>` for the empty path. */
export function formatPath(path: readonly PathSegment[]): string {
  if (path.length === 0) return '<root>';
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Splits an ajv instancePath (`/egress/2/ports/0`) into path segments, numbers for array indices. */
export function pointerToPath(pointer: string, data: unknown): PathSegment[] {
  if (pointer === '') return [];
  const out: PathSegment[] = [];
  let cur: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur) && /^\d+$/.test(seg)) {
      out.push(Number(seg));
      cur = cur[Number(seg)];
    } else {
      out.push(seg);
      cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

/** Builds a finding located at `path` in `src`. */
export function findingAt(
  src: YamlSource,
  path: readonly PathSegment[],
  rule: string,
  message: string,
  severity: Finding['severity'] = 'error',
): Finding {
  const { line, col } = locate(src, path);
  return { rule, severity, file: src.file, line, col, path: formatPath(path), message };
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | undefined)?.range;
  return range ? range[0] : undefined;
}
