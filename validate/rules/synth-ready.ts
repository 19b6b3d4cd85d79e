/**
 * synth-ready: what plan or synth would refuse, found before them. The environment is resolved as plan resolves it
 * (generators/resolve.ts), and each refusal of the resolver (a quota no merge can meet) and of the stack's last
 * checks (stacks/guard-rails.ts checkEnvironment) that policies can cause is reported at the line that causes it. The
 * rest of the stack's checks are guaranteed by the schemas and the other rules.
 */
import type { Finding } from '../../core/findings.js';
import { findingAt } from '../../core/yaml-source.js';
import type { ResolveResult } from '../../generators/resolve.js';
import type { Rule, RuleContext } from '../rule.js';
import { environments } from '../walk.js';

export const rule: Rule = {
  id: 'synth-ready',
  summary:
    'what plan or synth would refuse: a quota no merge can meet, an endpoint without route tables or subnets, a group name taken twice',
  check: synthReady,
};

function synthReady(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const env of environments(ctx.repo)) {
    let resolution: ResolveResult;
    try {
      resolution = ctx.resolve(env);
    } catch {
      // A model the resolver cannot take has errors that other rules report.
      continue;
    }
    // plan refuses these (a quota compaction cannot meet)
    out.push(...resolution.findings.filter((f) => f.severity === 'error').map((f) => ({ ...f, rule: rule.id })));
    // synth renders no resource of an audit environment, so it refuses nothing there
    if (env.environment.value.mode !== 'enforce') continue;
    const severity: Finding['severity'] = 'error';
    const later = 'synth refuses it';
    const src = env.environment.source;
    for (const ep of resolution.resolved.endpoints) {
      const users = `for ${ep.workloads.join(', ')}`;
      if (ep.type === 'Gateway' && ep.routeTables.length === 0) {
        out.push(
          findingAt(
            src,
            ['endpoints', 'routeTables'],
            rule.id,
            `the ${ep.service} gateway endpoint (${users}) needs route tables in endpoints.routeTables: ${later}`,
            severity,
          ),
        );
      }
      if (ep.type === 'Interface' && ep.subnets.length === 0) {
        out.push(
          findingAt(
            src,
            ['endpoints', 'subnets'],
            rule.id,
            `the ${ep.service} interface endpoint (${users}) needs subnets in endpoints.subnets: ${later}`,
            severity,
          ),
        );
      }
    }
    // The resolver merges observed destinations to fit the quota; intent rules alone over it, synth refuses.
    for (const g of resolution.resolved.groups) {
      const w = env.workloads.get(g.workload);
      if (!w || g.rules.length <= g.quota.limit) continue;
      out.push(
        findingAt(
          w.source,
          ['egress'],
          rule.id,
          `${g.rules.length} egress rules (intent rules count one per port) are over quotas.rulesPerGroup ${g.quota.limit}, which no merge of observed destinations can meet: ${later}`,
          severity,
        ),
      );
    }
    // Group names are unique in a VPC: the group of an interface endpoint is named <service>-vpce after leastpath-<env>-.
    const endpointGroups = new Map(
      resolution.resolved.endpoints.filter((e) => e.type === 'Interface').map((e) => [`${e.service.replace(/\./g, '-')}-vpce`, e.service]),
    );
    for (const [name, w] of env.workloads) {
      const service = endpointGroups.get(name);
      if (service === undefined || env.environment.value.workloads[name]?.securityGroup !== undefined) continue;
      out.push(
        findingAt(
          w.source,
          ['workload'],
          rule.id,
          `its security group would have the name of the ${service} endpoint's group (leastpath-${env.name}-${name}): rename the workload; ${later}`,
          severity,
        ),
      );
    }
  }
  return out;
}
