/**
 * deny-conflict: an egress rule may not allow what a `deny` entry of the same workload forbids.
 * Security groups cannot subtract, so a deny only keeps observed destinations from being adopted; an intent rule
 * inside a deny entry contradicts it (error), a broader one still reaches it (warning, unless an exception owns the breadth).
 */
import { contains } from '../../core/cidr.js';
import type { Finding } from '../../core/findings.js';
import { formatPortSpec, IANA, type PortSpec } from '../../core/ports.js';
import { findingAt } from '../../core/yaml-source.js';
import type { Destination, EnvironmentPolicies, IntentRule } from '../../model/types.js';
import type { Rule, RuleContext } from '../rule.js';
import { destinationCidrs, overlaps, workloads } from '../walk.js';

export const rule: Rule = {
  id: 'deny-conflict',
  summary: 'an egress rule whose destination lies inside a deny entry of the same workload (or, without an exception, contains one)',
  check: denyConflict,
};

interface Overlap {
  /** `within`: the rule's destination lies inside the deny; `contains`: the rule is broader and covers it. */
  how: 'within' | 'contains';
  text: string;
}

function denyConflict(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const w of workloads(ctx.repo)) {
    for (const allow of w.intent.egress) {
      for (const deny of w.intent.deny) {
        if (!portsOverlap(allow.ports, deny.ports)) continue;
        const o = overlap(w.env, allow, deny.to, deny.index);
        if (!o || (o.how === 'contains' && allow.exception)) continue;
        const denied = `deny[${deny.index}] (${deny.ports.length === 0 ? 'all traffic' : deny.ports.map(formatPortSpec).join(', ')})`;
        const path = ['egress', allow.index, 'to'];
        out.push(
          o.how === 'within'
            ? findingAt(
                w.src,
                path,
                rule.id,
                `allows ${o.text}, which ${denied} forbids: intent cannot allow what deny forbids; remove or narrow this rule, or lift the deny`,
              )
            : findingAt(
                w.src,
                path,
                rule.id,
                `also reaches ${o.text}, which ${denied} forbids: a security group cannot subtract it; narrow this rule so it leaves the denied range out`,
                'warning',
              ),
        );
      }
    }
  }
  return out;
}

function overlap(env: EnvironmentPolicies, allow: IntentRule, deny: Destination, denyIndex: number): Overlap | undefined {
  const a = allow.to;
  if (a.kind === 'workload' && deny.kind === 'workload')
    return a.workload === deny.workload ? { how: 'within', text: `workload "${a.workload}"` } : undefined;
  if (a.kind === 'service' && deny.kind === 'service')
    return a.service === deny.service ? { how: 'within', text: `service "${a.service}"` } : undefined;
  const allowCidrs = destinationCidrs(env, a, ['egress', allow.index]);
  const denyCidrs = destinationCidrs(env, deny, ['deny', denyIndex]);
  let broader: Overlap | undefined;
  for (const x of allowCidrs) {
    for (const y of denyCidrs) {
      if (contains(y.cidr, x.cidr))
        return { how: 'within', text: x.cidr.text === y.cidr.text ? x.cidr.text : `${x.cidr.text} (inside ${y.cidr.text})` };
      if (!broader && overlaps(x.cidr, y.cidr)) broader = { how: 'contains', text: `${y.cidr.text} (through ${x.cidr.text})` };
    }
  }
  return broader;
}

/** True when some traffic matches a spec on both sides; an empty deny list stands for every protocol and port. */
function portsOverlap(allow: readonly PortSpec[], deny: readonly PortSpec[]): boolean {
  if (deny.length === 0) return allow.length > 0;
  return allow.some((a) => deny.some((d) => specsOverlap(a, d)));
}

function specsOverlap(a: PortSpec, b: PortSpec): boolean {
  if (a.protocol === 'all' || b.protocol === 'all') return true;
  if (protocolNumber(a) !== protocolNumber(b)) return false;
  if (a.from === undefined || a.to === undefined || b.from === undefined || b.to === undefined) return true;
  return a.from <= b.to && b.from <= a.to;
}

function protocolNumber(p: PortSpec): number {
  return typeof p.protocol === 'number' ? p.protocol : IANA[p.protocol]!;
}
