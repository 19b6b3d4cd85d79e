/** Each rule as a table: compliant organisations pass, non-compliant ones fail with the exact file:line:col: path. */
import { describe, expect, it } from 'vitest';
import { BASE, devEnvironment, expectClean, expectFinding, runOrg, web, type Files } from './org.js';

const WEB = 'policies/dev/workloads/web.yaml';
const ENV = 'policies/dev/environment.yaml';
const PL = 'policies/dev/prefix-lists.yaml';
const GUARD = 'policies/guardrails.yaml';

interface Bad {
  name: string;
  files: Files;
  /** `file:line:col: path: ` start of the expected finding line. */
  prefix: string;
  /** Expected exit code (warnings exit 0). */
  code?: number;
  /** Text the message must contain. */
  says?: string;
}

interface Good {
  name: string;
  files: Files;
}

/** One table per rule: every `bad` case fails where it says, every `good` case has no finding of the rule. */
function table(rule: string, bad: Bad[], good: Good[]): void {
  for (const c of bad) {
    it(`rejects: ${c.name}`, async () => {
      const line = await expectFinding(c.files, c.prefix, c.code ?? 1);
      if (c.says !== undefined) expect(line).toContain(c.says);
    });
  }
  for (const c of good) {
    it(`accepts: ${c.name}`, async () => {
      await expectClean(c.files, rule);
    });
  }
}

