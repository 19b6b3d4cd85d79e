/** `leastpath promote --to E`: soak measured on the default branch's history, then a verbatim copy. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectGolden } from '../golden/golden.js';
import { BASE, web } from '../validate/org.js';
import { cli, commitAndPush, fixture, ORG, writeFiles, type Fixture } from './helpers.js';

const WEB_V2 = web(`  - to: { workload: api }
    ports: [tcp/8080]
    why: renders pages from the API
  - to: { cidrs: [198.51.100.9/32] }
    ports: [tcp/8443]
    why: image resizing partner
`);

const fixtures: Fixture[] = [];
/** The organisation on 2026-11-01, then a change of dev's web workload merged on `changed`. */
async function upstreamChangedOn(changed: string): Promise<Fixture> {
  const fx = await fixture();
  fixtures.push(fx);
  await writeFiles(fx.work, { 'policies/dev/workloads/web.yaml': WEB_V2 });
  commitAndPush(fx, 'web calls the image partner', changed);
  return fx;
}
afterAll(async () => {
  for (const fx of fixtures) await fx.cleanup();
});

describe('promote: soak, then a verbatim copy into the target', () => {
  it('refuses while the upstream change is younger than soakDays: exit 1, no branch, no pull request', async () => {
    const fx = await upstreamChangedOn('2026-11-20');
    const r = await cli(fx, ['promote', '--to', 'stg']);
    expect(r.code).toBe(1);
    expect(r.stderr.join('\n')).toContain(
      'promotion refused: policies/dev last changed on the default branch on 2026-11-20, 3 days ago; stg needs 7 days of soak (promotable from 2026-11-27)',
    );
    expect(fx.gh.writes()).toEqual([]);
    expect(fx.gh.refSha('leastpath/promote-stg')).toBeNull();
    expect(fx.gh.pulls).toHaveLength(0);
  });

  it('an upstream change dated after today (a skewed clock) is refused as such, never "-16 days ago"', async () => {
    const fx = await upstreamChangedOn('2026-12-09');
    const r = await cli(fx, ['promote', '--to', 'stg']);
    expect(r.code).toBe(1);
    const err = r.stderr.join('\n');
    expect(err).toContain(
      "promotion refused: policies/dev last changed on the default branch on 2026-12-09, after today (2026-11-23) by this machine's clock: " +
        'check the clock (or LEASTPATH_TODAY); stg needs 7 days of soak (promotable from 2026-12-16)',
    );
    expect(err).not.toContain('days ago');
    expect(fx.gh.writes()).toEqual([]);
  });

  it('after the soak, opens the promotion pull request with the workloads and prefix lists copied verbatim', async () => {
    const fx = await upstreamChangedOn('2026-11-10');
    const r = await cli(fx, ['promote', '--to', 'stg']);
    expect(r.code, r.stderr.join('\n')).toBe(0);
    const branch = 'leastpath/promote-stg';
    expect(fx.gh.show(branch, 'policies/stg/workloads/web.yaml')).toBe(WEB_V2);
    expect(fx.gh.show(branch, 'policies/stg/prefix-lists.yaml')).toBe(BASE['policies/dev/prefix-lists.yaml']);
    expect(fx.gh.show(branch, 'policies/stg/environment.yaml')).toBe(fx.gh.show('main', 'policies/stg/environment.yaml'));
    expect(fx.gh.pulls).toHaveLength(1);
    const pr = fx.gh.pulls[0]!;
    expect(pr).toMatchObject({ head: branch, title: 'leastpath: promote dev to stg', labels: ['leastpath', 'env:stg', 'promotion'] });
    await expectGolden('pr/promote-stg.md', pr.body);

    const writes = fx.gh.writes().length;
    expect((await cli(fx, ['promote', '--to', 'stg'])).code).toBe(0);
    expect(fx.gh.writes()).toHaveLength(writes);
  });

  it('--dry-run after the soak writes nothing', async () => {
    const fx = await upstreamChangedOn('2026-11-10');
    const r = await cli(fx, ['promote', '--to', 'stg', '--dry-run']);
    expect(r.code, r.stderr.join('\n')).toBe(0);
    expect(r.stdout).toContain('would open pull request "leastpath: promote dev to stg"');
    expect(fx.gh.writes()).toEqual([]);
  });

  it('an environment without promoteFrom is a usage error', async () => {
    const fx = await upstreamChangedOn('2026-11-10');
    const r = await cli(fx, ['promote', '--to', 'dev']);
    expect(r.code).toBe(2);
    expect(r.stderr.join('\n')).toContain('no promoteFrom');
  });
});

describe('promote carries domain intent; the DNS Firewall stays per environment', () => {
  const WEB_NAMES = web(`  - to: { workload: api }
    ports: [tcp/8080]
    why: renders pages from the API
  - to: { domains: [api.stripe.com, "*.githubusercontent.com"] }
    ports: [tcp/443]
    why: card payments and release downloads
`);
  const firewall = (mode: string) => `dnsFirewall: { mode: ${mode}, allow: ["*.amazonaws.com"] }\n`;

  it('copies the `to: { domains }` rule into the target, while dev alerts and stg blocks', async () => {
    const fx = await fixture({
      committed: {
        'policies/dev/environment.yaml': BASE['policies/dev/environment.yaml']! + firewall('alert'),
        'policies/stg/environment.yaml': ORG['policies/stg/environment.yaml']! + firewall('block'),
      },
    });
    fixtures.push(fx);
    await writeFiles(fx.work, { 'policies/dev/workloads/web.yaml': WEB_NAMES });
    commitAndPush(fx, 'web calls the card processor by name', '2026-11-10');
    const r = await cli(fx, ['promote', '--to', 'stg']);
    expect(r.code, r.stderr.join('\n')).toBe(0);
    const branch = 'leastpath/promote-stg';
    expect(fx.gh.show(branch, 'policies/stg/workloads/web.yaml')).toBe(WEB_NAMES);
    expect(fx.gh.show(branch, 'policies/stg/environment.yaml')).toContain(firewall('block'));

    // The promotion merged: each environment's stack has the domain rule's names on its own firewall's allowlist.
    await writeFiles(fx.work, { 'policies/stg/workloads/web.yaml': fx.gh.show(branch, 'policies/stg/workloads/web.yaml') });
    const out = join(fx.work, 'synth-out');
    const synth = await cli(fx, ['synth', '--out', out]);
    expect(synth.code, synth.stderr.join('\n')).toBe(0);
    for (const [env, action] of [
      ['dev', 'ALERT'],
      ['stg', 'BLOCK'],
    ] as const) {
      const tf = JSON.parse(await readFile(join(out, 'stacks', env, 'cdk.tf.json'), 'utf8')) as {
        resource: Record<string, Record<string, Record<string, unknown>>>;
      };
      const lists = Object.values(tf.resource.aws_route53_resolver_firewall_domain_list!).map((l) => l.domains);
      expect(lists, env).toContainEqual(['*.amazonaws.com', '*.githubusercontent.com', 'api.stripe.com']);
      const rest = Object.values(tf.resource.aws_route53_resolver_firewall_rule!).find((x) => x.action !== 'ALLOW')!;
      expect(rest.action, env).toBe(action);
    }
  });
});
