/**
 * Resolution, rule by rule, through the real CLI: a small organisation in a temp folder, `leastpath plan
 * --format json`, and assertions on what a reviewer would read.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../generators/plan.js';
import type { ObservedEgress } from '../../model/types.js';
import { compareEntries, renderObservedYaml } from '../../observe/assemble.js';
import { BASE, devEnvironment, runCli, web, type Files } from '../validate/org.js';

function observed(workload: string, egress: Partial<ObservedEgress>[], addresses?: string[]): string {
  return renderObservedYaml({
    workload,
    environment: 'dev',
    window: { from: '2026-11-08', to: '2026-11-21' },
    source: { engine: 'duckdb', records: 100, skippedWindows: 0 },
    ...(addresses ? { addresses } : {}),
    egress: egress
      .map((e) => ({
        destination: '203.0.113.10/32',
        protocol: 'tcp',
        port: 443,
        service: null,
        flows: 10,
        bytes: 1000,
        firstSeen: '2026-11-08',
        lastSeen: '2026-11-21',
        decidedBy: 'tcp-flags' as const,
        ...e,
      }))
      .sort(compareEntries),
    rejected: [],
  });
}

async function writeOrg(files: Files): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'leastpath-plan-'));
  for (const [rel, content] of Object.entries({ ...BASE, ...files })) {
    if (content === null) continue;
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), content);
  }
  return dir;
}

async function plan(files: Files): Promise<{ code: number; plan: PlanDocument; stderr: string[] }> {
  const dir = await writeOrg(files);
  const r = await runCli(['--root', dir, 'plan', '--env', 'dev', '--format', 'json']);
  return {
    code: r.code,
    plan: r.stdout ? (JSON.parse(r.stdout) as PlanDocument) : (undefined as unknown as PlanDocument),
    stderr: r.stderr,
  };
}

const rulesOf = (p: PlanDocument, w: string) =>
  p.rules.filter((r) => r.workload === w).map((r) => `${r.destination} ${r.protocol}/${r.ports} ${r.provenance}`);

describe('resolution: intent', () => {
  it('workload, service, prefix list and CIDR destinations each become rules with one peer, keeping their why', async () => {
    const { code, plan: p } = await plan({
      // (the secretsmanager interface endpoint needs subnets, or synth refuses it: synth-ready)
      'policies/dev/environment.yaml': devEnvironment('').replace(
        'routeTables: [rtb-0a1b2c3d]',
        'routeTables: [rtb-0a1b2c3d], subnets: [subnet-0a1b2c3d]',
      ),
      'policies/dev/workloads/web.yaml': web(`  - to: { workload: api }
    ports: [tcp/8080]
    why: renders pages from the API
  - to: { prefixList: card-partner }
    ports: [tcp/443]
    why: card payments
  - to: { service: secretsmanager }
    why: reads credentials
  - to: { cidrs: [198.51.100.7/32, "2001:db8:ffff::/64"] }
    ports: [tcp/443, udp/53]
    why: partner API and its resolver
`),
    });
    expect(code).toBe(0);
    expect(rulesOf(p, 'web')).toEqual([
      'workload:api tcp/8080 intent',
      'service:secretsmanager tcp/443 intent',
      'prefixList:card-partner tcp/443 intent',
      '198.51.100.7/32 tcp/443 intent',
      '198.51.100.7/32 udp/53 intent',
      '2001:db8:ffff::/64 tcp/443 intent',
      '2001:db8:ffff::/64 udp/53 intent',
    ]);
    expect(p.rules.find((r) => r.destination === 'workload:api')).toMatchObject({
      why: 'renders pages from the API',
      source: 'policies/dev/workloads/web.yaml egress[0]',
    });
    expect(p.endpoints.map((e) => [e.service, e.type, e.workloads])).toEqual([
      ['s3', 'Gateway', ['api']],
      ['secretsmanager', 'Interface', ['web']],
    ]);
    expect(p.prefixLists.map((l) => [l.name, l.entries.map((e) => e.cidr), l.maxEntries])).toEqual([
      ['card-partner', ['203.0.113.0/28'], 1],
    ]);
  });

  it('quota counts a referenced prefix list by its max entries and an AWS-managed list by its weight', async () => {
    const { plan: p } = await plan({
      'policies/dev/prefix-lists.yaml': 'prefixLists:\n  card-partner: { cidrs: [203.0.113.0/28], why: card processor, maxEntries: 20 }\n',
      'policies/dev/workloads/web.yaml': web(`  - to: { prefixList: card-partner }
    ports: [tcp/443]
    why: card payments
  - to: { service: s3 }
    why: assets
`),
    });
    expect(p.quota.find((q) => q.workload === 'web')).toEqual({ workload: 'web', limit: 60, rules: 2, prefixListEntries: 19, used: 21 });
  });

  it('exceptions are listed with the days left, and flagged when they expire within the guard-rail window', async () => {
    const { plan: p } = await plan({
      'policies/dev/workloads/web.yaml': web(`  - to: { cidrs: [0.0.0.0/0] }
    ports: [tcp/443]
    why: customer webhooks
    exception: { reason: customer-defined URLs, owner: jane@example.com, expires: 2026-12-10 }
`),
    });
    expect(p.exceptions).toEqual([
      expect.objectContaining({
        workload: 'web',
        destination: '0.0.0.0/0',
        ports: 'tcp/443',
        owner: 'jane@example.com',
        expires: '2026-12-10',
        daysLeft: 17,
        expiringSoon: true,
      }),
    ]);
    expect(p.rules.find((r) => r.destination === '0.0.0.0/0')!.exception).toMatchObject({ owner: 'jane@example.com' });
  });
});

describe('resolution: observed evidence', () => {
  it('adopt: each observed destination becomes a /32 rule whose why says what was seen (and stays put when only the evidence moves)', async () => {
    const { plan: p } = await plan({
      'observed/dev/web.yaml': observed('web', [{ destination: '198.51.100.9/32', port: 8443, flows: 42 }]),
    });
    expect(rulesOf(p, 'web')).toContain('198.51.100.9/32 tcp/8443 observed');
    expect(p.rules.find((r) => r.destination === '198.51.100.9/32')).toMatchObject({
      why: 'observed egress in VPC flow logs',
      flows: 42,
      lastSeen: '2026-11-21',
      decidedBy: 'tcp-flags',
      source: 'observed/dev/web.yaml egress[0]',
    });
    // A later window in which another rule decided the initiator changes the evidence, not the why (the AWS description).
    const { plan: later } = await plan({
      'observed/dev/web.yaml': observed('web', [{ destination: '198.51.100.9/32', port: 8443, flows: 42, decidedBy: 'reverse-flow' }]),
    });
    const rule = later.rules.find((r) => r.destination === '198.51.100.9/32')!;
    expect(rule.decidedBy).toBe('reverse-flow');
    expect(rule.why).toBe(p.rules.find((r) => r.destination === '198.51.100.9/32')!.why);
  });

  it('observed destinations become rules in canonical form, so two spellings of one address are one rule', async () => {
    const { plan: p } = await plan({
      'observed/dev/web.yaml': observed('web', [{ destination: '2001:DB8:0:0::9/128' }, { destination: '2001:db8::9/128', port: 8443 }]),
    });
    expect(rulesOf(p, 'web').filter((r) => r.startsWith('2001'))).toEqual([
      '2001:db8::9/128 tcp/443 observed',
      '2001:db8::9/128 tcp/8443 observed',
    ]);
  });

  it('an observed destination an intent rule covers adds no rule', async () => {
    const { plan: p } = await plan({
      'policies/dev/workloads/web.yaml': web(`  - to: { cidrs: [0.0.0.0/0] }
    ports: [tcp/443]
    why: customer webhooks
    exception: { reason: customer-defined URLs, owner: jane@example.com, ticket: SEC-1, expires: 2027-03-01 }
`),
      'observed/dev/web.yaml': observed('web', [{ destination: '198.51.100.9/32' }, { destination: '198.51.100.9/32', port: 8443 }]),
    });
    expect(rulesOf(p, 'web')).toEqual(['0.0.0.0/0 tcp/443 intent', '198.51.100.9/32 tcp/8443 observed']);
    expect(p.notAdopted).toEqual([expect.objectContaining({ destination: '198.51.100.9/32', port: 443, reason: 'covered' })]);
  });

  it('deny keeps an observed destination out, and the what-if lists it as what the change would break', async () => {
    const { plan: p } = await plan({
      'policies/dev/workloads/web.yaml': web(
        `  - to: { workload: api }
    ports: [tcp/8080]
    why: renders pages
`,
        '  - { to: { cidrs: [192.0.2.200/32] }, why: "under investigation, IR-42" }\n',
      ),
      'observed/dev/web.yaml': observed('web', [{ destination: '192.0.2.200/32', flows: 7 }]),
    });
    expect(rulesOf(p, 'web')).toEqual(['workload:api tcp/8080 intent']);
    expect(p.whatIf.denied).toEqual([
      { workload: 'web', destination: '192.0.2.200/32', protocol: 'tcp', port: 443, flows: 7, lastSeen: '2026-11-21', reason: 'denied' },
    ]);
  });

  it('review lists observed destinations without generating them; ignore drops them; both show in the what-if', async () => {
    const review = BASE['policies/dev/workloads/web.yaml']!.replace('observed: adopt', 'observed: review');
    const { plan: p } = await plan({
      'policies/dev/workloads/web.yaml': review,
      'observed/dev/web.yaml': observed('web', [{ destination: '198.51.100.9/32', flows: 3 }]),
    });
    expect(rulesOf(p, 'web')).toEqual(['workload:api tcp/8080 intent']);
    expect(p.notAdopted.map((n) => [n.destination, n.reason])).toEqual([['198.51.100.9/32', 'review']]);
    expect(p.whatIf.denied.map((d) => [d.destination, d.reason])).toEqual([['198.51.100.9/32', 'review']]);
  });

  it('a destination inside another workload becomes a security-group reference, not a /32', async () => {
    const { plan: p } = await plan({
      'observed/dev/api.yaml': observed('api', [{ destination: '10.20.1.15/32', port: 9000 }], ['10.20.2.10/32']),
      'observed/dev/web.yaml': observed('web', [{ destination: '10.20.2.10/32', port: 9090 }], ['10.20.1.15/32']),
    });
    expect(rulesOf(p, 'api')).toContain('workload:web tcp/9000 observed');
    // api is selected by interface: its address is known from its observed file
    expect(rulesOf(p, 'web')).toContain('workload:api tcp/9090 observed');
  });

  it('observed S3 traffic is offered the gateway endpoint instead of /32 rules', async () => {
    const { plan: p } = await plan({
      'observed/dev/web.yaml': observed('web', [
        { destination: '52.218.16.34/32', service: 'S3' },
        { destination: '52.218.40.173/32', service: 'S3' },
      ]),
    });
    expect(rulesOf(p, 'web')).toEqual(['workload:api tcp/8080 intent', 'service:s3 tcp/443 observed']);
    expect(p.endpoints.find((e) => e.service === 's3')!.workloads).toEqual(['api', 'web']);
    expect(p.whatIf.denied).toEqual([]);
  });

  it("an endpoint's why is its first use in workload order: api's intent rule, else web's observed traffic", async () => {
    const s3 = observed('web', [{ destination: '52.218.16.34/32', service: 'S3' }]);
    const both = await plan({ 'observed/dev/web.yaml': s3 });
    expect(both.plan.endpoints.map((e) => [e.service, e.workloads, e.why])).toEqual([['s3', ['api', 'web'], 'reads objects']]);
    const apiWithout = BASE['policies/dev/workloads/api.yaml']!.replace(/egress:[\s\S]*/, 'egress: []\n');
    const webOnly = await plan({ 'observed/dev/web.yaml': s3, 'policies/dev/workloads/api.yaml': apiWithout });
    expect(webOnly.plan.endpoints.map((e) => [e.service, e.workloads, e.why])).toEqual([['s3', ['web'], 'observed S3 traffic']]);
  });

  it('what-if: a flow no rule allows (a missing intent rule, observed: review) is reported as broken, with its flows', async () => {
    const review = BASE['policies/dev/workloads/api.yaml']!.replace('observed: adopt', 'observed: review');
    const { plan: p } = await plan({
      'policies/dev/workloads/api.yaml': review,
      'observed/dev/api.yaml': observed('api', [
        { destination: '52.218.16.34/32', service: 'S3', flows: 5 },
        { destination: '10.20.10.5/32', port: 5432, flows: 1200 },
      ]),
    });
    expect(p.whatIf.denied).toEqual([
      { workload: 'api', destination: '10.20.10.5/32', protocol: 'tcp', port: 5432, flows: 1200, lastSeen: '2026-11-21', reason: 'review' },
    ]);
    expect(p.summary).toMatchObject({ breaksFlows: 1200, breaksWorkloads: 1 });
  });
});

