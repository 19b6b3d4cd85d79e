/** validate on the name layer: dnsLogs / dnsFirewall in environment.yaml, domain intent and its wildcards. */
import { describe, expect, it } from 'vitest';
import { devEnvironment, expectClean, expectFinding, runOrg, web } from './org.js';

const WEB = 'policies/dev/workloads/web.yaml';
const ENV = 'policies/dev/environment.yaml';
const exceptionOk = '{ reason: every customer domain, owner: jane@example.com, ticket: SEC-1, expires: 2027-03-01 }';

describe('domain intent', () => {
  it('accepts names and wildcards below a registrable domain, as the contract writes them', async () => {
    await expectClean(
      {
        [WEB]: web(
          '  - to: { domains: [api.stripe.com, "*.githubusercontent.com"] }\n    ports: [tcp/443]\n    why: card payments and release downloads\n',
        ),
      },
      'exception-required',
    );
    const run = await runOrg({
      [WEB]: web(
        '  - to: { domains: [api.stripe.com, "*.githubusercontent.com"] }\n    ports: [tcp/443]\n    why: card payments and release downloads\n',
      ),
    });
    expect(run.code, run.stderr.join('\n')).toBe(0);
  });

  it('needs an exception for a wildcard over a public suffix, at the name', async () => {
    const line = await expectFinding(
      { [WEB]: web('  - to: { domains: [api.stripe.com, "*.co.uk"] }\n    ports: [tcp/443]\n    why: anything\n') },
      `${WEB}:5:37: egress[0].to.domains[1]: `,
    );
    expect(line).toContain('public suffix co.uk');
    await expectFinding(
      { [WEB]: web('  - to: { domains: ["*.amazonaws.com"] }\n    ports: [tcp/443]\n    why: anything\n') },
      `${WEB}:5:21: egress[0].to.domains[0]: `,
    );
    await expectClean(
      { [WEB]: web(`  - to: { domains: ["*.co.uk"] }\n    ports: [tcp/443]\n    why: anything\n    exception: ${exceptionOk}\n`) },
      'exception-required',
    );
    await expectClean(
      { [WEB]: web('  - to: { domains: ["*.shop.example.co.uk"] }\n    ports: [tcp/443]\n    why: a shop\n') },
      'exception-required',
    );
  });

  it('refuses a name that is not a lowercase DNS name, at the name', async () => {
    await expectFinding(
      { [WEB]: web('  - to: { domains: [Api.Stripe.com.] }\n    ports: [tcp/443]\n    why: x\n') },
      `${WEB}:5:21: egress[0].to.domains[0]: `,
    );
  });
});

describe('dnsLogs and dnsFirewall in environment.yaml', () => {
  it('accepts both as the contract writes them', async () => {
    const run = await runOrg({
      [ENV]: devEnvironment(
        'dnsLogs:\n  files: [../../dns-logs/dev/**/*.log.gz]\ndnsFirewall: { mode: alert, allow: ["*.amazonaws.com"] }\n',
      ),
    });
    expect(run.code, run.stderr.join('\n')).toBe(0);
  });

  it('refuses an unknown firewall mode and dnsLogs without files', async () => {
    await expectFinding({ [ENV]: devEnvironment('dnsFirewall: { mode: deny }\n') }, `${ENV}:13:22: dnsFirewall.mode: `);
    await expectFinding({ [ENV]: devEnvironment('dnsLogs: {}\n') }, `${ENV}:13:10: dnsLogs.files: `);
  });
});

describe('adopt-names', () => {
  const DNS_LOGS = 'dnsLogs:\n  files: [../../dns-logs/dev/**/*.log.gz]\n';
  const adoptingWeb = (observed: string) =>
    web('  - to: { workload: api }\n    ports: [tcp/8080]\n    why: renders pages from the API\n').replace(
      'observed: adopt\n',
      `observed: ${observed}\nadoptNames: true\n`,
    );

  it('warns where adoptNames can adopt nothing by name: no query logs, or a workload that does not adopt', async () => {
    const env = await expectFinding(
      { [ENV]: devEnvironment('adoptNames: true\n') },
      `${ENV}:13:13: adoptNames: warning: adoptNames without dnsLogs`,
      0,
    );
    expect(env).toContain('every address is adopted as before');
    await expectFinding({ [WEB]: adoptingWeb('adopt') }, `${WEB}:4:13: adoptNames: warning: environment dev has no dnsLogs`, 0);
    await expectFinding(
      { [ENV]: devEnvironment(DNS_LOGS), [WEB]: adoptingWeb('review') },
      `${WEB}:4:13: adoptNames: warning: adoptNames has no effect with observed: review`,
      0,
    );
  });

  it('is quiet where names can be adopted', async () => {
    await expectClean({ [ENV]: devEnvironment(`${DNS_LOGS}adoptNames: true\n`), [WEB]: adoptingWeb('adopt') }, 'adopt-names');
  });
});
