/** A finding is a value; each output format renders a list of them in one place. */
import { compareText } from './text.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  /** Rule id: the file name of the rule under validate/rules/, or `schema` / `yaml`. */
  rule: string;
  severity: Severity;
  /** File relative to the repository root, with forward slashes. */
  file: string;
  line: number;
  col: number;
  /** Dotted path inside the document, e.g. `egress[2].ports[0]`; `<root>` for the document itself. */
  path: string;
  message: string;
}

const order: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Sorts findings by file, position, then rule, so every run prints them in one order. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      compareText(a.file, b.file) ||
      a.line - b.line ||
      a.col - b.col ||
      order[a.severity] - order[b.severity] ||
      compareText(a.rule, b.rule) ||
      compareText(a.path, b.path) ||
      compareText(a.message, b.message),
  );
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}

/** `file:line:col: path: message`, the contract's text form; warnings say so before the message. */
export function formatFinding(f: Finding): string {
  const level = f.severity === 'error' ? '' : `${f.severity}: `;
  return `${f.file}:${f.line}:${f.col}: ${f.path}: ${level}${f.message}`;
}

/** A GitHub Actions workflow command, so findings show inline on the pull request. */
export function formatGithubAnnotation(f: Finding): string {
  const kind = f.severity === 'error' ? 'error' : f.severity === 'warning' ? 'warning' : 'notice';
  const esc = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const prop = (s: string) => esc(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
  return `::${kind} file=${prop(f.file)},line=${f.line},col=${f.col},title=${prop(f.rule)}::${esc(`${f.path}: ${f.message}`)}`;
}
