/** The stack's own checks (defence in depth): what must never reach Terraform throws a clear StackError. */
import { App } from 'cdktn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedEnvironment } from '../../generators/model.js';
import { StackError } from '../../stacks/guard-rails.js';
import { renderStack } from '../../stacks/render.js';
import { EXCEPTION, emptyEnv, group, removeTemps, richEnv, rule, tempDir } from './fixtures.js';

let outdir: string;
beforeAll(async () => {
  outdir = await tempDir('leastpath-guard-');
});
afterAll(removeTemps);

function render(env: ResolvedEnvironment): void {
  renderStack(new App({ outdir, stackTraces: false }), env);
}

/** The rich fixture with one change. */
function richWith(change: (env: ResolvedEnvironment) => void): ResolvedEnvironment {
  const env = richEnv();
  change(env);
  return env;
}

function web(...rules: ReturnType<typeof rule>[]): ResolvedEnvironment {
  return emptyEnv({ groups: [group('web', rules)] });
}

/** An observed rule and one adopted by name (observed-domain) both stand on evidence of one port. */
const ONE_PORT = (['observed', 'observed-domain'] as const).flatMap((provenance): [string, ResolvedEnvironment, RegExp][] => {
  const to = { kind: 'cidr', cidr: '198.51.100.9/32' } as const;
  return [
    [
      `an ${provenance} tcp rule without a port (every port)`,
      web(rule('web', to, 'tcp', { provenance })),
      /an observed tcp destination without one port \(-\) would allow every port/,
    ],
    [
      `an ${provenance} udp rule over a port range`,
      web(rule('web', to, 'udp', { from: 1, to: 65535, provenance })),
      /an observed udp destination without one port \(1-65535\)/,
    ],
  ];
});

describe('guard rails', () => {
  it.each([
    [
      '0.0.0.0/0 without an exception',
      web(rule('web', { kind: 'cidr', cidr: '0.0.0.0/0' }, 'tcp', { from: 443 })),
      /egress to 0\.0\.0\.0\/0 without an exception/,
    ],
    ['::/0 without an exception', web(rule('web', { kind: 'cidr', cidr: '::/0' }, 'all')), /egress to ::\/0 without an exception/],
    ...ONE_PORT,
    [
      'more rules than the quota',
      emptyEnv({
        groups: [
          group(
            'web',
            [
              rule('web', { kind: 'cidr', cidr: '10.0.0.1/32' }, 'tcp', { from: 1 }),
              rule('web', { kind: 'cidr', cidr: '10.0.0.2/32' }, 'tcp', { from: 1 }),
            ],
            { quota: { workload: 'web', limit: 1, rules: 2, prefixListEntries: 0, used: 2 } },
          ),
        ],
      }),
      /web has 2 egress rules, over its quota of 1/,
    ],
  ])('%s throws', (_what, env, message) => {
    expect(() => render(env)).toThrow(StackError);
    expect(() => render(env)).toThrow(message);
  });

  it('0.0.0.0/0 and ::/0 with an exception are rendered', () => {
    expect(() =>
      render(
        web(
          rule('web', { kind: 'cidr', cidr: '0.0.0.0/0' }, 'tcp', { from: 443, exception: EXCEPTION }),
          rule('web', { kind: 'cidr', cidr: '::/0' }, 'tcp', { from: 443, exception: EXCEPTION }),
        ),
      ),
    ).not.toThrow();
  });

  it('names the source of the offending rule', () => {
    const env = web(rule('web', { kind: 'cidr', cidr: '0.0.0.0/0' }, 'tcp', { from: 443, index: 7 }));
    expect(() => render(env)).toThrow('policies/dev/workloads/web.yaml egress[7]');
  });

  it('audit mode renders nothing, so it has nothing to refuse', () => {
    const env = web(rule('web', { kind: 'cidr', cidr: '0.0.0.0/0' }, 'all'));
    expect(() => render({ ...env, mode: 'audit' })).not.toThrow();
  });
});

