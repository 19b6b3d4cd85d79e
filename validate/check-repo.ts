/** Step three of validation: every named rule over the normalised model. */
import type { Finding } from '../core/findings.js';
import type { Repo } from '../model/types.js';
import { rules } from './rules/index.js';

/** The findings of every rule (unsorted; callers sort once with everything else). */
export function checkRepo(repo: Repo, today: string): Finding[] {
  return rules.flatMap((r) => r.check({ repo, today }));
}
