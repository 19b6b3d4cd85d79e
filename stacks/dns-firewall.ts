/**
 * The VPC's Route 53 Resolver DNS Firewall: a domain list of the allowed names, a catch-all list (`*`), a rule group
 * that ALLOWs the first (trusting CNAME redirection, so an allowed name behind a CDN chain resolves) and ALERTs on
 * or BLOCKs (NODATA) the rest, and the group's association with the VPC. Pure rendering, like render.ts.
 */
import { Route53ResolverFirewallDomainList } from '@cdktn/provider-aws/lib/route53-resolver-firewall-domain-list/index.js';
import { Route53ResolverFirewallRule } from '@cdktn/provider-aws/lib/route53-resolver-firewall-rule/index.js';
import { Route53ResolverFirewallRuleGroup } from '@cdktn/provider-aws/lib/route53-resolver-firewall-rule-group/index.js';
import { Route53ResolverFirewallRuleGroupAssociation } from '@cdktn/provider-aws/lib/route53-resolver-firewall-rule-group-association/index.js';
import type { TerraformStack } from 'cdktn';
import type { ResolvedEnvironment } from '../generators/model.js';

/** Rule and association priorities: the association's must lie in 101-9899 (100 and 9900 are AWS's own). */
const ALLOW_PRIORITY = 100;
const CATCH_ALL_PRIORITY = 200;
const ASSOCIATION_PRIORITY = 1000;

/**
 * Renders the firewall when the environment has `dnsFirewall`. In audit mode it is rendered in ALERT whatever the
 * mode says: an alerting firewall only logs (`firewall_rule_action` in the query logs), it changes no answer.
 */
export function renderDnsFirewall(stack: TerraformStack, env: ResolvedEnvironment): void {
  const fw = env.dnsFirewall;
  if (!fw) return;
  const name = `leastpath-${env.environment}`;
  const tags = (extra: Record<string, string>) => ({ ManagedBy: 'leastpath', Environment: env.environment, ...extra });
  const allowed = new Route53ResolverFirewallDomainList(stack, 'dns_allowed', {
    name: `${name}-allowed`,
    domains: [...fw.domains],
    tags: tags({ Name: `${name}-allowed` }),
  });
  const everything = new Route53ResolverFirewallDomainList(stack, 'dns_everything', {
    name: `${name}-catch-all`,
    domains: ['*'],
    tags: tags({ Name: `${name}-catch-all` }),
  });
  const group = new Route53ResolverFirewallRuleGroup(stack, 'dns_rule_group', { name, tags: tags({ Name: name }) });
  new Route53ResolverFirewallRule(stack, 'dns_allow', {
    name: `${name}-allow`,
    action: 'ALLOW',
    priority: ALLOW_PRIORITY,
    firewallDomainListId: allowed.id,
    firewallRuleGroupId: group.id,
    firewallDomainRedirectionAction: 'TRUST_REDIRECTION_DOMAIN',
  });
  const mode = env.mode === 'audit' ? 'alert' : fw.mode;
  new Route53ResolverFirewallRule(stack, 'dns_rest', {
    name: `${name}-${mode}`,
    action: mode === 'block' ? 'BLOCK' : 'ALERT',
    ...(mode === 'block' ? { blockResponse: 'NODATA' } : {}),
    priority: CATCH_ALL_PRIORITY,
    firewallDomainListId: everything.id,
    firewallRuleGroupId: group.id,
  });
  new Route53ResolverFirewallRuleGroupAssociation(stack, 'dns_association', {
    name,
    firewallRuleGroupId: group.id,
    vpcId: env.vpc,
    priority: ASSOCIATION_PRIORITY,
    mutationProtection: 'DISABLED',
    tags: tags({ Name: name }),
  });
}
