/**
 * The fast read of an observed file. observe writes `observed/<env>/<workload>.yaml` in one canonical form
 * (renderObservedYaml); parsing tens of thousands of entries with source positions costs seconds, and positions
 * are only needed to locate an error. So a file is first read by a small parser of a strict subset of YAML that
 * holds that form: block keys and `- ` items at fixed indents, one-line flow collections, double-quoted text
 * without escapes, and plain scalars only where their YAML type is beyond doubt (whole numbers, null, true/false,
 * and text no type of YAML's core schema claims). Inside that subset a text means what YAML means; anything else
 * (a hand edit, another layout, a duplicate key) falls back to the positional parse. The source it returns parses
 * with positions on first use of its `doc` or `lineCounter`, so an error in the file still names file:line:col.
 */
import { parseYamlSource, type YamlSource } from '../core/yaml-source.js';
import type { RawObserved } from './normalise.js';

/** Thrown inside the fast parser when the text is not of the canonical form: the caller falls back. */
class NotCanonical extends Error {}

/** The types YAML 1.2's core schema gives plain scalars other than strings; text matching one is not taken as text. */
const CORE_TYPED =
  /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
/** Text the fast parser reads as a plain string: no indicator first, nothing a flow collection or a comment claims. */
const PLAIN_TEXT = /^[A-Za-z0-9_][A-Za-z0-9_./:*+-]*$/;
const WHOLE = /^(?:0|-?[1-9][0-9]*)$/;

/** A plain scalar as YAML's core schema reads it, or NotCanonical when its type could be in doubt. */
function plain(s: string): unknown {
  if (s === 'null') return null;
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (WHOLE.test(s)) {
    const n = Number(s);
    if (!Number.isSafeInteger(n)) throw new NotCanonical();
    return n;
  }
  if (!PLAIN_TEXT.test(s) || s.endsWith(':') || CORE_TYPED.test(s)) throw new NotCanonical();
  return s;
}

/** A flow value (`{ k: v, ... }`, `[a, b]`, `"text"` or a plain scalar) starting at `i`; its end. */
function flowValue(t: string, i: number): [unknown, number] {
  const c = t[i];
  if (c === '{') {
    const out: Record<string, unknown> = {};
    i++;
    if (t.startsWith(' }', i)) return [out, i + 2];
    for (;;) {
      if (t[i] !== ' ') throw new NotCanonical();
      const colon = t.indexOf(': ', i + 1);
      if (colon < 0) throw new NotCanonical();
      const key = t.slice(i + 1, colon);
      if (!KEY.test(key) || key in out) throw new NotCanonical();
      const [v, end] = flowValue(t, colon + 2);
      out[key] = v;
      if (t.startsWith(' }', end)) return [out, end + 2];
      if (t[end] !== ',') throw new NotCanonical();
      i = end + 1;
    }
  }
  if (c === '[') {
    const out: unknown[] = [];
    i++;
    if (t[i] === ']') return [out, i + 1];
    for (;;) {
      const [v, end] = flowValue(t, i);
      out.push(v);
      if (t[end] === ']') return [out, end + 1];
      if (!t.startsWith(', ', end)) throw new NotCanonical();
      i = end + 2;
    }
  }
  if (c === '"') {
    const end = t.indexOf('"', i + 1);
    const body = t.slice(i + 1, end);
    if (end < 0 || !/^[ -!#-[\]-~]*$/.test(body)) throw new NotCanonical();
    return [body, end + 1];
  }
  // A plain scalar ends at the line's end, or before `,` / ` }` / `]` inside a flow collection; it holds no space.
  let end = i;
  for (; end < t.length; end++) {
    const ch = t.charCodeAt(end);
    if (ch === COMMA || ch === CLOSE_SEQ || ch === SPACE) break;
    if (ch === OPEN_SEQ || ch === OPEN_MAP || ch === CLOSE_MAP) throw new NotCanonical();
  }
  if (end === i) throw new NotCanonical();
  return [plain(t.slice(i, end)), end];
}

const COMMA = 0x2c;
const SPACE = 0x20;
const OPEN_SEQ = 0x5b;
const CLOSE_SEQ = 0x5d;
const OPEN_MAP = 0x7b;
const CLOSE_MAP = 0x7d;

/** A whole line's value after `key: `. */
function lineValue(t: string): unknown {
  const [v, end] = flowValue(t, 0);
  if (end !== t.length) throw new NotCanonical();
  return v;
}

/** `key: value` (or `key:` with the value below) of a line with the given indent. */
function keyed(line: string, indent: string): [string, string | undefined] {
  if (!line.startsWith(indent)) throw new NotCanonical();
  const colon = line.indexOf(':', indent.length);
  const key = line.slice(indent.length, colon);
  if (colon < 0 || !KEY.test(key)) throw new NotCanonical();
  if (colon === line.length - 1) return [key, undefined];
  if (line.charCodeAt(colon + 1) !== SPACE || colon + 2 === line.length) throw new NotCanonical();
  return [key, line.slice(colon + 2)];
}

const KEY = /^[A-Za-z]+$/;

/** The data of the canonical form's text, or NotCanonical. */
function parseCanonical(text: string): Record<string, unknown> {
  if (!text.endsWith('\n')) throw new NotCanonical();
  const lines = text.slice(0, -1).split('\n');
  if (!lines[0]!.startsWith('# ')) throw new NotCanonical();
  const out: Record<string, unknown> = {};
  let i = 1;
  while (i < lines.length) {
    const [key, value] = keyed(lines[i]!, '');
    if (key in out) throw new NotCanonical();
    i++;
    if (value !== undefined) {
      out[key] = lineValue(value);
      continue;
    }
    const items: unknown[] = [];
    while (i < lines.length && lines[i]!.startsWith('  - ')) {
      const first = lines[i]!.slice(4);
      i++;
      if (first.startsWith('{')) {
        items.push(lineValue(first));
        continue;
      }
      // A block mapping: its first pair on the `- ` line, the others indented below it.
      const item: Record<string, unknown> = {};
      const [k0, v0] = keyed(first, '');
      if (v0 === undefined) throw new NotCanonical();
      item[k0] = lineValue(v0);
      while (i < lines.length && lines[i]!.startsWith('    ')) {
        const [k, v] = keyed(lines[i]!, '    ');
        if (v === undefined || k in item) throw new NotCanonical();
        item[k] = lineValue(v);
        i++;
      }
      items.push(item);
    }
    if (items.length === 0) throw new NotCanonical();
    out[key] = items;
  }
  return out;
}

/**
 * The data of an observed file read fast (what YAML reads, unchecked: the schema check follows), or undefined
 * when the text is outside the subset this parser reads: then it must be parsed with positions.
 */
export function fastObservedData(text: string): RawObserved | undefined {
  try {
    return parseCanonical(text) as unknown as RawObserved;
  } catch (err) {
    if (err instanceof NotCanonical) return undefined;
    throw err;
  }
}

/**
 * An observed file as a YamlSource: read fast when canonical, its positions parsed only when asked for (`doc`,
 * `lineCounter`); otherwise parsed with positions at once, as every other file.
 */
export function observedSource(file: string, text: string): YamlSource {
  const data = fastObservedData(text);
  if (data === undefined) return parseYamlSource(file, text);
  let positioned: YamlSource | undefined;
  const full = () => (positioned ??= parseYamlSource(file, text));
  return {
    file,
    data,
    errors: [],
    get doc() {
      return full().doc;
    },
    get lineCounter() {
      return full().lineCounter;
    },
  };
}
