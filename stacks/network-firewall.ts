/**
 * AWS Network Firewall: per workload with names, a stateful rule group whose domain list ALLOWs the workload's names
 * by TLS SNI and HTTP Host from its own addresses (HOME_NET) and so drops its other TLS and HTTP; with `manage`,
 * the firewall policy that references them. Pure rendering, like render.ts.
 */
import { NetworkfirewallFirewallPolicy } from '@cdktn/provider-aws/lib/networkfirewall-firewall-policy/index.js';
import { NetworkfirewallRuleGroup } from '@cdktn/provider-aws/lib/networkfirewall-rule-group/index.js';
import { TerraformOutput, type TerraformStack } from 'cdktn';
import type { ResolvedEnvironment } from '../generators/model.js';
import { namePart } from './ids.js';

/**
 * Renders the rule groups when the environment has `networkFirewall`. The managed policy is left out in audit mode:
 * a rule group acts only once a policy references it, so audit still changes nothing in the network.
 */
export function renderNetworkFirewall(stack: TerraformStack, env: ResolvedEnvironment): void {
  const nf = env.networkFirewall;
  if (!nf) return;
  const strict = nf.ruleOrder === 'strict';
  const tags = (name: string, workload?: string) => ({
    ManagedBy: 'leastpath',
    Environment: env.environment,
    Name: name,
    ...(workload ? { Workload: workload } : {}),
  });
  const groups = nf.groups.map((g) => {
    const name = `leastpath-${env.environment}-${g.workload}`;
    return new NetworkfirewallRuleGroup(stack, `nfw_${namePart(g.workload)}`, {
      name,
      type: 'STATEFUL',
      capacity: g.capacity,
      description: `leastpath: the names ${g.workload} may reach by TLS SNI and HTTP Host; its other TLS and HTTP is dropped`,
      ruleGroup: {
        ruleVariables: { ipSets: [{ key: 'HOME_NET', ipSet: { definition: [...g.homeNet] } }] },
        rulesSource: {
          rulesSourceList: { generatedRulesType: 'ALLOWLIST', targetTypes: ['HTTP_HOST', 'TLS_SNI'], targets: [...g.targets] },
        },
        ...(strict ? { statefulRuleOptions: { ruleOrder: 'STRICT_ORDER' } } : {}),
      },
      tags: tags(name, g.workload),
    });
  });
  const policy = nf.policyName ?? nf.policyArn!;
  if (nf.manage && env.mode === 'enforce') {
    new NetworkfirewallFirewallPolicy(stack, 'nfw_policy', {
      name: nf.policyName!,
      description: 'leastpath: egress by name, one stateful domain-list rule group per workload',
      firewallPolicy: {
        // Stateless rules pass every packet on to the stateful engine, where the rule groups decide.
        statelessDefaultActions: ['aws:forward_to_sfe'],
        statelessFragmentDefaultActions: ['aws:forward_to_sfe'],
        statefulRuleGroupReference: groups.map((g, i) => ({ resourceArn: g.arn, ...(strict ? { priority: (i + 1) * 100 } : {}) })),
        ...(strict ? { statefulEngineOptions: { ruleOrder: 'STRICT_ORDER' } } : {}),
      },
      tags: tags(nf.policyName!),
    });
  }
  const attach = nf.manage
    ? env.mode === 'enforce'
      ? `referenced by the firewall policy ${policy} this stack writes`
      : `written in audit mode without the firewall policy ${policy}: switch the environment to enforce to write it`
    : `attach each to the firewall policy ${policy} (its owner's step): a stateful_rule_group_reference with this ARN` +
      `${strict ? ' and a priority' : ''}, or aws network-firewall update-firewall-policy`;
  new TerraformOutput(stack, 'network_firewall_rule_groups', {
    value: Object.fromEntries(nf.groups.map((g, i) => [g.workload, groups[i]!.arn])),
    description: `leastpath Network Firewall rule groups by workload, ${attach}`,
  });
}
