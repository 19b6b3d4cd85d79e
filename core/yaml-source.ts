/**
 * A YAML file read with its source positions, so every finding can name file, line and column.
 * Positions come from the parser's node ranges and a LineCounter, never from searching text.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
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

/** Parses YAML text; syntax errors become findings with the parser's own positions. */
export function parseYamlSource(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const errors: Finding[] = doc.errors.map((e) => {
    const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
    return {
      rule: 'yaml',
      severity: 'error',
      file,
      line: pos.line,
      col: pos.col,
      path: '<root>',
      message: firstLine(e.message),
    };
  });
  const data = errors.length === 0 ? doc.toJS({ maxAliasCount: 100 }) : undefined;
  return { file, doc, lineCounter, data, errors };
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
