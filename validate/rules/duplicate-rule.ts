/** duplicate-rule: two egress rules of one workload with the same destination and ports. */
import { parseCidr } from '../../core/cidr.js';
import type { Finding } from '../../core/findings.js';
import { formatPortSpec } from '../../core/ports.js';
import { findingAt } from '../../core/yaml-source.js';
import type { IntentRule } from '../../model/types.js';
import type { Rule, RuleContext } from '../rule.js';
import { workloads } from '../walk.js';

export const rule: Rule = {
  id: 'duplicate-rule',
  summary: 'two egress rules of one workload with the same destination and ports',
  check: duplicateRule,
};

function duplicateRule(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const w of workloads(ctx.repo)) {
    const first = new Map<string, number>();
    for (const r of w.intent.egress) {
      const key = ruleKey(r);
      const earlier = first.get(key);
      if (earlier === undefined) {
        first.set(key, r.index);
        continue;
      }
      out.push(
        findingAt(
          w.src,
          ['egress', r.index],
          rule.id,
          `same destination and ports as egress[${earlier}]: merge the two rules (and their whys) into one`,
          'warning',
        ),
      );
    }
  }
  return out;
}

/** Destination and ports as a set, in canonical text, so order and spelling do not hide a duplicate. */
function ruleKey(r: IntentRule): string {
  const to = r.to;
  const dest =
    to.kind === 'cidrs'
      ? `cidrs:${[...new Set(to.cidrs.map((c) => parseCidr(c)?.text ?? c))].sort().join(',')}`
      : to.kind === 'workload'
        ? `workload:${to.workload}`
        : to.kind === 'service'
          ? `service:${to.service}`
          : to.kind === 'domains'
            ? `domains:${[...new Set(to.domains)].sort().join(',')}`
            : `prefixList:${to.prefixList}`;
  const ports = [...new Set(r.ports.map(formatPortSpec))].sort().join(',');
  return `${dest} ${ports}`;
}
