/** exception-required: a broad destination, `all` protocols or a port range needs an `exception` block. */
import type { Finding } from '../../core/findings.js';
import { findingAt } from '../../core/yaml-source.js';
import { exceptionNeeds } from '../exception-needs.js';
import type { Rule, RuleContext } from '../rule.js';
import { egressRules } from '../walk.js';

export const rule: Rule = {
  id: 'exception-required',
  summary: 'a rule that needs an exception (broad destination outside the VPC, `all`, a port range) without one',
  check: exceptionRequired,
};

function exceptionRequired(ctx: RuleContext): Finding[] {
  const g = ctx.repo.guardrails.exceptions;
  const block = `exception: { reason, owner, expires${g.requireTicket ? ', ticket' : ''} }`;
  const out: Finding[] = [];
  for (const r of egressRules(ctx.repo)) {
    if (r.rule.exception) continue;
    for (const need of exceptionNeeds(r.env, r.rule, r.src, ctx.repo.guardrails)) {
      out.push(
        findingAt(
          r.src,
          need.path,
          rule.id,
          `needs an exception: ${need.reason}; narrow the rule, or add ${block} to egress[${r.rule.index}] (expires at most ${g.maxDays} days ahead)`,
        ),
      );
    }
  }
  return out;
}
