/** What a semantic rule is: a named check over the normalised model that returns findings. */
import type { Finding } from '../core/findings.js';
import type { ResolveResult } from '../generators/resolve.js';
import type { EnvironmentPolicies, Repo } from '../model/types.js';

export interface RuleContext {
  repo: Repo;
  /** Today (YYYY-MM-DD, UTC). */
  today: string;
  /** The environment resolved as plan resolves it, once per validation whichever rule asks (it may throw). */
  resolve: (environment: EnvironmentPolicies) => ResolveResult;
}

export interface Rule {
  /** The rule's file name under validate/rules/, and the `rule` of its findings. */
  id: string;
  /** What it forbids, in one line (RULES.md says more). */
  summary: string;
  check: (ctx: RuleContext) => Finding[];
}
