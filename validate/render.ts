/** Findings rendered for each output format, in this one place. */
import { formatFinding, formatGithubAnnotation, type Finding } from '../core/findings.js';

export type ValidateFormat = 'text' | 'json' | 'github';

export interface Rendered {
  /** Written to stdout as is. */
  stdout: string;
  /** Lines for stderr. */
  stderr: string[];
}

export interface Counts {
  errors: number;
  warnings: number;
}

function countFindings(findings: readonly Finding[]): Counts {
  return {
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
  };
}

/** `findings` are sorted already; `scope` names what was checked, for the summary line. */
export function renderFindings(findings: readonly Finding[], format: ValidateFormat, scope: string): Rendered {
  const counts = countFindings(findings);
  switch (format) {
    case 'json':
      // One document and nothing else, so it can be piped into jq.
      return { stdout: `${JSON.stringify({ findings, ...counts }, null, 2)}\n`, stderr: [] };
    case 'github':
      return { stdout: findings.map((f) => `${formatGithubAnnotation(f)}\n`).join(''), stderr: [summary(counts, scope)] };
    case 'text':
      return { stdout: '', stderr: [...findings.map(formatFinding), summary(counts, scope)] };
  }
}

function summary({ errors, warnings }: Counts, scope: string): string {
  const verdict = errors > 0 ? 'invalid' : 'valid';
  return `validate: ${scope}: ${verdict}, ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
