/** Positions that core/yaml-source.ts `locate` does not give: the key of a mapping entry rather than its value. */
import { isMap, isPair, isScalar, isSeq, type Node } from 'yaml';
import type { Finding, Severity } from '../core/findings.js';
import { formatPath, locate, type PathSegment, type YamlSource } from '../core/yaml-source.js';

/**
 * A finding at the key of the last path segment (`workloads.Web` points at `Web:`), for findings about a name
 * or an unknown key; falls back to `locate` when the key is not there.
 */
export function findingAtKey(
  src: YamlSource,
  path: readonly PathSegment[],
  rule: string,
  message: string,
  severity: Severity = 'error',
): Finding {
  const pos = locateKey(src, path) ?? locate(src, path);
  return { rule, severity, file: src.file, line: pos.line, col: pos.col, path: formatPath(path), message };
}

/** A finding at the start of the document, for things about the file as a whole (its name, its folder). */
export function findingAtFile(file: string, rule: string, message: string, severity: Severity = 'error', path = '<root>'): Finding {
  return { rule, severity, file, line: 1, col: 1, path, message };
}

function locateKey(src: YamlSource, path: readonly PathSegment[]): { line: number; col: number } | undefined {
  if (path.length === 0) return undefined;
  let node: unknown = src.doc.contents;
  for (const seg of path.slice(0, -1)) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      node = pair?.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
    } else {
      return undefined;
    }
  }
  if (!isMap(node)) return undefined;
  const last = String(path[path.length - 1]);
  const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === last);
  const range = (pair?.key as Node | undefined)?.range;
  return range ? src.lineCounter.linePos(range[0]) : undefined;
}