/** `levels` anchors, each a list of nine aliases of the one before: 9^levels values once expanded. */
function aliasBomb(levels: number): string {
  const lines = ['a0: &a0 [x]'];
  for (let i = 1; i <= levels; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(', ')}]`);
  return `${lines.join('\n')}\n`;
}

const exceptionOk = '{ reason: customer webhooks, owner: jane@example.com, ticket: SEC-1, expires: 2027-03-01 }';

describe('yaml: files that do not parse', () => {
  table(
    'yaml',
    [
      { name: 'an unclosed flow sequence', files: { [WEB]: 'workload: web\negress: [\n' }, prefix: `${WEB}:3:1: <root>: ` },
      { name: 'a duplicate key', files: { [WEB]: 'workload: web\nworkload: web\n' }, prefix: `${WEB}:2:1: <root>: `, says: 'unique' },
      {
        name: 'two YAML documents (a second `---`)',
        files: { [WEB]: `${web('  - to: { workload: api }\n    ports: [tcp/8080]\n    why: renders pages\n')}---\nworkload: web\n` },
        prefix: `${WEB}:8:1: <root>: `,
        says: 'this file must hold one YAML document, but a second one starts at "---" on line 8',
      },
      {
        name: 'an alias bomb (anchors that expand to millions of nodes)',
        files: { [WEB]: `${aliasBomb(12)}workload: web\nowner: team-web\nobserved: adopt\negress: []\n` },
        prefix: `${WEB}:2:10: <root>: `,
        says: 'aliases expand to too many values',
      },
    ],
    [{ name: 'the base organisation', files: {} }],
  );
});

describe('schema: keys and values the schema does not allow', () => {
  table(
    'schema',
    [
      {
        name: "a typo'd key",
        files: { [WEB]: web('  - to: { workload: api }\n    ports: [tcp/8080]\n    wyh: renders pages\n') },
        prefix: `${WEB}:7:5: egress[0].wyh: `,
        says: 'unknown key "wyh"; did you mean "why"?',
      },
      {
        name: 'a missing required key (points at the parent)',
        files: { [ENV]: BASE[ENV]!.replace('account: "111111111111"\n', '') },
        prefix: `${ENV}:1:1: account: `,
        says: 'missing required key "account"',
      },
      {
        name: 'an unquoted account id',
        files: { [ENV]: BASE[ENV]!.replace('account: "111111111111"', 'account: 111111111111') },
        prefix: `${ENV}:2:10: account: `,
        says: 'write account: "111111111111"',
      },
      {
        name: 'an unquoted account id with a leading zero (the hint keeps it)',
        files: { [ENV]: BASE[ENV]!.replace('account: "111111111111"', 'account: 011111111111') },
        prefix: `${ENV}:2:10: account: `,
        says: '(YAML reads an unquoted 011111111111 as a number: write account: "011111111111")',
      },
      {
        name: 'a cidrs rule without ports',
        files: { [WEB]: web('  - to: { cidrs: [10.20.9.0/24] }\n    why: database\n') },
        prefix: `${WEB}:5:5: egress[0].ports: `,
        says: 'only a `service` rule may leave ports out',
      },
      {
        name: 'a bare port number',
        files: { [WEB]: web('  - to: { workload: api }\n    ports: [8080]\n    why: renders pages\n') },
        prefix: `${WEB}:6:13: egress[0].ports[0]: `,
        says: 'write "tcp/8080"',
      },
      {
        name: 'two destinations in one rule',
        files: { [WEB]: web('  - to: { workload: api, service: s3 }\n    ports: [tcp/443]\n    why: both\n') },
        prefix: `${WEB}:5:9: egress[0].to: `,
        says: 'exactly one of workload, service, prefixList, cidrs or domains',
      },
      {
        name: 'an impossible date',
        files: {
          [WEB]: web(
            `  - to: { cidrs: [0.0.0.0/0] }\n    ports: [tcp/443]\n    why: webhooks\n    exception: { reason: r, owner: o, expires: 2027-02-30 }\n`,
          ),
        },
        prefix: `${WEB}:8:48: egress[0].exception.expires: `,
        says: 'expected a date YYYY-MM-DD',
      },
      {
        name: 'an AWS id of the wrong kind',
        files: { [ENV]: BASE[ENV]!.replace('interfaces: [eni-0aa11bb2]', 'interfaces: [i-0aa11bb2]') },
        prefix: `${ENV}:12:23: workloads.api.interfaces[0]: `,
        says: 'a network interface id',
      },
      {
        name: 'an environment folder without environment.yaml',
        files: { 'policies/qa/workloads/web.yaml': BASE[WEB]! },
        prefix: 'policies/qa/environment.yaml:1:1: <root>: ',
      },
    ],
    [
      { name: 'a service rule without ports', files: {} },
      { name: 'a quoted protocol number', files: { [WEB]: web('  - to: { workload: api }\n    ports: ["47"]\n    why: GRE tunnel\n') } },
      { name: 'short AWS ids as in the contract', files: { [ENV]: BASE[ENV]!.replace('vpc-0a1b2c3d', 'vpc-0a1b') } },
    ],
  );
});

describe('why-required: a rule, deny entry or prefix list without a real why', () => {
  table(
    'why-required',
    [
      {
        name: 'a missing why',
        files: { [WEB]: web('  - to: { workload: api }\n    ports: [tcp/8080]\n') },
        prefix: `${WEB}:5:5: egress[0].why: `,
      },
      {
        name: 'a placeholder why',
        files: { [WEB]: web('  - to: { workload: api }\n    ports: [tcp/8080]\n    why: tbd\n') },
        prefix: `${WEB}:7:10: egress[0].why: `,
      },
      {
        name: 'a TODO note',
        files: { [WEB]: web('  - to: { workload: api }\n    ports: [tcp/8080]\n    why: "TODO: ask the team"\n') },
        prefix: `${WEB}:7:10: egress[0].why: `,
      },
      {
        name: 'a deny entry without why',
        files: {
          [WEB]: web(
            '  - to: { workload: api }\n    ports: [tcp/8080]\n    why: renders pages\n',
            '  - { to: { cidrs: [192.0.2.200/32] } }\n',
          ),
        },
        prefix: `${WEB}:9:5: deny[0].why: `,
      },
      {
        name: 'a prefix list saying n/a',
        files: { [PL]: 'prefixLists:\n  card-partner: { cidrs: [203.0.113.0/28], why: "n/a" }\n' },
        prefix: `${PL}:2:49: prefixLists.card-partner.why: `,
      },
    ],
    [{ name: 'rules and lists that say why', files: {} }],
  );
});

describe('name-format: names outside [a-z0-9][a-z0-9-]*', () => {
  table(
    'name-format',
    [
      {
        name: 'a prefix list name with capitals',
        files: { [PL]: 'prefixLists:\n  Card_Partner: { cidrs: [203.0.113.0/28], why: card processor }\n' },
        prefix: `${PL}:2:3: prefixLists.Card_Partner: `,
      },
      {
        name: 'a workload file name with capitals',
        files: { 'policies/dev/workloads/Web.yaml': BASE[WEB]!.replace('workload: web', 'workload: Web') },
        prefix: 'policies/dev/workloads/Web.yaml:1:11: workload: ',
        says: 'workload file name "Web.yaml" must be a name that matches [a-z0-9][a-z0-9-]* (at most 63 characters), then .yaml: rename the file',
      },
      {
        name: 'an environment folder with capitals',
        files: { 'policies/Dev/environment.yaml': BASE[ENV]!.replace('environment: dev', 'environment: Dev') },
        prefix: 'policies/Dev/environment.yaml:1:1: <root>: ',
      },
      {
        name: 'a selector key with an underscore',
        files: { [ENV]: devEnvironment('  web_2: { cidrs: [10.20.2.0/24] }\n') },
        prefix: `${ENV}:13:3: workloads.web_2: `,
      },
    ],
    [
      {
        name: 'lower-case names with hyphens',
        files: { [PL]: 'prefixLists:\n  card-partner-2: { cidrs: [203.0.113.0/28], why: card processor }\n' },
      },
    ],
  );
});

describe('environment-name: environment: that differs from its folder', () => {
  table(
    'environment-name',
    [
      {
        name: 'dev saying staging',
        files: { [ENV]: BASE[ENV]!.replace('environment: dev', 'environment: staging') },
        prefix: `${ENV}:1:14: environment: `,
      },
    ],
    [{ name: 'dev saying dev', files: {} }],
  );
});

describe('workload-file-name: workload: that differs from its file name', () => {
  table(
    'workload-file-name',
    [
      {
        name: 'web.yaml saying webb',
        files: { [WEB]: BASE[WEB]!.replace('workload: web', 'workload: webb') },
        prefix: `${WEB}:1:11: workload: `,
      },
    ],
    [{ name: 'web.yaml saying web', files: {} }],
  );
});

describe('exception-required: a broad destination, all protocols or a port range without an exception', () => {
  table(
    'exception-required',
    [
      {
        name: 'a wildcard without exception',
        files: { [WEB]: web('  - to: { cidrs: [0.0.0.0/0] }\n    ports: [tcp/443]\n    why: webhooks\n') },
        prefix: `${WEB}:5:19: egress[0].to.cidrs[0]: `,
        says: 'outside the VPC and broader than /24',
      },
      {
        name: 'an IPv6 /48 outside the VPC',
        files: { [WEB]: web('  - to: { cidrs: ["2001:db8::/48"] }\n    ports: [tcp/443]\n    why: partner\n') },
        prefix: `${WEB}:5:19: egress[0].to.cidrs[0]: `,
        says: 'broader than /56',
      },
      {
        name: 'all protocols',
        files: { [WEB]: web('  - to: { workload: api }\n    ports: [all]\n    why: everything\n') },
        prefix: `${WEB}:6:13: egress[0].ports[0]: `,
        says: 'all protocols',
      },
      {
        name: 'a port range',
        files: { [WEB]: web('  - to: { workload: api }\n    ports: [tcp/8000-8100]\n    why: dynamic ports\n') },
        prefix: `${WEB}:6:13: egress[0].ports[0]: `,
        says: 'opens 101 ports',
      },
      {
        name: 'a prefix list holding a broad CIDR',
        files: {
          [PL]: 'prefixLists:\n  wide: { cidrs: [198.51.100.0/22], why: a whole partner network }\n',
          [WEB]: web('  - to: { prefixList: wide }\n    ports: [tcp/443]\n    why: partner\n'),
        },
        prefix: `${WEB}:5:23: egress[0].to.prefixList: `,
        says: 'prefix list "wide" holds 198.51.100.0/22',
      },
      {
        name: 'a broad CIDR inside the VPC range when vpcCidrs is absent (strict reading)',
        files: {
          [ENV]: BASE[ENV]!.replace('vpcCidrs: [10.20.0.0/16]\n', ''),
          [WEB]: web('  - to: { cidrs: [10.20.0.0/16] }\n    ports: [tcp/5432]\n    why: databases\n'),
        },
        prefix: `${WEB}:5:19: egress[0].to.cidrs[0]: `,
      },
      {
        name: 'a /26 when guardrails tighten IPv4 to /28',
        files: {
          [GUARD]: 'exceptions:\n  maxPrefixIPv4: 28\n',
          [WEB]: web('  - to: { cidrs: [203.0.113.0/26] }\n    ports: [tcp/443]\n    why: partner\n'),
        },
        prefix: `${WEB}:5:19: egress[0].to.cidrs[0]: `,
        says: 'broader than /28',
      },
    ],
    [
      {
        name: 'a /24 outside the VPC',
        files: { [WEB]: web('  - to: { cidrs: [203.0.113.0/24] }\n    ports: [tcp/443]\n    why: partner\n') },
      },
      {
        name: 'a broad CIDR inside vpcCidrs',
        files: { [WEB]: web('  - to: { cidrs: [10.20.0.0/16] }\n    ports: [tcp/5432]\n    why: databases\n') },
      },
      {
        name: 'a wildcard with an exception',
        files: { [WEB]: web(`  - to: { cidrs: [0.0.0.0/0] }\n    ports: [tcp/443]\n    why: webhooks\n    exception: ${exceptionOk}\n`) },
      },
      { name: 'a service without ports (tcp/443)', files: {} },
    ],
  );
});

describe('exception-expired: an exception whose date has passed', () => {
  const withExpiry = (date: string) => ({
    [WEB]: web(
      `  - to: { cidrs: [0.0.0.0/0] }\n    ports: [tcp/443]\n    why: webhooks\n    exception: { reason: r, owner: o, expires: ${date} }\n`,
    ),
  });
  table(
    'exception-expired',
    [
      {
        name: 'expired yesterday',
        files: withExpiry('2026-11-22'),
        prefix: `${WEB}:8:48: egress[0].exception.expires: `,
        says: 'expired on 2026-11-22',
      },
      { name: 'expired, written in quotes', files: withExpiry('"2026-01-01"'), prefix: `${WEB}:8:48: egress[0].exception.expires: ` },
    ],
    [
      { name: 'expiring today', files: withExpiry('2026-11-23') },
      { name: 'a future date in quotes', files: withExpiry('"2027-01-01"') },
    ],
  );
});

describe('exception-horizon: an exception expiring more than maxDays ahead', () => {
  const withExpiry = (date: string) => ({
    [WEB]: web(
      `  - to: { cidrs: [0.0.0.0/0] }\n    ports: [tcp/443]\n    why: webhooks\n    exception: { reason: r, owner: o, expires: ${date} }\n`,
    ),
  });
  table(
    'exception-horizon',
    [
      {
        name: '181 days ahead',
        files: withExpiry('2027-05-23'),
        prefix: `${WEB}:8:48: egress[0].exception.expires: `,
        says: 'use 2027-05-22 or earlier',
      },
      {
        name: '31 days ahead when guardrails allow 30',
        files: { ...withExpiry('2026-12-24'), [GUARD]: 'exceptions:\n  maxDays: 30\n' },
        prefix: `${WEB}:8:48: egress[0].exception.expires: `,
      },
    ],
    [{ name: 'exactly 180 days ahead', files: withExpiry('2027-05-22') }],
  );
});

describe('exception-ticket: an exception without ticket when guardrails require one', () => {
  const rule = (exception: string) => ({
    [GUARD]: 'exceptions:\n  requireTicket: true\n',
    [WEB]: web(`  - to: { cidrs: [0.0.0.0/0] }\n    ports: [tcp/443]\n    why: webhooks\n    exception: ${exception}\n`),
  });
  table(
    'exception-ticket',
    [
      {
        name: 'no ticket',
        files: rule('{ reason: r, owner: o, expires: 2027-01-01 }'),
        prefix: `${WEB}:8:16: egress[0].exception.ticket: `,
      },
    ],
    [
      { name: 'with a ticket', files: rule(exceptionOk) },
      {
        name: 'no ticket when guardrails do not require one',
        files: { ...rule('{ reason: r, owner: o, expires: 2027-01-01 }'), [GUARD]: null },
      },
    ],
  );
});

describe('exception-unneeded: an exception on a rule that needs none', () => {
  table(
    'exception-unneeded',
    [
      {
        name: 'a single port to a workload',
        files: { [WEB]: web(`  - to: { workload: api }\n    ports: [tcp/8080]\n    why: renders pages\n    exception: ${exceptionOk}\n`) },
        prefix: `${WEB}:8:16: egress[0].exception: warning: `,
        code: 0,
      },
    ],
    [
      {
        name: 'a wildcard with its exception',
        files: { [WEB]: web(`  - to: { cidrs: [0.0.0.0/0] }\n    ports: [tcp/443]\n    why: webhooks\n    exception: ${exceptionOk}\n`) },
      },
    ],
  );
});

describe('workload-reference: a workload destination that is not a workload of the environment', () => {
  const refTo = (name: string) => web(`  - to: { workload: ${name} }\n    ports: [tcp/8080]\n    why: calls it\n`);
  table(
    'workload-reference',
    [
      {
        name: 'a dangling reference',
        files: { [WEB]: refTo('apu') },
        prefix: `${WEB}:5:21: egress[0].to.workload: `,
        says: 'did you mean "api"?',
      },
      {
        name: 'a workload with a file but no selector',
        files: {
          [WEB]: refTo('db'),
          'policies/dev/workloads/db.yaml': BASE['policies/dev/workloads/api.yaml']!.replace('workload: api', 'workload: db'),
        },
        prefix: `${WEB}:5:21: egress[0].to.workload: `,
        says: 'has no selector',
      },
      {
        name: 'a workload with a selector but no file',
        files: { [WEB]: refTo('db'), [ENV]: devEnvironment('  db: { cidrs: [10.20.9.0/24] }\n') },
        prefix: `${WEB}:5:21: egress[0].to.workload: `,
        says: 'no policies/dev/workloads/db.yaml',
      },
      {
        name: 'a dangling reference in deny',
        files: {
          [WEB]: web(
            '  - to: { workload: api }\n    ports: [tcp/8080]\n    why: renders pages\n',
            '  - { to: { workload: ghost }, why: retired }\n',
          ),
        },
        prefix: `${WEB}:9:23: deny[0].to.workload: `,
      },
    ],
    [{ name: 'a reference to api', files: {} }],
  );
});

describe('workload-coverage: workload files and selectors that do not match up', () => {
  const db = BASE['policies/dev/workloads/api.yaml']!.replace('workload: api', 'workload: db');
  table(
    'workload-coverage',
    [
      {
        name: 'a workload file without selector',
        files: { 'policies/dev/workloads/db.yaml': db },
        prefix: 'policies/dev/workloads/db.yaml:1:11: workload: ',
        says: 'never be attributed',
      },
      {
        name: 'a selector without file',
        files: { [ENV]: devEnvironment('  db: { cidrs: [10.20.9.0/24] }\n') },
        prefix: `${ENV}:13:3: workloads.db: warning: `,
        code: 0,
      },
      {
        name: 'a selector that matches nothing',
        files: { [ENV]: devEnvironment('  db: { securityGroup: sg-0123abcd }\n'), 'policies/dev/workloads/db.yaml': db },
        prefix: `${ENV}:13:3: workloads.db: warning: `,
        code: 0,
        says: 'matches nothing',
      },
    ],
    [
      {
        name: 'a file and a selector for each workload',
        files: { [ENV]: devEnvironment('  db: { cidrs: [10.20.9.0/24] }\n'), 'policies/dev/workloads/db.yaml': db },
      },
    ],
  );
});

describe('prefix-list-reference: a prefixList destination that prefix-lists.yaml does not define', () => {
  const refTo = (name: string) => web(`  - to: { prefixList: ${name} }\n    ports: [tcp/443]\n    why: payments\n`);
  table(
    'prefix-list-reference',
    [
      {
        name: 'a misspelt list',
        files: { [WEB]: refTo('card-partnr') },
        prefix: `${WEB}:5:23: egress[0].to.prefixList: `,
        says: 'did you mean "card-partner"?',
      },
      {
        name: 'no prefix-lists.yaml at all',
        files: { [WEB]: refTo('card-partner'), [PL]: null },
        prefix: `${WEB}:5:23: egress[0].to.prefixList: `,
        says: 'there is no',
      },
    ],
    [{ name: 'a defined list', files: { [WEB]: refTo('card-partner') } }],
  );
});

describe('prefix-list-valid: mixed families, repeated entries, too small maxEntries', () => {
  table(
    'prefix-list-valid',
    [
      {
        name: 'IPv4 and IPv6 in one list',
        files: { [PL]: 'prefixLists:\n  mixed: { cidrs: [203.0.113.0/28, "2001:db8::/64"], why: partner }\n' },
        prefix: `${PL}:2:36: prefixLists.mixed.cidrs[1]: `,
        says: 'one address family',
      },
      {
        name: 'maxEntries below the entry count',
        files: { [PL]: 'prefixLists:\n  p: { cidrs: [203.0.113.0/28, 203.0.113.16/28], why: partner, maxEntries: 1 }\n' },
        prefix: `${PL}:2:76: prefixLists.p.maxEntries: `,
      },
      {
        name: 'a repeated entry',
        files: { [PL]: 'prefixLists:\n  p: { cidrs: [203.0.113.0/28, 203.0.113.0/28], why: partner }\n' },
        prefix: `${PL}:2:32: prefixLists.p.cidrs[1]: `,
      },
    ],
    [
      {
        name: 'one family with room to grow',
        files: { [PL]: 'prefixLists:\n  p: { cidrs: [203.0.113.0/28], why: partner, maxEntries: 10 }\n' },
      },
    ],
  );
});

describe('service-known: a service destination that is not a known AWS endpoint service', () => {
  const svc = (name: string) => web(`  - to: { service: ${name} }\n    why: secrets\n`);
  table(
    'service-known',
    [
      {
        name: 'a near miss',
        files: { [WEB]: svc('secretmanager') },
        prefix: `${WEB}:5:20: egress[0].to.service: `,
        says: 'did you mean "secretsmanager"?',
      },
      { name: 'upper case', files: { [WEB]: svc('S3') }, prefix: `${WEB}:5:20: egress[0].to.service: `, says: 'did you mean "s3"?' },
      { name: 'not a service at all', files: { [WEB]: svc('github') }, prefix: `${WEB}:5:20: egress[0].to.service: ` },
    ],
    [
      { name: 'a gateway service', files: { [WEB]: svc('dynamodb') } },
      // (an interface endpoint needs subnets, or synth refuses it: synth-ready)
      {
        name: 'an interface service with a dot',
        files: {
          [WEB]: svc('ecr.dkr'),
          [ENV]: BASE[ENV]!.replace(
            'endpoints: { routeTables: [rtb-0a1b2c3d] }',
            'endpoints: { routeTables: [rtb-0a1b2c3d], subnets: [subnet-0a1b2c3d] }',
          ),
        },
      },
    ],
  );
});

describe('cidr-valid: CIDRs that do not parse or are not canonical', () => {
  const to = (cidr: string) => web(`  - to: { cidrs: [${cidr}] }\n    ports: [tcp/443]\n    why: partner\n`);
  table(
    'cidr-valid',
    [
      {
        name: 'host bits set in a rule',
        files: { [WEB]: to('10.20.1.1/24') },
        prefix: `${WEB}:5:19: egress[0].to.cidrs[0]: `,
        says: 'did you mean 10.20.1.0/24?',
      },
      { name: 'not a CIDR', files: { [WEB]: to('10.20.1/24') }, prefix: `${WEB}:5:19: egress[0].to.cidrs[0]: `, says: 'is not a CIDR' },
      {
        name: 'no prefix length',
        files: { [WEB]: to('203.0.113.5') },
        prefix: `${WEB}:5:19: egress[0].to.cidrs[0]: `,
        says: 'did you mean 203.0.113.5/32?',
      },
      {
        name: 'host bits in a selector',
        files: { [ENV]: BASE[ENV]!.replace('[10.20.1.0/24]', '[10.20.1.5/24]') },
        prefix: `${ENV}:11:18: workloads.web.cidrs[0]: `,
      },
      {
        name: 'a bad vpcCidrs entry',
        files: { [ENV]: BASE[ENV]!.replace('vpcCidrs: [10.20.0.0/16]', 'vpcCidrs: [10.20.0.0/33]') },
        prefix: `${ENV}:5:12: vpcCidrs[0]: `,
      },
      {
        name: 'host bits in a prefix list',
        files: { [PL]: 'prefixLists:\n  p: { cidrs: [203.0.113.1/28], why: partner }\n' },
        prefix: `${PL}:2:16: prefixLists.p.cidrs[0]: `,
      },
      {
        name: 'host bits in a deny entry',
        files: {
          [WEB]: web(
            '  - to: { workload: api }\n    ports: [tcp/8080]\n    why: renders pages\n',
            '  - { to: { cidrs: [192.0.2.1/24] }, why: IR-42 }\n',
          ),
        },
        prefix: `${WEB}:9:21: deny[0].to.cidrs[0]: `,
      },
    ],
    [{ name: 'canonical IPv4 and IPv6', files: { [WEB]: to('203.0.113.0/24, "2001:db8:ffff:10::/64"') } }],
  );
});

describe('ports-valid: port specs that do not parse, or repeat', () => {
  const ports = (list: string) => web(`  - to: { workload: api }\n    ports: [${list}]\n    why: calls it\n`);
  table(
    'ports-valid',
    [
      { name: 'a port above 65535', files: { [WEB]: ports('tcp/99999') }, prefix: `${WEB}:6:13: egress[0].ports[0]: ` },
      {
        name: 'a made-up protocol',
        files: { [WEB]: ports('http/80') },
        prefix: `${WEB}:6:13: egress[0].ports[0]: `,
        says: 'expected a port like',
      },
      {
        name: 'a range that runs backwards',
        files: { [WEB]: ports('tcp/9000-8000') },
        prefix: `${WEB}:6:13: egress[0].ports[0]: `,
        says: 'runs backwards',
      },
      {
        name: 'a duplicate spec',
        files: { [WEB]: ports('tcp/8080, tcp/8080') },
        prefix: `${WEB}:6:23: egress[0].ports[1]: `,
        says: 'already ports[0]',
      },
    ],
    [{ name: 'tcp, udp, icmp and a protocol number', files: { [WEB]: ports('tcp/8080, udp/53, icmp, "50"') } }],
  );
});

describe('guardrails-tighten-only: guardrails that loosen a default', () => {
  table(
    'guardrails-tighten-only',
    [
      { name: 'maxDays above 180', files: { [GUARD]: 'exceptions:\n  maxDays: 365\n' }, prefix: `${GUARD}:2:12: exceptions.maxDays: ` },
      {
        name: 'maxPrefixIPv4 below 24',
        files: { [GUARD]: 'exceptions:\n  maxPrefixIPv4: 16\n' },
        prefix: `${GUARD}:2:18: exceptions.maxPrefixIPv4: `,
      },
      { name: 'maxPorts above 1', files: { [GUARD]: 'exceptions:\n  maxPorts: 100\n' }, prefix: `${GUARD}:2:13: exceptions.maxPorts: ` },
      {
        name: 'allProtocols off',
        files: { [GUARD]: 'exceptions:\n  allProtocols: false\n' },
        prefix: `${GUARD}:2:17: exceptions.allProtocols: `,
      },
    ],
    [
      {
        name: 'tighter values',
        files: { [GUARD]: 'exceptions:\n  maxPrefixIPv4: 28\n  maxPrefixIPv6: 64\n  maxDays: 90\n  requireTicket: false\n' },
      },
    ],
  );

  it('keeps the default in the model when a value would loosen it', async () => {
    // A loosened maxPrefixIPv4 must not let a /16 outside the VPC through.
    await expectFinding(
      {
        [GUARD]: 'exceptions:\n  maxPrefixIPv4: 8\n',
        [WEB]: web('  - to: { cidrs: [172.16.0.0/16] }\n    ports: [tcp/443]\n    why: partner\n'),
      },
      `${WEB}:5:19: egress[0].to.cidrs[0]: `,
    );
  });
});

describe('deny-conflict: an egress rule that allows what deny forbids', () => {
  const conflict = (to: string, ports: string, deny: string, exception = '') =>
    web(
      `  - to: { cidrs: [${to}] }\n    ports: [${ports}]\n    why: partner\n${exception}`,
      `  - { to: { cidrs: [${deny}] }, why: IR-42 }\n`,
    );
  table(
    'deny-conflict',
    [
      {
        name: 'the denied address itself',
        files: { [WEB]: conflict('192.0.2.200/32', 'tcp/443', '192.0.2.200/32') },
        prefix: `${WEB}:5:9: egress[0].to: `,
        says: 'deny[0] (all traffic) forbids',
      },
      {
        name: 'an address inside a denied range',
        files: { [WEB]: conflict('192.0.2.200/32', 'tcp/443', '192.0.2.0/24') },
        prefix: `${WEB}:5:9: egress[0].to: `,
      },
      {
        name: 'a broader rule without exception reaching a denied address',
        files: { [WEB]: conflict('10.20.0.0/16', 'tcp/5432', '10.20.5.5/32') },
        prefix: `${WEB}:5:9: egress[0].to: warning: `,
        code: 0,
      },
    ],
    [
      {
        name: 'a deny on other ports',
        files: {
          [WEB]: web(
            '  - to: { cidrs: [192.0.2.200/32] }\n    ports: [tcp/443]\n    why: partner\n',
            '  - { to: { cidrs: [192.0.2.200/32] }, ports: [udp/53], why: IR-42 }\n',
          ),
        },
      },
      {
        name: 'a wildcard with an exception around a denied address (the contract example)',
        files: { [WEB]: conflict('0.0.0.0/0', 'tcp/443', '192.0.2.200/32', `    exception: ${exceptionOk}\n`) },
      },
    ],
  );
});

describe('selector-overlap: one address, interface or subnet in two selectors', () => {
  table(
    'selector-overlap',
    [
      {
        name: 'overlapping CIDRs',
        files: {
          [ENV]: BASE[ENV]!.replace('api: { interfaces: [eni-0aa11bb2] }', 'api: { interfaces: [eni-0aa11bb2], cidrs: [10.20.1.128/25] }'),
        },
        prefix: `${ENV}:11:18: workloads.web.cidrs[0]: `,
        says: 'workload "api"',
      },
      {
        name: 'the same interface',
        files: { [ENV]: BASE[ENV]!.replace('web: { cidrs: [10.20.1.0/24] }', 'web: { interfaces: [eni-0aa11bb2] }') },
        prefix: `${ENV}:11:23: workloads.web.interfaces[0]: `,
      },
      {
        name: 'the same adopted security group',
        files: {
          [ENV]: BASE[ENV]!.replace('web: { cidrs: [10.20.1.0/24] }', 'web: { cidrs: [10.20.1.0/24], securityGroup: sg-0abc }').replace(
            'api: { interfaces: [eni-0aa11bb2] }',
            'api: { interfaces: [eni-0aa11bb2], securityGroup: sg-0abc }',
          ),
        },
        prefix: `${ENV}:11:48: workloads.web.securityGroup: `,
      },
    ],
    [
      {
        name: 'adjacent CIDRs',
        files: { [ENV]: BASE[ENV]!.replace('api: { interfaces: [eni-0aa11bb2] }', 'api: { cidrs: [10.20.2.0/24] }') },
      },
    ],
  );
});

describe('promote-chain: promoteFrom that names nothing, itself, or a cycle', () => {
  const stg = (from: string) =>
    BASE[ENV]!.replace('environment: dev', 'environment: stg').replace(
      'workloads:\n  web: { cidrs: [10.20.1.0/24] }\n  api: { interfaces: [eni-0aa11bb2] }\n',
      `workloads: {}\npromoteFrom: ${from}\n`,
    );
  table(
    'promote-chain',
    [
      { name: 'a missing environment', files: { [ENV]: devEnvironment('promoteFrom: qa\n') }, prefix: `${ENV}:13:14: promoteFrom: ` },
      { name: 'itself', files: { [ENV]: devEnvironment('promoteFrom: dev\n') }, prefix: `${ENV}:13:14: promoteFrom: ` },
      {
        name: 'a cycle',
        files: { [ENV]: devEnvironment('promoteFrom: stg\n'), 'policies/stg/environment.yaml': stg('dev') },
        prefix: `${ENV}:13:14: promoteFrom: `,
        says: 'promotion cycle dev <- stg <- dev',
      },
    ],
    [{ name: 'stg promoted from dev', files: { 'policies/stg/environment.yaml': stg('dev') } }],
  );

  it('a cycle through environments that --env does not load is still found', async () => {
    const prod = BASE[ENV]!.replace('environment: dev', 'environment: prod').replace(
      'workloads:\n  web: { cidrs: [10.20.1.0/24] }\n  api: { interfaces: [eni-0aa11bb2] }\n',
      'workloads: {}\npromoteFrom: stg\n',
    );
    const files = {
      [ENV]: devEnvironment('promoteFrom: prod\n'),
      'policies/stg/environment.yaml': stg('dev'),
      'policies/prod/environment.yaml': prod,
    };
    const run = await runOrg(files, ['validate', '--env', 'dev']);
    expect(run.code, run.stderr.join('\n')).toBe(1);
    expect(run.stderr.find((l) => l.startsWith(`${ENV}:13:14: promoteFrom: `))).toContain('promotion cycle dev <- prod <- stg <- dev');
    // and a chain that ends is fine under --env too
    const ok = await runOrg({ ...files, [ENV]: BASE[ENV]! }, ['validate', '--env', 'dev']);
    expect(ok.code, ok.stderr.join('\n')).toBe(0);
  });
});

describe('flow-logs-config: flow-log sources that cannot be read everywhere', () => {
  table(
    'flow-logs-config',
    [
      {
        name: 'athena without its block',
        files: { [ENV]: BASE[ENV]!.replace('engine: duckdb', 'engine: athena') },
        prefix: `${ENV}:8:3: flowLogs.athena: `,
      },
      {
        name: 'duckdb without files',
        files: { [ENV]: BASE[ENV]!.replace('  files: [../../flow-logs/dev/*.log.gz]\n', '') },
        prefix: `${ENV}:8:3: flowLogs.files: `,
      },
      {
        name: 'a pattern that leaves the repository',
        files: { [ENV]: BASE[ENV]!.replace('../../flow-logs', '../../../flow-logs') },
        prefix: `${ENV}:9:11: flowLogs.files[0]: `,
      },
      {
        name: 'an http URL',
        files: { [ENV]: BASE[ENV]!.replace('../../flow-logs/dev/*.log.gz', 'https://example.com/logs') },
        prefix: `${ENV}:9:11: flowLogs.files[0]: `,
      },
      {
        name: 'an absolute path',
        files: { [ENV]: BASE[ENV]!.replace('../../flow-logs/dev/*.log.gz', '/var/log/flows/*.log') },
        prefix: `${ENV}:9:11: flowLogs.files[0]: warning: `,
        code: 0,
      },
    ],
    [
      { name: 's3 URLs', files: { [ENV]: BASE[ENV]!.replace('../../flow-logs/dev/*.log.gz', 's3://flow-logs/AWSLogs/') } },
      {
        name: 'athena with its block',
        files: {
          [ENV]: BASE[ENV]!.replace(
            'engine: duckdb',
            'engine: athena\n  athena: { database: flowlogs, table: vpc_flow_logs, workgroup: primary }',
          ),
        },
      },
    ],
  );
});

describe('quarantine-valid: quarantines without reason, twice, or beyond the NACL quota', () => {
  const q = (entries: string, extra = '') => ({ [ENV]: devEnvironment(`quarantine:\n${entries}${extra}`) });
  table(
    'quarantine-valid',
    [
      {
        name: 'a blank reason',
        files: q('  - { subnet: subnet-0bad, networkAcl: acl-0123, reason: "" }\n'),
        prefix: `${ENV}:14:58: quarantine[0].reason: `,
      },
      {
        name: 'a subnet quarantined twice',
        files: q(
          '  - { subnet: subnet-0bad, networkAcl: acl-0123, reason: IR-42 }\n  - { subnet: subnet-0bad, networkAcl: acl-0123, reason: IR-43 }\n',
        ),
        prefix: `${ENV}:15:15: quarantine[1].subnet: `,
      },
      {
        name: 'more rules than naclRulesPerDirection',
        files: q(
          '  - { subnet: subnet-0bad, networkAcl: acl-0123, reason: IR-42, allow: [10.99.0.0/24, 10.99.1.0/24] }\n',
          'quotas: { naclRulesPerDirection: 2 }\n',
        ),
        prefix: `${ENV}:14:72: quarantine[0].allow: `,
        says: 'needs 3 rules per direction',
      },
    ],
    [
      {
        name: 'one quarantine with a forensics CIDR',
        files: q('  - { subnet: subnet-0bad, networkAcl: acl-0123, reason: IR-42, allow: [10.99.0.0/24] }\n'),
      },
    ],
  );
});

describe('observed-consistent: observed files that do not match their path or order', () => {
  const observed = (workload: string, environment: string, egress: string[]) =>
    `# generated by leastpath observe: do not edit
