/**
 * `adoptNames`: an `observed: adopt` workload adopts the names that explain its observed addresses, as rules of the
 * addresses the names answered with (provenance observed-domain); never the VPC's own, link-local or denied ones,
 * and the names join the DNS Firewall allowlist only where the environment says so.
 */
import { describe, expect, it } from 'vitest';
import type { ObservedDomain, ObservedEgress } from '../../model/types.js';
import { renderObservedYaml } from '../../observe/assemble.js';
import { devEnvironment, runOrg, web } from '../validate/org.js';

function entry(destination: string, port: number, names: string[], flows = 10): ObservedEgress {
  return {
    destination,
    protocol: 'tcp',
    port,
    service: null,
    flows,
    bytes: flows * 100,
    firstSeen: '2026-11-09',
    lastSeen: '2026-11-20',
    decidedBy: 'tcp-flags',
    names,
  };
}

function domain(name: string, addresses: string[], extra: Partial<ObservedDomain> = {}): ObservedDomain {
  return { name, queries: 20, connected: true, firstSeen: '2026-11-08', lastSeen: '2026-11-21', addresses, ...extra };
}

const OBSERVED_WEB = renderObservedYaml({
  workload: 'web',
  environment: 'dev',
  window: { from: '2026-11-08', to: '2026-11-21' },
  source: { engine: 'duckdb', records: 1000, skippedWindows: 0 },
  egress: [
    entry('10.20.5.5/32', 5432, ['db.corp.internal']),
    entry('192.0.2.200/32', 443, ['drop.example.org']),
    entry('198.51.100.9/32', 443, ['api.stripe.com'], 30),
    entry('198.51.100.10/32', 443, ['api.stripe.com'], 20),
    entry('198.51.100.50/32', 443, ['files.example.org']),
    entry('203.0.113.7/32', 443, []),
  ],
  rejected: [],
  domains: [
    domain('api.stripe.com', ['198.51.100.9', '198.51.100.10', '198.51.100.11', '10.20.9.9', '169.254.169.254']),
    domain('db.corp.internal', ['10.20.5.5'], { internal: true }),
    domain('drop.example.org', ['192.0.2.200']),
    domain('files.example.org', ['192.0.2.200', '198.51.100.50', '198.51.100.51']),
    domain('typo.example.org', [], { nxdomain: true, connected: false }),
  ],
});

const WEB = web(
  '  - to: { workload: api }\n    ports: [tcp/8080]\n    why: renders pages from the API\n',
  '  - { to: { cidrs: [192.0.2.200/32] }, why: "under investigation, IR-42" }\n',
);

interface Plan {
  rules: { workload: string; destination: string; ports: string; provenance: string; source: string; flows?: number }[];
  summary: { intent: number; observed: number };
  whatIf: { denied: { destination: string }[] };
  dnsWhatIf: { allowlist: string[]; blocked: { name: string }[] };
  adoptedNames?: { workload: string; name: string; ports: string[]; addresses: string[]; explains: string[]; source: string }[];
}

async function plan(environmentExtra: string, workload = WEB, format = 'json'): Promise<{ doc: Plan | undefined; stdout: string }> {
  const run = await runOrg(
    {
      'policies/dev/environment.yaml': devEnvironment(environmentExtra),
      'policies/dev/workloads/web.yaml': workload,
      'observed/dev/web.yaml': OBSERVED_WEB,
    },
    ['plan', '--env', 'dev', '--format', format],
  );
  expect(run.code, run.stderr.join('\n')).toBe(0);
  return { doc: format === 'json' ? (JSON.parse(run.stdout) as Plan) : undefined, stdout: run.stdout };
}

const webRules = (p: Plan, provenance: string) =>
  p.rules.filter((r) => r.workload === 'web' && r.provenance === provenance).map((r) => r.destination);