describe('a model the stack cannot render', () => {
  it.each<[string, (env: ResolvedEnvironment) => void, RegExp]>([
    [
      'a rule to a workload without a group',
      (e) => e.groups[0]!.rules.push(rule('web', { kind: 'workload', workload: 'ghost' }, 'tcp', { from: 1 })),
      /workload ghost, which has no group/,
    ],
    [
      'a rule to an undefined prefix list',
      (e) => e.groups[0]!.rules.push(rule('web', { kind: 'prefixList', name: 'ghost' }, 'tcp', { from: 1 })),
      /prefix list ghost, which this environment does not define/,
    ],
    [
      'a rule to an endpoint that is not an interface endpoint',
      (e) => e.groups[0]!.rules.push(rule('web', { kind: 'endpoint', service: 's3' }, 'tcp', { from: 443 })),
      /the s3 interface endpoint, which this environment does not define/,
    ],
    [
      'a rule to the AWS list of a service without gateway endpoint',
      (e) => e.groups[0]!.rules.push(rule('web', { kind: 'awsPrefixList', service: 'sts' }, 'tcp', { from: 443 })),
      /sts gateway endpoint/,
    ],
    [
      'a rule to an interface endpoint that does not admit the workload',
      (e) => e.groups[0]!.rules.push(rule('web', { kind: 'endpoint', service: 'sts' }, 'tcp', { from: 443 })),
      /sts endpoint does not list workload web/,
    ],
    [
      'an endpoint admitting a workload without a group',
      (e) => e.endpoints[3]!.workloads.push('ghost'),
      /sts endpoint admits workload ghost, which has no group/,
    ],
    [
      'the same rule twice',
      (e) => e.groups[0]!.rules.push({ ...e.groups[0]!.rules[0]!, why: 'again' }),
      /would be the same Terraform resource egress_web_tcp-8080_sg_api/,
    ],
    ['two groups of one workload', (e) => e.groups.push(group('web', [])), /the group of workload web and the group of workload web/],
    [
      'a tcp range with one end',
      (e) => e.groups[0]!.rules.push({ ...rule('web', { kind: 'cidr', cidr: '10.0.0.0/8' }, 'tcp'), fromPort: 80 }),
      /give both ends of the range or neither/,
    ],
    [
      'a backwards range',
      (e) => e.groups[0]!.rules.push(rule('web', { kind: 'cidr', cidr: '10.0.0.0/8' }, 'tcp', { from: 90, to: 80 })),
      /not a range within 0-65535/,
    ],
    [
      'a port above 65535',
      (e) => e.groups[0]!.rules.push(rule('web', { kind: 'cidr', cidr: '10.0.0.0/8' }, 'udp', { from: 70000 })),
      /not a range within 0-65535/,
    ],
    [
      'icmp code without a type',
      (e) => e.groups[0]!.rules.push(rule('web', { kind: 'cidr', cidr: '10.0.0.0/8' }, 'icmp', { from: -1, to: 0 })),
      /not a valid ICMP type and code/,
    ],
    [
      'all protocols with ports',
      (e) => e.groups[0]!.rules.push({ ...rule('web', { kind: 'cidr', cidr: '10.0.0.0/8' }, 'all'), fromPort: 1, toPort: 2 }),
      /protocol all has no ports/,
    ],
    [
      'a protocol number above 255',
      (e) => e.groups[0]!.rules.push(rule('web', { kind: 'cidr', cidr: '10.0.0.0/8' }, 300)),
      /protocol 300 is not an IANA protocol number/,
    ],
    [
      'a CIDR with host bits',
      (e) => e.groups[0]!.rules.push(rule('web', { kind: 'cidr', cidr: '10.0.0.1/8' }, 'tcp', { from: 1 })),
      /host bits set \(the network is 10\.0\.0\.0\/8\)/,
    ],
    [
      'something that is not a CIDR',
      (e) => e.groups[0]!.rules.push(rule('web', { kind: 'cidr', cidr: 'example.com' }, 'tcp', { from: 1 })),
      /"example\.com" is not a CIDR/,
    ],
    [
      'a rule listed in another group',
      (e) => e.groups[0]!.rules.push(rule('api', { kind: 'cidr', cidr: '10.0.0.0/8' }, 'tcp', { from: 1 })),
      /a rule of workload api is listed in the group of web/,
    ],
    ['a prefix list over its max entries', (e) => (e.prefixLists[0]!.maxEntries = 1), /2 entries exceed its max entries 1/],
    [
      'a prefix list entry of the other family',
      (e) => e.prefixLists[0]!.entries.push({ cidr: '2001:db8::/32', description: '' }),
      /2001:db8::\/32 is not an IPv4 CIDR/,
    ],
    ['a NACL rule number of 0', (e) => (e.quarantine[0]!.ruleNumber = 0), /rule number 0 is outside 1-32766/],
    [
      'two NACL rules with one number',
      (e) => (e.quarantine[1]!.ruleNumber = 1),
      /would be the same Terraform resource nacl_acl-0123_ingress_1/,
    ],
    ['an adopt id that is not a group id', (e) => (e.groups[1]!.adoptId = 'web-sg'), /adopts "web-sg", which is not a security group id/],
    ['a gateway endpoint without route tables', (e) => (e.endpoints[0]!.routeTables = []), /s3 gateway endpoint has no route tables/],
    [
      'a workload whose group name is an endpoint group name',
      (e) => e.groups.push(group('sts-vpce', [])),
      /the group of the sts endpoint and the group of workload sts-vpce would both be the security group named leastpath-dev-sts-vpce/,
    ],
    ['an account that is not 12 digits', (e) => (e.account = '1234'), /account "1234" is not a 12-digit AWS account id/],
    ['an environment name that cannot name a folder', (e) => (e.environment = '../prod'), /must match \[a-z0-9\]\[a-z0-9-\]\*/],
  ])('%s', (_what, change, message) => {
    expect(() => render(richWith(change))).toThrow(message);
  });
});
