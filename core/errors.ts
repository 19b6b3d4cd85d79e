/** Typed errors of leastpath; cli/exit-codes.ts maps them to exit codes in one place. */
import type { Finding } from './findings.js';

/** Where in which file something went wrong (file relative to the repository root). */
interface Location {
  file: string;
  line?: number;
  col?: number;
  path?: string;
}

/** Base class: a failure of leastpath itself or of its input that stops the run (exit 2). */
export class LeastpathError extends Error {
  constructor(
    message: string,
    readonly where?: Location,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The command line was wrong: unknown option, bad value, missing argument (exit 2). */
export class UsageError extends LeastpathError {}

/** An input file cannot be used at all (unreadable, truncated gzip, mostly garbage); the run stops (exit 2). */
export class InputError extends LeastpathError {}

/** A call to an outside service (AWS, GitHub, a model) failed (exit 2). */
export class ServiceError extends LeastpathError {}

/** Validation found errors, so the command did not go on; the findings say where (exit 1). */
export class ValidationFailed extends LeastpathError {
  constructor(readonly findings: Finding[]) {
    super(`${findings.filter((f) => f.severity === 'error').length} validation error(s)`);
  }
}
