/**
 * plan's name layer on the committed example: the DNS what-if against the generator's own queries, and a domain
 * rule resolved to the addresses the generator's name answered with (provenance intent-domain).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleDnsTruth } from '../../examples/dns-scenario.js';
import { WINDOW_END, WINDOW_START } from '../../examples/scenario.js';
import { nameMatches } from '../../core/domains.js';
import { runPlan } from '../../cli/commands/plan.js';
import { suggestDomains } from '../../generators/dns-plan.js';
import { renderObservedYaml } from '../../observe/assemble.js';
import { devEnvironment, runOrg } from '../validate/org.js';

const root = join(import.meta.dirname, '..', '..');
const TODAY = '2026-11-23';

describe.each(['dev', 'prod'] as const)('plan %s with query logs', (env) => {
  it('lists every name a workload resolved that the allowlist would not allow, with its queries', async () => {
    const { plan } = await runPlan({ root, env, today: TODAY, baseline: false });
    const allow = ['*.amazonaws.com', '*.corp.internal', 'api.saas-vendor.example.com'];
    expect(plan.dnsWhatIf!.allowlist).toEqual(allow);
    expect(plan.dnsWhatIf!.mode).toBe(env === 'prod' ? 'block' : 'alert');
    const { scenario, queries } = exampleDnsTruth(env);
    const mine = queries.filter((q) => q.workload !== null && q.vpcId === scenario.vpcId && q.ts >= WINDOW_START && q.ts < WINDOW_END);
    const expected = new Map<string, number>();
    for (const q of mine) {
      const answeredEver = mine.some((o) => o.workload === q.workload && o.name === q.name && o.rcode === 'NOERROR');
      if (!answeredEver || allow.some((a) => nameMatches(a, q.name))) continue;
      const key = `${q.workload}\t${q.name}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    const want = [...expected]
      .map(([k, queries]) => ({ workload: k.split('\t')[0], name: k.split('\t')[1], queries }))
      .sort((a, b) => (a.workload! < b.workload! ? -1 : a.workload! > b.workload! ? 1 : a.name! < b.name! ? -1 : 1));
    expect(plan.dnsWhatIf!.blocked).toEqual(want);
    // The webhooks are not on the allowlist; the SaaS provider's name is, and its CDN name behind it never counts.
    expect(plan.dnsWhatIf!.blocked.some((b) => b.name === 'hooks.customer-1.example.com')).toBe(true);
    expect(plan.dnsWhatIf!.blocked.some((b) => b.name.includes('saas-vendor'))).toBe(false);
  });

  it('turns the domain rule into the addresses its name answered with, as intent-domain rules', async () => {
    const { plan } = await runPlan({ root, env, today: TODAY, baseline: false });
    const { queries } = exampleDnsTruth(env);
    const addresses = new Set(
      queries
        .filter((q) => q.workload === 'api' && q.name === 'api.saas-vendor.example.com')
        .flatMap((q) => q.answers.filter((a) => a.Type === 'A').map((a) => `${a.Rdata}/32`)),
    );
    const domainRules = plan.rules.filter((r) => r.provenance === 'intent-domain');
    expect(domainRules.map((r) => [r.workload, r.destination, r.protocol, r.ports])).toEqual(
      [...addresses].map((a) => ['api', a, 'tcp', '443']),
    );
    // The observed rule it replaces is gone: the name explains the address.
    expect(plan.rules.filter((r) => r.provenance === 'observed' && addresses.has(r.destination))).toEqual([]);
    expect(plan.domainChurn).toEqual([
      expect.objectContaining({ workload: 'api', domains: ['api.saas-vendor.example.com'], addresses: addresses.size }),
    ]);
  });
});

describe('suggestDomains', () => {
  it('names the domain rule that explains a set of addresses, a wildcard where three names share an owner', () => {
    const entry = (destination: string, names: string[]) => ({
      destination,
      protocol: 'tcp',
      port: 443,
      service: null,
      flows: 1,
      bytes: 1,
      firstSeen: '2026-11-08',
      lastSeen: '2026-11-08',
      decidedBy: 'tcp-flags' as const,
      names,
    });
    const o = {
      workload: 'web',
      environment: 'dev',
      window: { from: '2026-11-08', to: '2026-11-21' },
      source: { engine: 'duckdb' as const, records: 1, skippedWindows: 0 },
      egress: [
        entry('198.51.100.1/32', ['a.cdn.example.com']),
        entry('198.51.100.2/32', ['b.cdn.example.com']),
        entry('198.51.100.3/32', ['c.example.com']),
        entry('198.51.100.4/32', ['api.stripe.com']),
        entry('198.51.100.5/32', []),
      ],
      rejected: [],
    };
    expect(suggestDomains(o, ['198.51.100.1/32', '198.51.100.2/32', '198.51.100.3/32', '198.51.100.4/32', '198.51.100.5/32'])).toEqual({
      domains: ['*.example.com', 'api.stripe.com'],
      explained: 4,
    });
  });
});

describe('a quota no merge can meet', () => {
  it('suggests the domain rule that would explain the addresses, by the names on them', async () => {
    const entry = (destination: string, names: string[]) => ({
      destination,
      protocol: 'tcp',
      port: 443,
      service: null,
      flows: 10,
      bytes: 1000,
      firstSeen: '2026-11-08',
      lastSeen: '2026-11-21',
      decidedBy: 'tcp-flags' as const,
      names,
    });
    const file = renderObservedYaml({
      workload: 'web',
      environment: 'dev',
      window: { from: '2026-11-08', to: '2026-11-21' },
      source: { engine: 'duckdb', records: 100, skippedWindows: 0 },
      egress: [entry('198.51.100.9/32', ['api.stripe.com']), entry('198.51.101.9/32', ['api.stripe.com'])],
      rejected: [],
      domains: [],
    });
    const run = await runOrg(
      {
        'policies/dev/environment.yaml': devEnvironment('quotas: { rulesPerGroup: 2, naclRulesPerDirection: 20 }\n'),
        'observed/dev/web.yaml': file,
      },
      ['plan', '--env', 'dev'],
    );
    expect(run.code).toBe(1);
    expect(run.stderr.join('\n')).toContain(
      'names explain 2 of the 2 observed addresses: a rule `to: { domains: [api.stripe.com] }` would allow them by name',
    );
  });
});

describe('a domain rule nothing resolved yet', () => {
  it('is a warning at the rule: it allows nothing until observe sees the names resolve', async () => {
    const run = await runOrg(
      {
        'policies/dev/workloads/web.yaml':
          'workload: web\nowner: team-web\nobserved: adopt\negress:\n  - to: { domains: [api.stripe.com] }\n    ports: [tcp/443]\n    why: card payments\n',
      },
      ['plan', '--env', 'dev'],
    );
    expect(run.code, run.stderr.join('\n')).toBe(0);
    expect(run.stderr.join('\n')).toMatch(
      /^policies\/dev\/workloads\/web\.yaml:5:\d+: egress\[0\]\.to\.domains: warning: no address observed for api\.stripe\.com/m,
    );
  });
});

describe('a domain rule and a deny entry', () => {
  it('never turns a query-log answer that a deny entry names into a rule', async () => {
    const file = renderObservedYaml({
      workload: 'web',
      environment: 'dev',
      window: { from: '2026-11-08', to: '2026-11-21' },
      source: { engine: 'duckdb', records: 100, skippedWindows: 0 },
      egress: [],
      rejected: [],
      domains: [
        {
          name: 'api.stripe.com',
          queries: 4,
          connected: false,
          firstSeen: '2026-11-08',
          lastSeen: '2026-11-21',
          addresses: ['192.0.2.200', '198.51.100.9'],
        },
      ],
    });
    const run = await runOrg(
      {
        'policies/dev/workloads/web.yaml':
          'workload: web\nowner: team-web\nobserved: adopt\negress:\n  - to: { domains: [api.stripe.com] }\n    ports: [tcp/443]\n    why: card payments\n' +
          'deny:\n  - { to: { cidrs: [192.0.2.200/32] }, why: "under investigation, IR-42" }\n',
        'observed/dev/web.yaml': file,
      },
      ['plan', '--env', 'dev', '--format', 'json'],
    );
    expect(run.code, run.stderr.join('\n')).toBe(0);
    const plan = JSON.parse(run.stdout) as { rules: { provenance: string; destination: string }[] };
    expect(plan.rules.filter((r) => r.provenance === 'intent-domain').map((r) => r.destination)).toEqual(['198.51.100.9/32']);
  });
});

describe('a domain rule whose name answers inside the VPC or link-local', () => {
  const observedWeb = renderObservedYaml({
    workload: 'web',
    environment: 'dev',
    window: { from: '2026-11-08', to: '2026-11-21' },
    source: { engine: 'duckdb', records: 100, skippedWindows: 0 },
    egress: [],
    rejected: [],
    domains: [
      {
        name: 'api.stripe.com',
        queries: 4,
        connected: false,
        firstSeen: '2026-11-08',
        lastSeen: '2026-11-21',
        addresses: ['10.20.3.4', '169.254.169.254', '198.51.100.9', 'fe80::1'],
      },
      {
        name: 'metadata.example.com',
        queries: 2,
        connected: false,
        firstSeen: '2026-11-08',
        lastSeen: '2026-11-21',
        addresses: ['10.20.1.7', '169.254.170.2'],
      },
    ],
  });

  /** plan --format json of web with one domain rule over observedWeb: its intent-domain destinations and stderr. */
  async function planWeb(domain: string, port: string): Promise<{ destinations: string[]; stderr: string }> {
    const run = await runOrg(
      {
        'policies/dev/workloads/web.yaml': `workload: web\nowner: team-web\nobserved: adopt\negress:\n  - to: { domains: [${domain}] }\n    ports: [${port}]\n    why: by name\n`,
        'observed/dev/web.yaml': observedWeb,
      },
      ['plan', '--env', 'dev', '--format', 'json'],
    );
    expect(run.code, run.stderr.join('\n')).toBe(0);
    const plan = JSON.parse(run.stdout) as { rules: { provenance: string; destination: string }[] };
    return {
      destinations: plan.rules.filter((r) => r.provenance === 'intent-domain').map((r) => r.destination),
      stderr: run.stderr.join('\n'),
    };
  }

  it('opens only the public answers: the VPC and link-local addresses are allowed or not by their own rules', async () => {
    expect((await planWeb('api.stripe.com', 'tcp/443')).destinations).toEqual(['198.51.100.9/32']);
  });

  it('warns that a name answered only inside the VPC allows nothing, and says why', async () => {
    const { destinations, stderr } = await planWeb('metadata.example.com', 'tcp/80');
    expect(destinations).toEqual([]);
    expect(stderr).toMatch(
      /web\.yaml:5:\d+: egress\[0\]\.to\.domains: warning: metadata\.example\.com resolved only inside the VPC or link-local in the window \(2 addresses\)/,
    );
  });
});
