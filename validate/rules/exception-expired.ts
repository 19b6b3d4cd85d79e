/** exception-expired: an exception whose `expires` date has passed (contract: a validation error). */
import type { Finding } from '../../core/findings.js';
import { findingAt } from '../../core/yaml-source.js';
import type { Rule, RuleContext } from '../rule.js';
import { egressRules } from '../walk.js';

export const rule: Rule = {
  id: 'exception-expired',
  summary: 'an exception that expired before today',
  check: exceptionExpired,
};

function exceptionExpired(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  const maxDays = ctx.repo.guardrails.exceptions.maxDays;
  for (const r of egressRules(ctx.repo)) {
    const e = r.rule.exception;
    // An exception is valid through its expiry day.
    if (!e || e.expires >= ctx.today) continue;
    out.push(
      findingAt(
        r.src,
        [...r.path, 'exception', 'expires'],
        rule.id,
        `exception expired on ${e.expires} (today is ${ctx.today}): narrow or remove the rule, or renew the exception with a new date at most ${maxDays} days ahead`,
      ),
    );
  }
  return out;
}