workload: ${workload}
environment: ${environment}
window: { from: 2026-11-08, to: 2026-11-21 }
source: { engine: duckdb, records: 100, skippedWindows: 0 }
egress:${egress.length === 0 ? ' []' : ''}
${egress.map((d) => `  - { destination: ${d}, protocol: tcp, port: 443, service: null, flows: 1, bytes: 10, firstSeen: 2026-11-08, lastSeen: 2026-11-21, decidedBy: tcp-flags }\n`).join('')}rejected: []
`;
  const OBS = 'observed/dev/web.yaml';
  const covered = (coverage: string) =>
    observed('web', 'dev', []).replace('skippedWindows: 0 }\n', `skippedWindows: 0 }\ncoverage: ${coverage}\n`);
  table(
    'observed-consistent',
    [
      { name: 'another workload', files: { [OBS]: observed('api', 'dev', []) }, prefix: `${OBS}:2:11: workload: ` },
      { name: 'another environment', files: { [OBS]: observed('web', 'stg', []) }, prefix: `${OBS}:3:14: environment: ` },
      {
        name: 'unsorted entries',
        files: { [OBS]: observed('web', 'dev', ['203.0.113.10/32', '10.0.0.1/32']) },
        prefix: `${OBS}:8:5: egress[1]: `,
        says: 'out of order',
      },
      {
        name: 'a duplicate entry',
        files: { [OBS]: observed('web', 'dev', ['10.0.0.1/32', '10.0.0.1/32']) },
        prefix: `${OBS}:8:5: egress[1]: `,
        says: 'same destination',
      },
      {
        name: 'evidence for a workload without policy',
        files: { 'observed/dev/gone.yaml': observed('gone', 'dev', []) },
        prefix: 'observed/dev/gone.yaml:2:11: workload: warning: ',
        code: 0,
      },
      {
        name: 'coverage days other than the window',
        files: { [OBS]: covered('{ days: 7, covered: 7, gaps: [], skippedWindows: 0 }') },
        prefix: `${OBS}:6:19: coverage.days: `,
        says: 'has 14 days',
      },
      {
        name: 'a coverage gap outside the window',
        files: { [OBS]: covered('{ days: 14, covered: 13, gaps: [2026-11-22], skippedWindows: 0 }') },
        prefix: `${OBS}:6:43: coverage.gaps[0]: `,
        says: 'outside the window',
      },
      {
        name: 'covered and gaps that do not add up',
        files: { [OBS]: covered('{ days: 14, covered: 14, gaps: [2026-11-09], skippedWindows: 0 }') },
        prefix: `${OBS}:6:32: coverage.covered: `,
        says: 'do not make',
      },
    ],
    [
      {
        name: 'sorted by address, IPv4 first',
        files: { [OBS]: observed('web', 'dev', ['9.9.9.9/32', '10.0.0.1/32', '"2001:db8::1/128"']) },
      },
      {
        name: 'coverage with two gaps',
        files: { [OBS]: covered('{ days: 14, covered: 12, gaps: [2026-11-09, 2026-11-20], skippedWindows: 1 }') },
      },
    ],
  );
});

describe('observed-window-mixed: observed files of one environment with different windows', () => {
  const observed = (workload: string, from: string, to: string) =>
    `# generated by leastpath observe: do not edit
