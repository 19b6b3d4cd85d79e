/** Names that become paths (environments, workloads, prefix lists) are checked here before any path is built. */
import { UsageError } from './errors.js';

const NAME_PATTERN = /^[a-z0-9][a-z0-9-]*$/;
export const NAME_MAX = 63;

export function isSafeName(name: string): boolean {
  return name.length <= NAME_MAX && NAME_PATTERN.test(name);
}

/** Throws a UsageError unless `name` matches `[a-z0-9][a-z0-9-]*` (at most 63 characters). */
export function assertSafeName(kind: string, name: string): string {
  if (!isSafeName(name)) {
    throw new UsageError(`${kind} name ${JSON.stringify(name)} must match [a-z0-9][a-z0-9-]* (at most ${NAME_MAX} characters)`);
  }
  return name;
}
