/** quarantine-valid: each quarantine says why, names a subnet once, and fits the network ACL's rule quota. */
import { parseCidr } from '../../core/cidr.js';
import type { Finding } from '../../core/findings.js';
import { findingAt } from '../../core/yaml-source.js';
import type { Rule, RuleContext } from '../rule.js';
import { isPlaceholder } from '../text.js';
import { environments } from '../walk.js';

export const rule: Rule = {
  id: 'quarantine-valid',
  summary: 'a quarantine without a reason, a subnet quarantined twice, or more NACL rules than the quota',
  check: quarantineValid,
};

function quarantineValid(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const env of environments(ctx.repo)) {
    const src = env.environment.source;
    const cfg = env.environment.value;
    const firstBySubnet = new Map<string, number>();
    const byAcl = new Map<string, { first: number; allows: Set<string>; ipv6: boolean }>();
    const vpcHasIPv6 = cfg.vpcCidrs.some((c) => parseCidr(c)?.family === 6);

    cfg.quarantine.forEach((q, k) => {
      const path = ['quarantine', k];
      if (isPlaceholder(q.reason)) {
        out.push(
          findingAt(
            src,
            [...path, 'reason'],
            rule.id,
            'a quarantine cuts a subnet off at once: say why in reason: "<incident id and what happened>"',
          ),
        );
      }
      const first = firstBySubnet.get(q.subnet);
      if (first !== undefined) {
        out.push(
          findingAt(src, [...path, 'subnet'], rule.id, `${q.subnet} is already quarantined by quarantine[${first}]: merge the two entries`),
        );
      } else {
        firstBySubnet.set(q.subnet, k);
      }
      if (cfg.endpoints.subnets.includes(q.subnet)) {
        out.push(
          findingAt(
            src,
            [...path, 'subnet'],
            rule.id,
            `${q.subnet} holds the VPC endpoints: quarantining it cuts every workload off from AWS services; move the endpoints first`,
            'warning',
          ),
        );
      }
      const acl = byAcl.get(q.networkAcl) ?? { first: k, allows: new Set<string>(), ipv6: vpcHasIPv6 };
      for (const a of q.allow) {
        const c = parseCidr(a);
        acl.allows.add(c?.text ?? a);
        if (c?.family === 6) acl.ipv6 = true;
      }
      byAcl.set(q.networkAcl, acl);
    });

    // Per direction: a DENY-all per address family in use, plus one ALLOW per forensics CIDR.
    const limit = cfg.quotas.naclRulesPerDirection;
    for (const [aclId, acl] of byAcl) {
      const rules = (acl.ipv6 ? 2 : 1) + acl.allows.size;
      if (rules > limit) {
        out.push(
          findingAt(
            src,
            ['quarantine', acl.first, 'allow'],
            rule.id,
            `quarantine of ${aclId} needs ${rules} rules per direction (deny-all${acl.ipv6 ? ' for IPv4 and IPv6' : ''} plus ${acl.allows.size} allow(s)), more than naclRulesPerDirection ${limit}: allow fewer CIDRs`,
          ),
        );
      }
    }
  }
  return out;
}
