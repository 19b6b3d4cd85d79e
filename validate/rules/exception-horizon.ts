/** exception-horizon: an exception that expires further ahead than guardrails allow (default 180 days). */
import type { Finding } from '../../core/findings.js';
import { findingAt } from '../../core/yaml-source.js';
import type { Rule, RuleContext } from '../rule.js';
import { addDays } from '../../core/dates.js';
import { egressRules } from '../walk.js';

export const rule: Rule = {
  id: 'exception-horizon',
  summary: 'an exception that expires more than maxDays (180) days after today',
  check: exceptionHorizon,
};

function exceptionHorizon(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  const maxDays = ctx.repo.guardrails.exceptions.maxDays;
  const latest = addDays(ctx.today, maxDays);
  for (const r of egressRules(ctx.repo)) {
    const e = r.rule.exception;
    if (!e || e.expires <= latest) continue;
    out.push(
      findingAt(
        r.src,
        [...r.path, 'exception', 'expires'],
        rule.id,
        `${e.expires} is more than ${maxDays} days after today (${ctx.today}): exceptions are reviewed, not parked; use ${latest} or earlier`,
      ),
    );
  }
  return out;
}
