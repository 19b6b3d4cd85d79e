/** service-known: `to: { service: x }` is an AWS endpoint service leastpath knows (schemas/aws-services.json). */
import type { Finding } from '../../core/findings.js';
import { findingAt } from '../../core/yaml-source.js';
import { awsServices } from '../../model/aws-services.js';
import { didYouMean } from '../../model/suggest.js';
import type { Rule, RuleContext } from '../rule.js';
import { denyRules, egressRules } from '../walk.js';

export const rule: Rule = {
  id: 'service-known',
  summary: 'a `service` destination that is not a known AWS endpoint service',
  check: serviceKnown,
};

function serviceKnown(ctx: RuleContext): Finding[] {
  const { gateway, interface: iface } = awsServices();
  const known = new Set([...gateway, ...iface]);
  const out: Finding[] = [];
  for (const r of [...egressRules(ctx.repo), ...denyRules(ctx.repo)]) {
    if (r.rule.to.kind !== 'service' || known.has(r.rule.to.service)) continue;
    const name = r.rule.to.service;
    out.push(
      findingAt(
        r.src,
        [...r.path, 'to', 'service'],
        rule.id,
        `unknown AWS endpoint service ${JSON.stringify(name)}: use the name after com.amazonaws.<region>. (s3, dynamodb, sts, ecr.api, ...), or add it to schemas/aws-services.json if AWS offers it${didYouMean(name, known)}`,
      ),
    );
  }
  return out;
}
