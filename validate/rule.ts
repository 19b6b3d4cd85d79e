/** What a semantic rule is: a named check over the normalised model that returns findings. */
import type { Finding } from '../core/findings.js';
import type { Repo } from '../model/types.js';

export interface RuleContext {
  repo: Repo;
  /** Today (YYYY-MM-DD, UTC). */
  today: string;
}

export interface Rule {
  /** The rule's file name under validate/rules/, and the `rule` of its findings. */
  id: string;
  /** What it forbids, in one line (RULES.md says more). */
  summary: string;
  check: (ctx: RuleContext) => Finding[];
}
