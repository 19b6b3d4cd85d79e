/** report's name layer on the example organisation, against the generator's own queries (examples/dns-scenario.ts). */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleDnsTruth, TUNNEL_DOMAIN } from '../../examples/dns-scenario.js';
import { WINDOW_END, WINDOW_START } from '../../examples/scenario.js';
import { nameMatches } from '../../core/domains.js';
import { entropy, suspiciousLabel } from '../../verify/dns-report.js';
import type { ReportDocument } from '../../verify/report.js';
import { exampleCopy } from '../example-copy.js';
import { runCli } from '../validate/org.js';

const root = join(import.meta.dirname, '..', '..');

async function report(env: string): Promise<ReportDocument> {
  const run = await runCli(['--root', root, 'report', '--env', env, '--to', '2026-11-21', '--format', 'json']);
  return JSON.parse(run.stdout) as ReportDocument;
}

describe.each(['dev', 'stg', 'prod'] as const)('report names, %s', (env) => {
  it('counts queries per allowed name, lists what the existing firewall alerted on, and flags the planted tunnel', async () => {
    const doc = await report(env);
    const { scenario, queries } = exampleDnsTruth(env);
    const mine = queries.filter((q) => q.vpcId === scenario.vpcId && q.ts >= WINDOW_START && q.ts < WINDOW_END);
    expect(doc.dns!.queries).toBe(mine.length);
    for (const a of doc.dns!.allowed) {
      const matched = mine.filter((q) => nameMatches(a.name, q.name));
      expect(a.queries, a.name).toBe(matched.length);
      expect(a.workloads).toEqual([...new Set(matched.map((q) => q.workload ?? '(other)'))].sort());
    }
    expect(doc.dns!.unused).toEqual([]);
    const alerted = mine.filter((q) => q.firewallAction === 'ALERT');
    expect(doc.dns!.firewall).toEqual(
      alerted.length === 0 ? [] : [{ workload: 'web', name: 'drop.files-share.example.org', action: 'ALERT', queries: alerted.length }],
    );
    // Tunnels: where the generator's implant queried, and nowhere else.
    const tunnelling = [...new Set(mine.filter((q) => q.purpose === 'tunnel').map((q) => q.workload))];
    expect(doc.anomalies.filter((a) => a.kind === 'dns-tunnel').map((a) => [a.workload, a.domain])).toEqual(
      tunnelling.map((w) => [w, TUNNEL_DOMAIN]),
    );
    const bursts = mine.filter((q) => q.purpose === 'nxdomain-burst');
    expect(doc.anomalies.filter((a) => a.kind === 'nxdomain-burst').map((a) => [a.workload, a.domain, a.flows])).toEqual(
      bursts.length === 0 ? [] : [[bursts[0]!.workload, 'example.org', bursts.length]],
    );
  });
});

describe('report names with adoptNames and dnsFirewall.allowAdopted', () => {
  it('counts the queries of the names dev adopted as allowed names, as plan puts them on the allowlist, with --current too', async () => {
    const dir = await exampleCopy();
    try {
      const envFile = join(dir, 'policies', 'dev', 'environment.yaml');
      const text = await readFile(envFile, 'utf8');
      const edited = text.replace(
        'dnsFirewall: { mode: alert, allow: ["*.amazonaws.com", "*.corp.internal"] }',
        'adoptNames: true\ndnsFirewall: { mode: alert, allow: ["*.amazonaws.com", "*.corp.internal"], allowAdopted: true }',
      );
      expect(edited).not.toBe(text);
      await writeFile(envFile, edited);
      const plan = JSON.parse((await runCli(['--root', dir, 'plan', '--env', 'dev', '--format', 'json'])).stdout) as {
        adoptedNames: { name: string }[];
        dnsWhatIf: { allowlist: string[] };
      };
      const adopted = plan.adoptedNames.map((a) => a.name);
      expect(adopted).toContain('radius.partner.example.net');
      const run = await runCli(['--root', dir, 'report', '--env', 'dev', '--to', '2026-11-21', '--format', 'json']);
      const doc = JSON.parse(run.stdout) as ReportDocument;
      expect(doc.dns!.allowed.map((a) => a.name)).toEqual(plan.dnsWhatIf.allowlist);
      const { scenario, queries } = exampleDnsTruth('dev');
      const mine = queries.filter((q) => q.vpcId === scenario.vpcId && q.ts >= WINDOW_START && q.ts < WINDOW_END);
      for (const name of adopted) {
        expect(doc.dns!.allowed.find((a) => a.name === name)?.queries, name).toBe(mine.filter((q) => q.name === name).length);
      }
      // --current counts AWS's rules, not the resolution's, but the names are checked against the same allowlist.
      await writeFile(join(dir, 'current.json'), '{"SecurityGroupRules": []}');
      const current = await runCli([
        '--root',
        dir,
        'report',
        '--env',
        'dev',
        '--to',
        '2026-11-21',
        '--format',
        'json',
        '--current',
        join(dir, 'current.json'),
      ]);
      expect((JSON.parse(current.stdout) as ReportDocument).dns).toEqual(doc.dns);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('tunnel labels', () => {
  it('are long or random; words and short names are not', () => {
    expect(suspiciousLabel('3f9a0c77e1b24d5e8a6b0c1d2e3f4a5b')).toBe(true);
    expect(suspiciousLabel('x7Kq9zP2mW4v')).toBe(true);
    expect(suspiciousLabel('hooks')).toBe(false);
    expect(suspiciousLabel('mirror-3')).toBe(false);
    expect(suspiciousLabel('customer-10')).toBe(false);
    expect(entropy('aaaa')).toBe(0);
  });
});