describe('adoptNames', () => {
  it('adopts the names that explain observed addresses: the addresses they answered with, never VPC, link-local or denied ones', async () => {
    const { doc } = await plan('adoptNames: true\ndnsFirewall: { mode: block, allow: ["*.amazonaws.com"], allowAdopted: true }\n');
    const p = doc!;
    expect(webRules(p, 'observed-domain')).toEqual([
      '198.51.100.9/32',
      '198.51.100.10/32',
      '198.51.100.11/32',
      '198.51.100.50/32',
      '198.51.100.51/32',
    ]);
    // No name, or the VPC's own name: adopted by address as before. The denied address stays out whatever named it.
    expect(webRules(p, 'observed')).toEqual(['10.20.5.5/32', '203.0.113.7/32']);
    expect(p.rules.some((r) => r.destination === '192.0.2.200/32')).toBe(false);
    expect(p.whatIf.denied.map((d) => d.destination)).toEqual(['192.0.2.200/32']);
    // The rule of an address the workload connected to carries that entry's flows; its source is the name in domains.
    expect(p.rules.find((r) => r.destination === '198.51.100.9/32')).toMatchObject({
      ports: '443',
      flows: 30,
      source: 'observed/dev/web.yaml domains[0]',
    });
    expect(p.summary).toMatchObject({ intent: 2, observed: 7 });
    expect(p.adoptedNames).toEqual([
      {
        workload: 'web',
        name: 'api.stripe.com',
        ports: ['tcp/443'],
        addresses: ['198.51.100.9/32', '198.51.100.10/32', '198.51.100.11/32'],
        explains: ['198.51.100.9/32', '198.51.100.10/32'],
        source: 'observed/dev/web.yaml domains[0]',
      },
      {
        workload: 'web',
        name: 'files.example.org',
        ports: ['tcp/443'],
        addresses: ['198.51.100.50/32', '198.51.100.51/32'],
        explains: ['198.51.100.50/32'],
        source: 'observed/dev/web.yaml domains[3]',
      },
    ]);
    // allowAdopted: the adopted names join the firewall's allowlist, so the DNS what-if no longer lists them.
    expect(p.dnsWhatIf.allowlist).toEqual(['*.amazonaws.com', 'api.stripe.com', 'files.example.org']);
    expect(p.dnsWhatIf.blocked.map((b) => b.name)).toEqual(['db.corp.internal', 'drop.example.org']);
  });

  it('shows what was adopted by name in the text and markdown plans', async () => {
    const extra = 'adoptNames: true\n';
    const line =
      'web api.stripe.com tcp/443: 3 addresses (explains 2 observed, 1 more the name answered with) (observed/dev/web.yaml domains[0])';
    expect((await plan(extra, WEB, 'text')).stdout).toContain(
      `adopted by name (adoptNames: names that explain observed addresses):\n  ${line}`,
    );
    expect((await plan(extra, WEB, 'md')).stdout).toContain(`#### Adopted by name\n\n- ${line}`);
  });

  it('is off unless the environment or the workload turns it on: addresses are adopted as they were', async () => {
    const { doc } = await plan('dnsFirewall: { mode: block, allow: ["*.amazonaws.com"], allowAdopted: true }\n');
    expect(webRules(doc!, 'observed-domain')).toEqual([]);
    expect(webRules(doc!, 'observed')).toEqual([
      '10.20.5.5/32',
      '198.51.100.9/32',
      '198.51.100.10/32',
      '198.51.100.50/32',
      '203.0.113.7/32',
    ]);
    expect(doc!.adoptedNames).toBeUndefined();
    expect(doc!.dnsWhatIf.allowlist).toEqual(['*.amazonaws.com']);
  });

  it("takes the workload's own setting over the environment's", async () => {
    const on = WEB.replace('observed: adopt\n', 'observed: adopt\nadoptNames: true\n');
    const off = WEB.replace('observed: adopt\n', 'observed: adopt\nadoptNames: false\n');
    expect(webRules((await plan('', on)).doc!, 'observed-domain')).toHaveLength(5);
    expect(webRules((await plan('adoptNames: true\n', off)).doc!, 'observed-domain')).toEqual([]);
  });

  it('keeps adopted names off the allowlist unless dnsFirewall.allowAdopted says so', async () => {
    const { doc } = await plan('adoptNames: true\ndnsFirewall: { mode: alert, allow: ["*.amazonaws.com"] }\n');
    expect(webRules(doc!, 'observed-domain')).toHaveLength(5);
    expect(doc!.dnsWhatIf.allowlist).toEqual(['*.amazonaws.com']);
    expect(doc!.dnsWhatIf.blocked.map((b) => b.name)).toContain('api.stripe.com');
  });

  it('lets a deny entry win port by port over an adopted name', async () => {
    const denyPort = web(
      '  - to: { workload: api }\n    ports: [tcp/8080]\n    why: renders pages from the API\n',
      '  - { to: { cidrs: [198.51.100.11/32] }, ports: [tcp/443], why: "not this one" }\n',
    );
    const { doc } = await plan('adoptNames: true\n', denyPort);
    expect(webRules(doc!, 'observed-domain')).not.toContain('198.51.100.11/32');
    expect(webRules(doc!, 'observed-domain')).toContain('198.51.100.10/32');
  });
});
