/** exception-ticket: when guardrails.yaml sets requireTicket, every exception names its ticket. */
import type { Finding } from '../../core/findings.js';
import { findingAt } from '../../core/yaml-source.js';
import type { Rule, RuleContext } from '../rule.js';
import { egressRules } from '../walk.js';

export const rule: Rule = {
  id: 'exception-ticket',
  summary: 'an exception without a ticket when guardrails require one',
  check: exceptionTicket,
};

function exceptionTicket(ctx: RuleContext): Finding[] {
  if (!ctx.repo.guardrails.exceptions.requireTicket) return [];
  const out: Finding[] = [];
  for (const r of egressRules(ctx.repo)) {
    const e = r.rule.exception;
    if (!e || e.ticket !== undefined) continue;
    out.push(
      findingAt(
        r.src,
        [...r.path, 'exception', 'ticket'],
        rule.id,
        'policies/guardrails.yaml requires a ticket on every exception: add ticket: <the approving ticket, e.g. SEC-101>',
      ),
    );
  }
  return out;
}
