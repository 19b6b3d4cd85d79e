/** ports-valid: every port spec parses (tcp/443, udp/53, tcp/8000-8100, icmp, icmpv6, all, a protocol number), once per rule. */
import type { Finding } from '../../core/findings.js';
import { formatPortSpec, parsePortSpec } from '../../core/ports.js';
import { findingAt } from '../../core/yaml-source.js';
import type { Rule, RuleContext } from '../rule.js';
import { denyRules, egressRules, rawPorts } from '../walk.js';

export const rule: Rule = {
  id: 'ports-valid',
  summary: 'a port spec that does not parse, or the same port spec twice in one rule',
  check: portsValid,
};

function portsValid(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const r of [...egressRules(ctx.repo), ...denyRules(ctx.repo)]) {
    // The model keeps only the specs that parse; positions and errors need the text as written.
    const seen = new Map<string, number>();
    rawPorts(r.src, r.path).forEach((text, j) => {
      const path = [...r.path, 'ports', j];
      const p = parsePortSpec(text);
      if ('error' in p) {
        out.push(findingAt(r.src, path, rule.id, p.error));
        return;
      }
      const canonical = formatPortSpec(p);
      const first = seen.get(canonical);
      if (first !== undefined) {
        out.push(findingAt(r.src, path, rule.id, `${canonical} is already ports[${first}] of this rule: remove the duplicate`));
      } else {
        seen.set(canonical, j);
      }
    });
  }
  return out;
}
