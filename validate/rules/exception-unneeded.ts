/** exception-unneeded: an exception on a rule that needs none (it hides real exceptions in reviews). */
import type { Finding } from '../../core/findings.js';
import { findingAt } from '../../core/yaml-source.js';
import { exceptionNeeds } from '../exception-needs.js';
import type { Rule, RuleContext } from '../rule.js';
import { egressRules } from '../walk.js';

export const rule: Rule = {
  id: 'exception-unneeded',
  summary: 'an exception block on a rule that does not need one',
  check: exceptionUnneeded,
};

function exceptionUnneeded(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const r of egressRules(ctx.repo)) {
    if (!r.rule.exception) continue;
    if (exceptionNeeds(r.env, r.rule, r.src, ctx.repo.guardrails).length > 0) continue;
    out.push(
      findingAt(
        r.src,
        [...r.path, 'exception'],
        rule.id,
        'this rule needs no exception (narrow destination, single ports): remove the exception block so the exception list stays short',
        'warning',
      ),
    );
  }
  return out;
}
