/**
 * AWS Network Firewall with `networkFirewall`: a stateful domain-list rule group per workload with names (ALLOWLIST
 * by TLS SNI and HTTP Host from the workload's addresses), the managed policy only when asked for, and Terraform's
 * own validate over what synth writes.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResolvedNetworkFirewall } from '../../generators/model.js';
import { renderObservedYaml } from '../../observe/assemble.js';
import { checkStacks, findMirror, findTerraform } from '../../scripts/check-terraform.js';
import { devEnvironment, runOrg, web } from '../validate/org.js';
import { emptyEnv, removeTemps, renderJson, resources, tempDir, type TerraformJson } from './fixtures.js';

afterAll(removeTemps);

const ARN = 'arn:aws:network-firewall:eu-west-1:111111111111:firewall-policy/egress';

function nfw(extra: Partial<ResolvedNetworkFirewall> = {}): ResolvedNetworkFirewall {
  return {
    policyArn: ARN,
    manage: false,
    ruleOrder: 'default',
    groups: [
      { workload: 'api', targets: ['.githubusercontent.com', 'api.stripe.com'], homeNet: ['10.20.2.10/32'], capacity: 100 },
      { workload: 'web', targets: ['hooks.example.com'], homeNet: ['10.20.1.0/24', '2001:db8:1200:1::/64'], capacity: 100 },
    ],
    unplaced: [],
    dropped: [],
    ...extra,
  };
}

describe('Network Firewall rule groups', () => {
  it('allows each workload its names by TLS SNI and HTTP Host from its own addresses, and says how to attach them', async () => {
    const tf = await renderJson(emptyEnv({ networkFirewall: nfw() }));
    const groups = resources(tf, 'aws_networkfirewall_rule_group');
    expect(Object.keys(groups)).toEqual(['nfw_api', 'nfw_web']);
    expect(groups.nfw_web).toMatchObject({
      name: 'leastpath-dev-web',
      type: 'STATEFUL',
      capacity: 100,
      rule_group: {
        rule_variables: { ip_sets: [{ key: 'HOME_NET', ip_set: { definition: ['10.20.1.0/24', '2001:db8:1200:1::/64'] } }] },
        rules_source: {
          rules_source_list: { generated_rules_type: 'ALLOWLIST', target_types: ['HTTP_HOST', 'TLS_SNI'], targets: ['hooks.example.com'] },
        },
      },
      tags: { ManagedBy: 'leastpath', Workload: 'web' },
    });
    expect(resources(tf, 'aws_networkfirewall_firewall_policy')).toEqual({});
    expect(tf.output.network_firewall_rule_groups).toEqual({
      value: { api: '${aws_networkfirewall_rule_group.nfw_api.arn}', web: '${aws_networkfirewall_rule_group.nfw_web.arn}' },
      description: expect.stringContaining(`attach each to the firewall policy ${ARN} (its owner's step)`),
    });
  });

  it('writes the policy that references the groups with manage, in strict order when asked; never in audit mode', async () => {
    const managed = nfw({ policyName: 'egress', manage: true, ruleOrder: 'strict' });
    delete managed.policyArn;
    const tf = await renderJson(emptyEnv({ networkFirewall: managed }));
    const policy = Object.values(resources(tf, 'aws_networkfirewall_firewall_policy'));
    expect(policy).toEqual([
      expect.objectContaining({
        name: 'egress',
        firewall_policy: expect.objectContaining({
          stateless_default_actions: ['aws:forward_to_sfe'],
          stateful_engine_options: { rule_order: 'STRICT_ORDER' },
          stateful_rule_group_reference: [
            { resource_arn: '${aws_networkfirewall_rule_group.nfw_api.arn}', priority: 100 },
            { resource_arn: '${aws_networkfirewall_rule_group.nfw_web.arn}', priority: 200 },
          ],
        }),
      }),
    ]);
    expect(resources(tf, 'aws_networkfirewall_rule_group').nfw_api!.rule_group).toMatchObject({
      stateful_rule_options: { rule_order: 'STRICT_ORDER' },
    });

    const audit = await renderJson(emptyEnv({ mode: 'audit', networkFirewall: managed }));
    expect(Object.keys(resources(audit, 'aws_networkfirewall_rule_group'))).toEqual(['nfw_api', 'nfw_web']);
    expect(resources(audit, 'aws_networkfirewall_firewall_policy')).toEqual({});
  });

  it('passes terraform validate (hashicorp/aws from the mirror), managed policy or not', async () => {
    const { bin } = await findTerraform(process.env);
    const mirror = await findMirror(process.env);
    const out = await tempDir('leastpath-nfw-');
    const managed = nfw({ policyName: 'egress', manage: true, ruleOrder: 'strict' });
    for (const [name, env] of [
      ['attached', emptyEnv({ networkFirewall: nfw() })],
      ['managed', emptyEnv({ networkFirewall: managed })],
    ] as const) {
      await mkdir(join(out, 'stacks', name), { recursive: true });
      await writeFile(join(out, 'stacks', name, 'cdk.tf.json'), JSON.stringify(await renderJson(env)));
    }
    const results = await checkStacks(out, join(out, 'work'), bin, mirror, process.env);
    expect(results.map((r) => [r.stack, r.ok, r.output])).toEqual([
      ['attached', true, ''],
      ['managed', true, ''],
    ]);
  }, 180_000);
});

describe('networkFirewall in environment.yaml', () => {
  it("gives each workload with names (intent and adopted) a group of its names and the environment's allow, from its addresses", async () => {
    const out = await tempDir('leastpath-nfw-synth-');
    const run = await runOrg(
      {
        'policies/dev/environment.yaml': devEnvironment(`networkFirewall: { policyArn: "${ARN}", allow: ["*.amazonaws.com"] }\n`),
        'policies/dev/workloads/web.yaml': web(
          '  - to: { domains: [api.stripe.com, "*.githubusercontent.com"] }\n    ports: [tcp/443]\n    why: payments and downloads\n',
        ).replace('observed: adopt\n', 'observed: adopt\nadoptNames: true\n'),
        'observed/dev/web.yaml': renderObservedYaml({
          workload: 'web',
          environment: 'dev',
          window: { from: '2026-11-08', to: '2026-11-21' },
          source: { engine: 'duckdb', records: 100, skippedWindows: 0 },
          egress: [
            {
              destination: '198.51.100.9/32',
              protocol: 'tcp',
              port: 443,
              service: null,
              flows: 5,
              bytes: 500,
              firstSeen: '2026-11-09',
              lastSeen: '2026-11-20',
              decidedBy: 'tcp-flags',
              names: ['files.example.org'],
            },
          ],
          rejected: [],
          domains: [
            {
              name: 'files.example.org',
              queries: 5,
              connected: true,
              firstSeen: '2026-11-09',
              lastSeen: '2026-11-20',
              addresses: ['198.51.100.9'],
            },
          ],
        }),
        'policies/dev/workloads/api.yaml':
          'workload: api\nowner: team-api\nobserved: adopt\negress:\n  - to: { domains: [api.vendor.example.com] }\n    ports: [tcp/443]\n    why: the vendor\n',
      },
      ['synth', '--out', out],
    );
    expect(run.code, run.stderr.join('\n')).toBe(0);
    // api is selected by interface only and nothing observed its addresses: no group, and a warning says why.
    expect(run.stderr.join('\n')).toMatch(
      /^policies\/dev\/environment\.yaml:\d+:\d+: networkFirewall: warning: api has names but no known address/m,
    );
    const tf = JSON.parse(await readFile(join(out, 'stacks', 'dev', 'cdk.tf.json'), 'utf8')) as TerraformJson;
    const groups = resources(tf, 'aws_networkfirewall_rule_group');
    expect(Object.keys(groups)).toEqual(['nfw_web']);
    expect(groups.nfw_web!.rule_group).toMatchObject({
      rule_variables: { ip_sets: [{ key: 'HOME_NET', ip_set: { definition: ['10.20.1.0/24'] } }] },
      rules_source: { rules_source_list: { targets: ['.amazonaws.com', '.githubusercontent.com', 'api.stripe.com', 'files.example.org'] } },
    });
  });

  it("plan shows the groups and what they would drop: TCP out of the VPC to names all off the workload's list", async () => {
    const entry = (destination: string, port: number, names: string[]) => ({
      destination,
      protocol: 'tcp',
      port,
      service: null,
      flows: 7,
      bytes: 700,
      firstSeen: '2026-11-09',
      lastSeen: '2026-11-20',
      decidedBy: 'tcp-flags' as const,
      names,
    });
    const files = {
      'policies/dev/environment.yaml': devEnvironment(`networkFirewall: { policyArn: "${ARN}", allow: ["*.amazonaws.com"] }\n`),
      'policies/dev/workloads/web.yaml': web('  - to: { domains: [api.stripe.com] }\n    ports: [tcp/443]\n    why: payments\n'),
      'observed/dev/web.yaml': renderObservedYaml({
        workload: 'web',
        environment: 'dev',
        window: { from: '2026-11-08', to: '2026-11-21' },
        source: { engine: 'duckdb', records: 100, skippedWindows: 0 },
        egress: [
          entry('10.20.5.5/32', 5432, ['db.corp.internal']),
          entry('52.94.49.77/32', 443, ['sqs.eu-west-1.amazonaws.com']),
          entry('198.51.100.9/32', 443, ['api.stripe.com']),
          entry('203.0.113.9/32', 443, ['hooks.example.com']),
          entry('203.0.113.10/32', 443, []),
        ],
        rejected: [],
        domains: [],
      }),
    };
    const json = await runOrg(files, ['plan', '--env', 'dev', '--format', 'json']);
    expect(json.code, json.stderr.join('\n')).toBe(0);
    const plan = JSON.parse(json.stdout) as { networkFirewall: ResolvedNetworkFirewall };
    expect(plan.networkFirewall.groups.map((g) => [g.workload, g.targets])).toEqual([['web', ['.amazonaws.com', 'api.stripe.com']]]);
    expect(plan.networkFirewall.dropped).toEqual([
      { workload: 'web', destination: '203.0.113.9/32', port: 443, names: ['hooks.example.com'], flows: 7 },
    ]);
    const text = await runOrg(files, ['plan', '--env', 'dev']);
    expect(text.stdout).toContain(
      "Network Firewall: rule groups for web; they would drop 7 flows to 1 destination whose names are not on the workload's list.\n" +
        '  DROPS web -> 203.0.113.9/32 tcp/443 (hooks.example.com): 7 flows\n',
    );
  });

  it('refuses a policy named both ways, manage beside an ARN, and no policy at all, at the key', async () => {
    const cases: [string, RegExp][] = [
      [`{ policyArn: "${ARN}", policyName: egress }`, /networkFirewall\.policyName: key "policyName" is not used with policyArn/],
      [`{ policyArn: "${ARN}", manage: true }`, /networkFirewall\.manage: key "manage" is not used with policyArn/],
      ['{ allow: [api.stripe.com] }', /networkFirewall\.policyName: missing required key "policyName" \(or policyArn\)/],
    ];
    for (const [nf, message] of cases) {
      const run = await runOrg({ 'policies/dev/environment.yaml': devEnvironment(`networkFirewall: ${nf}\n`) });
      expect(run.code, nf).toBe(1);
      expect(run.stderr.join('\n'), nf).toMatch(new RegExp(`^policies/dev/environment\\.yaml:13:\\d+: ${message.source}`, 'm'));
    }
    const managed = await runOrg({
      'policies/dev/environment.yaml': devEnvironment('networkFirewall: { policyName: egress, manage: true }\n'),
    });
    expect(managed.code, managed.stderr.join('\n')).toBe(0);
  });
});