workload: ${workload}
environment: dev
window: { from: ${from}, to: ${to} }
source: { engine: duckdb, records: 100, skippedWindows: 0 }
egress: []
rejected: []
`;
  const API = 'observed/dev/api.yaml';
  const OBS = 'observed/dev/web.yaml';
  table(
    'observed-window-mixed',
    [
      {
        name: 'one file a day behind (a run killed between its renames)',
        files: { [API]: observed('api', '2026-11-08', '2026-11-21'), [OBS]: observed('web', '2026-11-07', '2026-11-20') },
        prefix: `${OBS}:4:9: window: `,
        says: `window 2026-11-07..2026-11-20 differs from ${API} (2026-11-08..2026-11-21)`,
      },
      {
        name: 'the same end, another length',
        files: { [API]: observed('api', '2026-11-14', '2026-11-21'), [OBS]: observed('web', '2026-11-08', '2026-11-21') },
        prefix: `${OBS}:4:9: window: `,
      },
    ],
    [
      {
        name: 'one window',
        files: { [API]: observed('api', '2026-11-08', '2026-11-21'), [OBS]: observed('web', '2026-11-08', '2026-11-21') },
      },
      {
        name: 'a retired workload keeps its last window',
        files: {
          [OBS]: observed('web', '2026-11-08', '2026-11-21'),
          'observed/dev/gone.yaml': observed('gone', '2026-10-01', '2026-10-14'),
        },
      },
    ],
  );
});

describe('duplicate-rule: two egress rules with the same destination and ports', () => {
  table(
    'duplicate-rule',
    [
      {
        name: 'the same workload and port twice',
        files: {
          [WEB]: web(
            '  - to: { workload: api }\n    ports: [tcp/8080]\n    why: renders pages\n  - to: { workload: api }\n    ports: [tcp/8080]\n    why: health checks\n',
          ),
        },
        prefix: `${WEB}:8:5: egress[1]: warning: `,
        code: 0,
      },
    ],
    [
      {
        name: 'the same workload on another port',
        files: {
          [WEB]: web(
            '  - to: { workload: api }\n    ports: [tcp/8080]\n    why: renders pages\n  - to: { workload: api }\n    ports: [tcp/9090]\n    why: metrics\n',
          ),
        },
      },
    ],
  );
});

describe('aws-provider-range: an AWS provider range the stack cannot use', () => {
  const tf = (range: string) => ({ [ENV]: devEnvironment(`terraform: { awsProvider: ${JSON.stringify(range)} }\n`) });
  table(
    'aws-provider-range',
    [
      { name: 'a range that admits 4.x', files: tf('>= 4.0, < 7.0'), prefix: `${ENV}:13:27: terraform.awsProvider: `, says: 'before 5.0' },
      { name: 'no lower bound', files: tf('< 6.0'), prefix: `${ENV}:13:27: terraform.awsProvider: `, says: 'before 5.0' },
      {
        name: 'a range that admits nothing',
        files: tf('>= 6.0, < 5.100'),
        prefix: `${ENV}:13:27: terraform.awsProvider: `,
        says: 'admits no version',
      },
      { name: 'not a constraint (schema)', files: tf('latest'), prefix: `${ENV}:13:27: terraform.awsProvider: ` },
      {
        name: 'no upper bound',
        files: tf('>= 5.100'),
        prefix: `${ENV}:13:27: terraform.awsProvider: warning: `,
        code: 0,
        says: '7.0 or later',
      },
    ],
    [
      { name: 'the default range', files: tf('>= 5.100, < 7.0') },
      { name: 'a pessimistic 6.x range', files: tf('~> 6.29') },
      { name: 'one exact version', files: tf('5.100.0') },
    ],
  );
});