describe('resolution: quota', () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => ({ destination: `198.51.100.${i * 2}/32`, flows: 1 }));

  it('over the quota, observed destinations merge into the fewest CIDRs over-allowing the least; nothing observed breaks', async () => {
    const { code, plan: p } = await plan({
      'policies/dev/environment.yaml': devEnvironment('quotas: { rulesPerGroup: 5, naclRulesPerDirection: 20 }\n'),
      'observed/dev/web.yaml': observed('web', many(12)),
    });
    expect(code).toBe(0);
    const web = p.quota.find((q) => q.workload === 'web')!;
    expect(web.used).toBeLessThanOrEqual(5);
    expect(p.whatIf.denied).toEqual([]);
    expect(p.compaction).toHaveLength(1);
    expect(p.compaction[0]).toMatchObject({ workload: 'web', before: 12, after: 4 });
    // 12 addresses .0, .2, ..., .22 in 4 CIDRs: the best cover allows 12 addresses never seen (e.g. four /29-ish blocks)
    expect(Number(p.compaction[0]!.extraAddresses)).toBeGreaterThan(0);
  });

  it('a quota that no merge can meet is an error naming the file and what to do', async () => {
    const { code, stderr } = await plan({
      'policies/dev/environment.yaml': devEnvironment('quotas: { rulesPerGroup: 1, naclRulesPerDirection: 20 }\n'),
      'observed/dev/web.yaml': observed('web', [{ destination: '198.51.100.9/32' }, { destination: '198.51.100.9/32', port: 80 }]),
    });
    expect(code).toBe(1);
    expect(stderr.join('\n')).toMatch(
      /^policies\/dev\/workloads\/web\.yaml:1:1: <root>: the security group of web needs 3 rule units at least but rulesPerGroup is 1/m,
    );
  });
  it('no merge goes broader than the guard rails allow: a quota only a CIDR broader than /24 could meet is an error', async () => {
    // One intent rule leaves one unit for two destinations in different /24s: only 198.51.100.0/23 would hold both.
    const { code, stderr } = await plan({
      'policies/dev/environment.yaml': devEnvironment('quotas: { rulesPerGroup: 2, naclRulesPerDirection: 20 }\n'),
      'observed/dev/web.yaml': observed('web', [{ destination: '198.51.100.9/32' }, { destination: '198.51.101.9/32' }]),
    });
    expect(code).toBe(1);
    expect(stderr.join('\n')).toContain(
      'policies/dev/workloads/web.yaml:1:1: <root>: the security group of web needs 3 rule units at least but rulesPerGroup is 2, ' +
        'even merging observed destinations up to /24 (IPv4) and /56 (IPv6), the guard-rail limit: raise quotas.rulesPerGroup',
    );
  });

  it('merges up to the limit of guardrails.yaml when it is tighter, and says so when that cannot fit', async () => {
    const files = {
      'policies/guardrails.yaml': 'exceptions: { maxPrefixIPv4: 29, maxPrefixIPv6: 64 }\n',
      'policies/dev/environment.yaml': devEnvironment('quotas: { rulesPerGroup: 5, naclRulesPerDirection: 20 }\n'),
      'observed/dev/web.yaml': observed('web', many(12)),
    };
    // .0-.22 in four CIDRs would take 198.51.100.0/28; at /29 at most, three /29s are the best cover.
    const { code, plan: p } = await plan(files);
    expect(code).toBe(0);
    expect(p.compaction).toEqual([expect.objectContaining({ workload: 'web', before: 12, after: 3, extraAddresses: '12' })]);
    expect(rulesOf(p, 'web').filter((r) => r.endsWith('observed'))).toEqual([
      '198.51.100.0/29 tcp/443 observed',
      '198.51.100.8/29 tcp/443 observed',
      '198.51.100.16/29 tcp/443 observed',
    ]);
    const tight = await plan({
      ...files,
      'policies/dev/environment.yaml': devEnvironment('quotas: { rulesPerGroup: 3, naclRulesPerDirection: 20 }\n'),
    });
    expect(tight.code).toBe(1);
    expect(tight.stderr.join('\n')).toMatch(
      /needs 4 rule units at least but rulesPerGroup is 3, even merging observed destinations up to \/29 \(IPv4\) and \/64 \(IPv6\)/,
    );
  });

  it('finds the rules a merge stands for whatever their spelling, keeping the evidence of each', async () => {
    // Destinations as a hand-edited file may spell them: upper-case IPv6, zero groups written out.
    const { code, plan: p } = await plan({
      'policies/dev/environment.yaml': devEnvironment('quotas: { rulesPerGroup: 3, naclRulesPerDirection: 20 }\n'),
      'observed/dev/web.yaml': observed('web', [
        { destination: '198.51.100.8/32', flows: 3 },
        { destination: '198.51.100.9/32', flows: 4 },
        { destination: '2001:DB8:0:0::1/128', flows: 5 },
        { destination: '2001:db8:0:0:0:0:0:2/128', flows: 6 },
      ]),
    });
    expect(code).toBe(0);
    expect(rulesOf(p, 'web')).toEqual([
      'workload:api tcp/8080 intent',
      '198.51.100.8/31 tcp/443 observed',
      '2001:db8::/126 tcp/443 observed',
    ]);
    expect(p.rules.find((r) => r.destination === '198.51.100.8/31')).toMatchObject({ flows: 7 });
    expect(p.rules.find((r) => r.destination === '2001:db8::/126')).toMatchObject({ flows: 11 });
  });
});

