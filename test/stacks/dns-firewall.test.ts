/** The DNS Firewall synth writes with `dnsFirewall`: the four resource types of the contract, wired to each other. */
import { afterAll, describe, expect, it } from 'vitest';
import { emptyEnv, removeTemps, renderJson, resources } from './fixtures.js';

afterAll(removeTemps);

const ref = (type: string, name: string) => `\${${type}.${name}.id}`;

describe('DNS Firewall', () => {
  it('allows the allowlist (trusting CNAME redirection) and blocks the rest with NODATA, associated with the VPC', async () => {
    const tf = await renderJson(
      emptyEnv({ mode: 'enforce', dnsFirewall: { mode: 'block', domains: ['*.githubusercontent.com', 'api.stripe.com'] } }),
    );
    const lists = resources(tf, 'aws_route53_resolver_firewall_domain_list');
    const allowed = Object.entries(lists).find(([, l]) => (l.domains as string[]).includes('api.stripe.com'))!;
    expect(allowed[1].domains).toEqual(['*.githubusercontent.com', 'api.stripe.com']);
    const everything = Object.entries(lists).find(([, l]) => JSON.stringify(l.domains) === '["*"]')!;
    const [groupName] = Object.keys(resources(tf, 'aws_route53_resolver_firewall_rule_group'));
    const rules = Object.values(resources(tf, 'aws_route53_resolver_firewall_rule')).sort(
      (a, b) => Number(a.priority) - Number(b.priority),
    );
    expect(rules).toHaveLength(2);
    expect(rules[0]).toMatchObject({
      action: 'ALLOW',
      firewall_domain_list_id: ref('aws_route53_resolver_firewall_domain_list', allowed[0]),
      firewall_domain_redirection_action: 'TRUST_REDIRECTION_DOMAIN',
      firewall_rule_group_id: ref('aws_route53_resolver_firewall_rule_group', groupName!),
    });
    expect(rules[1]).toMatchObject({
      action: 'BLOCK',
      block_response: 'NODATA',
      firewall_domain_list_id: ref('aws_route53_resolver_firewall_domain_list', everything[0]),
    });
    const assoc = Object.values(resources(tf, 'aws_route53_resolver_firewall_rule_group_association'));
    expect(assoc).toEqual([
      expect.objectContaining({
        vpc_id: emptyEnv().vpc,
        firewall_rule_group_id: ref('aws_route53_resolver_firewall_rule_group', groupName!),
      }),
    ]);
    const priority = Number(assoc[0]!.priority);
    expect(priority > 100 && priority < 9900).toBe(true);
  });

  it('alerts without a block response in alert mode, and only alerts in an audit environment whatever the mode', async () => {
    for (const env of [
      emptyEnv({ mode: 'enforce', dnsFirewall: { mode: 'alert', domains: [] } }),
      emptyEnv({ mode: 'audit', dnsFirewall: { mode: 'block', domains: ['a.example.com'] } }),
    ]) {
      const rules = Object.values(resources(await renderJson(env), 'aws_route53_resolver_firewall_rule'));
      const rest = rules.find((r) => r.action !== 'ALLOW')!;
      expect(rest.action).toBe('ALERT');
      expect(rest).not.toHaveProperty('block_response');
    }
  });

  it('writes no firewall without dnsFirewall', async () => {
    const tf = await renderJson(emptyEnv({ mode: 'enforce' }));
    expect(JSON.stringify(tf)).not.toContain('route53_resolver');
  });
});
