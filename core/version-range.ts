/**
 * Terraform version constraints (`>= 5.100, < 7.0`, `~> 6.29`), reduced to the interval of versions they admit,
 * so validate can tell whether an environment's AWS provider range admits versions the stack cannot use.
 * https://developer.hashicorp.com/terraform/language/expressions/version-constraints
 */

/** A version as [major, minor, patch]; missing parts are 0. Pre-releases are compared by their numbers only. */
export type Version = readonly [number, number, number];

/** One end of the admitted interval; `inclusive` says whether the version itself is admitted. */
export interface Bound {
  version: Version;
  inclusive: boolean;
}

/** The versions a constraint admits: from `lower` (none: from 0) to `upper` (none: no end); `!=` is ignored. */
export interface VersionInterval {
  lower?: Bound;
  upper?: Bound;
}

const TERM = /^\s*(=|!=|>=|<=|>|<|~>)?\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-[0-9A-Za-z.-]+)?\s*$/;

export function compareVersion(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** The interval `constraint` admits, or `undefined` when it is not a constraint Terraform reads. */
export function parseVersionRange(constraint: string): VersionInterval | undefined {
  const out: VersionInterval = {};
  for (const term of constraint.split(',')) {
    const m = TERM.exec(term);
    if (!m) return undefined;
    const op = m[1] ?? '=';
    const parts = [m[2], m[3], m[4]].filter((p) => p !== undefined).map(Number);
    const v: Version = [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0];
    switch (op) {
      case '=':
        raiseLower(out, { version: v, inclusive: true });
        lowerUpper(out, { version: v, inclusive: true });
        break;
      case '>=':
      case '>':
        raiseLower(out, { version: v, inclusive: op === '>=' });
        break;
      case '<=':
      case '<':
        lowerUpper(out, { version: v, inclusive: op === '<=' });
        break;
      case '~>': {
        // The rightmost part given may grow: ~> 6.29 is >= 6.29, < 7.0; ~> 6.29.1 is >= 6.29.1, < 6.30.0; ~> 6
        // (one part, nothing held fixed) is >= 6 with no end, as Terraform's go-version reads it.
        raiseLower(out, { version: v, inclusive: true });
        if (parts.length === 1) break;
        const end: Version = parts.length >= 3 ? [v[0], v[1] + 1, 0] : [v[0] + 1, 0, 0];
        lowerUpper(out, { version: end, inclusive: false });
        break;
      }
      // `!=` takes one version out and moves no end.
    }
  }
  return out;
}

/** True when no version lies in the interval. */
export function isEmpty(r: VersionInterval): boolean {
  if (!r.lower || !r.upper) return false;
  const c = compareVersion(r.lower.version, r.upper.version);
  return c > 0 || (c === 0 && !(r.lower.inclusive && r.upper.inclusive));
}

/** True when the interval admits some version before `v`. */
export function admitsBelow(r: VersionInterval, v: Version): boolean {
  if (isEmpty(r)) return false;
  return !r.lower || compareVersion(r.lower.version, v) < 0;
}

/** True when the interval admits `v` or some later version. */
export function admitsFrom(r: VersionInterval, v: Version): boolean {
  if (isEmpty(r)) return false;
  if (!r.upper) return true;
  const c = compareVersion(r.upper.version, v);
  return c > 0 || (c === 0 && r.upper.inclusive);
}

function raiseLower(r: VersionInterval, b: Bound): void {
  const c = r.lower ? compareVersion(b.version, r.lower.version) : 1;
  if (c > 0 || (c === 0 && !b.inclusive)) r.lower = b;
}

function lowerUpper(r: VersionInterval, b: Bound): void {
  const c = r.upper ? compareVersion(b.version, r.upper.version) : -1;
  if (c < 0 || (c === 0 && !b.inclusive)) r.upper = b;
}
