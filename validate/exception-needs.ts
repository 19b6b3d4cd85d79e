/**
 * When a rule needs an `exception` block (contract: "Exceptions"), shared by exception-required,
 * exception-unneeded and any stage that lists exceptions.
 */
import { contains, parseCidr, type Cidr } from '../core/cidr.js';
import { isBroadWildcard } from '../core/domains.js';
import { formatPortSpec, parsePortSpec, portCount } from '../core/ports.js';
import type { PathSegment, YamlSource } from '../core/yaml-source.js';
import type { EnvironmentPolicies, Guardrails, IntentRule } from '../model/types.js';
import { destinationCidrs, rawPorts } from './walk.js';

type NeedKind = 'broad-destination' | 'all-protocols' | 'port-range';

interface ExceptionNeed {
  kind: NeedKind;
  /** Where the reason is written (a CIDR, the prefix list name, a port). */
  path: PathSegment[];
  /** Why, in words: `destination 0.0.0.0/0 is outside the VPC and broader than /24`. */
  reason: string;
}

/**
 * Every reason the rule needs an exception; empty when it needs none. Destinations inside one of the
 * environment's vpcCidrs never count as broad (no vpcCidrs: every CIDR is outside, the strict reading).
 */
export function exceptionNeeds(env: EnvironmentPolicies, rule: IntentRule, src: YamlSource, guardrails: Guardrails): ExceptionNeed[] {
  const g = guardrails.exceptions;
  const rulePath: PathSegment[] = ['egress', rule.index];
  const out: ExceptionNeed[] = [];
  const vpc = env.environment.value.vpcCidrs.map((t) => parseCidr(t)).filter((c): c is Cidr => c !== undefined);

  for (const located of destinationCidrs(env, rule.to, rulePath)) {
    const c = located.cidr;
    const max = c.family === 4 ? g.maxPrefixIPv4 : g.maxPrefixIPv6;
    if (c.prefix >= max || vpc.some((v) => contains(v, c))) continue;
    const what = located.prefixList ? `prefix list "${located.prefixList}" holds ${c.text}, which is` : `destination ${c.text} is`;
    out.push({ kind: 'broad-destination', path: located.path, reason: `${what} outside the VPC and broader than /${max}` });
  }

  // A wildcard above a registrable domain (`*.com`) admits every owner's names: as broad as a /0.
  if (rule.to.kind === 'domains') {
    rule.to.domains.forEach((d, j) => {
      if (isBroadWildcard(d))
        out.push({
          kind: 'broad-destination',
          path: [...rulePath, 'to', 'domains', j],
          reason: `${d} matches every name under the public suffix ${d.slice(2)}, not one owner's`,
        });
    });
  }

  // Port positions come from the text as written; a service rule without ports means tcp/443 and needs nothing.
  rawPorts(src, rulePath).forEach((text, j) => {
    const p = parsePortSpec(text);
    if ('error' in p) return;
    const path = [...rulePath, 'ports', j];
    if (p.protocol === 'all') {
      // guardrails cannot turn this off (allProtocols is always true in the model).
      out.push({ kind: 'all-protocols', path, reason: 'it allows all protocols and ports ("all")' });
    } else if ((p.protocol === 'tcp' || p.protocol === 'udp') && portCount(p) > g.maxPorts) {
      const limit = g.maxPorts === 1 ? 'one port' : `${g.maxPorts} ports`;
      out.push({ kind: 'port-range', path, reason: `port range ${formatPortSpec(p)} opens ${portCount(p)} ports, more than ${limit}` });
    }
  });
  return out;
}
