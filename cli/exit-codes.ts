/** The one place where outcomes and typed errors become exit codes (0 done, 1 findings, 2 usage or failure). */
import { LeastpathError, UsageError, ValidationFailed } from '../core/errors.js';
import { formatFinding, sortFindings } from '../core/findings.js';

export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_FAILURE = 2;

/** Prints an error to stderr the way the contract says and returns its exit code. */
export function reportError(err: unknown, stderr: (line: string) => void): number {
  if (err instanceof ValidationFailed) {
    for (const f of sortFindings(err.findings)) stderr(formatFinding(f));
    return EXIT_FINDINGS;
  }
  if (err instanceof LeastpathError) {
    const w = err.where;
    const prefix = w ? `${w.file}:${w.line ?? 1}:${w.col ?? 1}: ${w.path ?? '<root>'}: ` : '';
    stderr(`${prefix}${err instanceof UsageError ? 'usage: ' : ''}${err.message}`);
    return EXIT_FAILURE;
  }
  const e = err as { code?: string; message?: string };
  // commander's own parse errors have already been printed by commander.
  if (typeof e?.code === 'string' && e.code.startsWith('commander.')) return EXIT_FAILURE;
  // The file system refused (permission, a folder where a file should be, a full disk): the input of the run, not
  // a fault of leastpath. Node's message names the operation and the path.
  const system = typeof e?.code === 'string' && typeof (err as { syscall?: unknown }).syscall === 'string';
  stderr(`leastpath: ${system ? 'cannot use a file or folder' : 'internal error'}: ${e?.message ?? String(err)}`);
  if (process.env.LEASTPATH_DEBUG && err instanceof Error && err.stack) stderr(err.stack);
  return EXIT_FAILURE;
}