describe('resolution: quarantine', () => {
  it('forensics allows come first, then DENY all for IPv4 and IPv6, in both directions', async () => {
    const { plan: p } = await plan({
      'policies/dev/environment.yaml': devEnvironment(
        'quarantine:\n  - { subnet: subnet-0bad, networkAcl: acl-0123, reason: "IR-42 suspected compromise", allow: [10.99.0.0/24] }\n',
      ),
    });
    expect(p.quarantine.map((q) => `${q.egress ? 'out' : 'in'} #${q.ruleNumber} ${q.action} ${q.cidr}`)).toEqual([
      'in #1 allow 10.99.0.0/24',
      'in #2 deny 0.0.0.0/0',
      'in #3 deny ::/0',
      'out #1 allow 10.99.0.0/24',
      'out #2 deny 0.0.0.0/0',
      'out #3 deny ::/0',
    ]);
  });
});

describe('plan output', () => {
  it('is byte-identical on a re-run, and text starts with what would break', async () => {
    const files = { 'observed/dev/web.yaml': observed('web', [{ destination: '198.51.100.9/32' }]) };
    const dir = await writeOrg(files);
    const a = await runCli(['--root', dir, 'plan', '--env', 'dev', '--format', 'json']);
    const b = await runCli(['--root', dir, 'plan', '--env', 'dev', '--format', 'json']);
    expect(a.stdout).toBe(b.stdout);
    const text = await runCli(['--root', dir, 'plan', '--env', 'dev']);
    expect(text.stdout.split('\n')[1]).toMatch(/^This change would break no observed flow/);
  });

  it('compares with the committed baseline: rules added and removed since HEAD', async () => {
    const dir = await writeOrg({ 'observed/dev/web.yaml': observed('web', [{ destination: '198.51.100.9/32' }]) });
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', dir, ...args], {
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@example.com',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@example.com',
        },
      });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'baseline');
    await writeFile(join(dir, 'observed/dev/web.yaml'), observed('web', [{ destination: '198.51.100.10/32' }]));
    const r = await runCli(['--root', dir, 'plan', '--env', 'dev', '--format', 'json']);
    const p = JSON.parse(r.stdout) as PlanDocument;
    expect(p.changes.baseline).toMatch(/^HEAD \([0-9a-f]{12}\)$/);
    expect(p.changes.added.map((x) => x.destination)).toEqual(['198.51.100.10/32']);
    expect(p.changes.removed.map((x) => x.destination)).toEqual(['198.51.100.9/32']);
  });
});
