/** selector-overlap: one address range, interface, instance, subnet or adopted group belongs to one workload only. */
import { parseCidr } from '../../core/cidr.js';
import type { Finding } from '../../core/findings.js';
import { findingAt } from '../../core/yaml-source.js';
import type { WorkloadSelector } from '../../model/types.js';
import type { Rule, RuleContext } from '../rule.js';
import { environments, overlaps } from '../walk.js';

export const rule: Rule = {
  id: 'selector-overlap',
  summary: 'the same CIDR range, interface, instance, subnet or security group attributed to two workloads of one environment',
  check: selectorOverlap,
};

type IdField = 'interfaces' | 'instances' | 'subnets';
const ID_FIELDS: IdField[] = ['interfaces', 'instances', 'subnets'];

function selectorOverlap(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const env of environments(ctx.repo)) {
    const src = env.environment.source;
    // Sorted by name: the later workload of a pair carries the finding.
    const selectors = Object.entries(env.environment.value.workloads);
    selectors.forEach(([name, sel], i) => {
      for (const [other, otherSel] of selectors.slice(0, i)) {
        const clash = (what: string) =>
          `${what} of workload ${JSON.stringify(other)}: a flow could be attributed to either; give each address, interface, instance or subnet to one workload`;
        sel.cidrs.forEach((text, j) => {
          const c = parseCidr(text);
          if (!c) return;
          const hit = otherSel.cidrs.map((t) => parseCidr(t)).find((o) => o !== undefined && overlaps(c, o));
          if (hit) out.push(findingAt(src, ['workloads', name, 'cidrs', j], rule.id, `${c.text} overlaps ${clash(hit.text)}`));
        });
        for (const field of ID_FIELDS) {
          sel[field].forEach((id, j) => {
            if (otherSel[field].includes(id))
              out.push(findingAt(src, ['workloads', name, field, j], rule.id, `${id} is also one of the ${clash(field)}`));
          });
        }
        if (sel.securityGroup !== undefined && sel.securityGroup === otherSel.securityGroup) {
          out.push(findingAt(src, ['workloads', name, 'securityGroup'], rule.id, adoptedTwice(sel, other)));
        }
      }
    });
  }
  return out;
}

function adoptedTwice(sel: WorkloadSelector, other: string): string {
  return `${sel.securityGroup} is also adopted by workload ${JSON.stringify(other)}: each workload owns the egress rules of its own group, so one group cannot serve two`;
}
