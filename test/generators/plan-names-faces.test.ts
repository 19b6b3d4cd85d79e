/**
 * The plan's other faces show names as the markdown plan does: `plan --format html` and the pull-request bodies
 * carry the DNS what-if (with counts, next to what would break), the Network Firewall drops and the adopted names.
 */
import { describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../generators/plan.js';
import type { ObservedDomain } from '../../model/types.js';
import { promoteBody, proposeBody } from '../../propose/body.js';
import { devEnvironment, namedEntry, observedWeb, runOrg, web } from '../validate/org.js';

const ARN = 'arn:aws:network-firewall:eu-west-1:111111111111:firewall-policy/egress';

function domain(name: string, addresses: string[], queries: number): ObservedDomain {
  return { name, queries, connected: true, firstSeen: '2026-11-08', lastSeen: '2026-11-21', addresses };
}

const FILES = {
  'policies/dev/environment.yaml': devEnvironment(
    `adoptNames: true\ndnsFirewall: { mode: block, allow: ["*.amazonaws.com"] }\nnetworkFirewall: { policyArn: "${ARN}", allow: ["*.amazonaws.com"] }\n`,
  ),
  // The denied address is never adopted, so its name stays off the Network Firewall's list: a drop to show.
  'policies/dev/workloads/web.yaml': web(
    '  - to: { domains: [api.stripe.com] }\n    ports: [tcp/443]\n    why: payments\n',
    '  - { to: { cidrs: [203.0.113.9/32] }, why: "under investigation, IR-42" }\n',
  ),
  'observed/dev/web.yaml': observedWeb(
    [
      namedEntry('198.51.100.9/32', 443, ['api.stripe.com']),
      namedEntry('198.51.100.50/32', 443, ['files.example.org']),
      namedEntry('203.0.113.9/32', 443, ['hooks.example.com']),
    ],
    [
      domain('api.stripe.com', ['198.51.100.9'], 40),
      domain('files.example.org', ['198.51.100.50', '198.51.100.51'], 12),
      domain('hooks.example.com', ['203.0.113.9'], 5),
    ],
  ),
};

async function plan(): Promise<{ doc: PlanDocument; md: string; html: string }> {
  const json = await runOrg(FILES, ['plan', '--env', 'dev', '--format', 'json']);
  expect(json.code, json.stderr.join('\n')).toBe(0);
  const md = await runOrg(FILES, ['plan', '--env', 'dev', '--format', 'md']);
  const html = await runOrg(FILES, ['plan', '--env', 'dev', '--format', 'html']);
  expect(html.code, html.stderr.join('\n')).toBe(0);
  return { doc: JSON.parse(json.stdout) as PlanDocument, md: md.stdout, html: html.stdout };
}

describe('names on every face of the plan', () => {
  it('the plan has a DNS what-if, Network Firewall drops and adopted names to show', async () => {
    const { doc } = await plan();
    expect(doc.dnsWhatIf!.blocked).toEqual([
      { workload: 'web', name: 'files.example.org', queries: 12 },
      { workload: 'web', name: 'hooks.example.com', queries: 5 },
    ]);
    expect(doc.networkFirewall!.dropped.map((d) => d.destination)).toContain('203.0.113.9/32');
    expect(doc.adoptedNames!.map((a) => a.name)).toEqual(['files.example.org']);
  });

  it('plan --format html shows the DNS what-if with counts, the drops and the adopted names, names right after what breaks', async () => {
    const { doc, html } = await plan();
    const dns = doc.dnsWhatIf!;
    expect(html).toContain(`<section id="dns">`);
    expect(html).toContain(
      `data-blocked-queries="17">DNS: the firewall would block 17 queries of 1 workload (2 names outside the allowlist`,
    );
    expect(html).toContain(
      '<tr class="dns-blocked" data-workload="web" data-name="files.example.org" data-queries="12"><td>web</td><td><code>files.example.org</code></td><td class="n">12</td></tr>',
    );
    expect(html).toContain('data-name="hooks.example.com" data-queries="5"');
    expect(dns.blockedQueries).toBe(17);
    const drop = doc.networkFirewall!.dropped.find((d) => d.destination === '203.0.113.9/32')!;
    expect(html).toContain(
      `<tr class="nf-dropped" data-workload="web" data-destination="203.0.113.9/32" data-port="tcp/443" data-flows="${drop.flows}">`,
    );
    expect(html).toMatch(/<p id="network-firewall-headline">Network Firewall: rule groups for web; they would drop \d+ flows/);
    expect(html).toContain(
      '<li class="adopted" data-workload="web" data-name="files.example.org" data-addresses="2">web files.example.org tcp/443: 2 addresses (explains 1 observed, 1 more the name answered with)',
    );
    const at = (id: string) => html.indexOf(`<section id="${id}">`);
    expect(at('dns')).toBeGreaterThan(0);
    expect(at('dns')).toBeLessThan(at('network-firewall'));
    expect(at('network-firewall')).toBeLessThan(at('changes'));
    expect(at('quota')).toBeLessThan(at('adopted'));
  });

  it('the propose and promote bodies carry the same name tables as the markdown plan, in the what-if', async () => {
    const { doc, md } = await plan();
    const dnsTable =
      '**DNS: the firewall would block 17 queries of 1 workload (2 names outside the allowlist of 2).**\n\n' +
      '| workload | name | queries |\n|---|---|---:|\n| web | files.example.org | 12 |\n| web | hooks.example.com | 5 |\n';
    expect(md).toContain(dnsTable);
    const nf = md.slice(md.indexOf('**Network Firewall:'), md.indexOf('\n\n', md.indexOf('| workload | destination | port | names |')));
    expect(nf).toContain('| web | 203.0.113.9/32 | tcp/443 | hooks.example.com |');
    const adopted =
      '### Adopted by name\n\n- web files.example.org tcp/443: 2 addresses (explains 1 observed, 1 more the name answered with)';
    for (const body of [proposeBody(doc, []), promoteBody(doc, 'dev', { lastChange: '2026-11-01', soakDays: 7 }, [])]) {
      const whatIf = body.slice(body.indexOf('### What if'), body.indexOf('### Rule changes'));
      expect(whatIf).toContain(dnsTable);
      expect(whatIf).toContain(nf);
      expect(body).toContain(adopted);
    }
  });
});
