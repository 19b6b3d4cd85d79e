/** report --current: the JSON answer of DescribeSecurityGroupRules, parsed strictly, errors naming the file and entry. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../core/errors.js';
import { parseCurrentRules, rulesFromCurrent } from '../../verify/current-rules.js';
import type { ReportDocument } from '../../verify/report.js';
import { exchange, T0 } from '../observe/helpers.js';
import { runCli } from '../validate/org.js';
import { writeReportOrg } from './helpers.js';

const parseError = (text: string) => {
  try {
    parseCurrentRules(text, 'current.json');
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return `${(err as InputError).where?.path ?? ''}: ${(err as Error).message}`;
  }
  throw new Error('expected a parse error');
};

describe('report --current: parsing DescribeSecurityGroupRules', () => {
  it('reads the fields the report needs, as the AWS CLI prints them', () => {
    const text = JSON.stringify({
      SecurityGroupRules: [
        {
          SecurityGroupRuleId: 'sgr-0123456789abcdef0',
          GroupId: 'sg-0a9100000000000a',
          GroupOwnerId: '111111111111',
          IsEgress: true,
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          CidrIpv4: '0.0.0.0/0',
          Description: 'webhooks',
          Tags: [],
        },
        {
          GroupId: 'sg-0a9100000000000a',
          IsEgress: false,
          IpProtocol: '-1',
          FromPort: -1,
          ToPort: -1,
          ReferencedGroupInfo: { GroupId: 'sg-0aeb000000000000a', UserId: '111111111111' },
        },
      ],
    });
    expect(parseCurrentRules(text, 'current.json').rules).toEqual([
      {
        SecurityGroupRuleId: 'sgr-0123456789abcdef0',
        GroupId: 'sg-0a9100000000000a',
        IsEgress: true,
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        CidrIpv4: '0.0.0.0/0',
        Description: 'webhooks',
      },
      {
        GroupId: 'sg-0a9100000000000a',
        IsEgress: false,
        IpProtocol: '-1',
        FromPort: -1,
        ToPort: -1,
        ReferencedGroupInfo: { GroupId: 'sg-0aeb000000000000a' },
      },
    ]);
  });

  it('refuses what is not that answer, naming the entry', () => {
    expect(parseError('{')).toMatch(/^: not JSON/);
    expect(parseError('[]')).toBe('SecurityGroupRules: expected the answer of DescribeSecurityGroupRules: {"SecurityGroupRules": [...]}');
    expect(parseError('{"SecurityGroupRules": [{"IsEgress": true, "IpProtocol": "tcp"}]}')).toBe(
      'SecurityGroupRules[0]: GroupId is missing',
    );
    expect(parseError('{"SecurityGroupRules": [{"GroupId": "sg-1", "IsEgress": "yes", "IpProtocol": "tcp"}]}')).toBe(
      'SecurityGroupRules[0]: IsEgress must be true or false',
    );
    expect(
      parseError(
        '{"SecurityGroupRules": [{"GroupId": "sg-1", "IsEgress": true, "IpProtocol": "tcp", "CidrIpv4": "0.0.0.0/0", "PrefixListId": "pl-1"}]}',
      ),
    ).toMatch(/^SecurityGroupRules\[0\]: a rule needs exactly one of/);
  });

  it('maps groups to workloads through securityGroup; -1 and 0-65535 mean every port; ICMP type/code is not a port range', () => {
    const config = {
      environment: 'dev',
      workloads: { api: { cidrs: [], interfaces: [], instances: [], subnets: [], securityGroup: 'sg-0a9100000000000a' } },
    } as never;
    const rules = rulesFromCurrent(
      {
        rules: [
          { GroupId: 'sg-0a9100000000000a', IsEgress: true, IpProtocol: 'tcp', FromPort: 0, ToPort: 65535, CidrIpv4: '10.0.0.0/8' },
          { GroupId: 'sg-0a9100000000000a', IsEgress: true, IpProtocol: 'icmp', FromPort: 8, ToPort: 0, CidrIpv4: '10.0.0.0/8' },
          { GroupId: 'sg-0a9100000000000a', IsEgress: true, IpProtocol: '50', FromPort: -1, ToPort: -1, CidrIpv4: '10.0.0.0/8' },
        ],
        prefixLists: [],
      },
      config,
      {},
    );
    expect(rules.map((r) => [r.rule.group, r.rule.protocol, r.rule.fromPort, r.match?.protocol, r.match?.fromPort])).toEqual([
      ['api', 'tcp', null, 6, null],
      ['api', 'icmp', null, 1, null],
      ['api', '50', null, 50, null],
    ]);
  });

  it('the CLI: a missing or broken file is a usage or input error (exit 2) naming it', async () => {
    const root = await writeReportOrg({ logs: [{ name: 'a.log', records: [] }] });
    const missing = await runCli(['--root', root, 'report', '--env', 'dev', '--current', join(root, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.join('\n')).toMatch(/--current .*nope\.json: no such file/);
    const dir = await mkdtemp(join(tmpdir(), 'leastpath-current-'));
    await writeFile(join(dir, 'bad.json'), '{"SecurityGroupRules": [{}]}');
    const bad = await runCli(['--root', root, 'report', '--env', 'dev', '--current', join(dir, 'bad.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.join('\n')).toMatch(/bad\.json:1:1: SecurityGroupRules\[0\]: GroupId is missing/);
  });
});

describe('report --current: egress rules of adopted groups that leastpath did not write', () => {
  const WEB_GROUP = 'sg-0aeb000000000000a';
  const leastpathTags = [
    { Key: 'ManagedBy', Value: 'leastpath' },
    { Key: 'Environment', Value: 'dev' },
  ];
  const current = {
    SecurityGroupRules: [
      // the default rule every group is created with: adopting the group does not remove it
      {
        SecurityGroupRuleId: 'sgr-0default00000000a',
        GroupId: WEB_GROUP,
        IsEgress: true,
        IpProtocol: '-1',
        FromPort: -1,
        ToPort: -1,
        CidrIpv4: '0.0.0.0/0',
      },
      // written by the stack (synth tags every resource ManagedBy=leastpath)
      {
        SecurityGroupRuleId: 'sgr-0stack000000000a',
        GroupId: WEB_GROUP,
        IsEgress: true,
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        CidrIpv4: '203.0.113.0/24',
        Tags: leastpathTags,
      },
      // ingress is not the stack's to own
      {
        SecurityGroupRuleId: 'sgr-0ingress00000000a',
        GroupId: WEB_GROUP,
        IsEgress: false,
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        CidrIpv4: '10.0.0.0/16',
      },
      // a group no workload adopts is not leastpath's either way
      {
        SecurityGroupRuleId: 'sgr-0other000000000a',
        GroupId: 'sg-0999000000000000a',
        IsEgress: true,
        IpProtocol: '-1',
        CidrIpv4: '0.0.0.0/0',
      },
    ],
  };
  const org = (mode: 'audit' | 'enforce') =>
    writeReportOrg({
      mode,
      current,
      logs: [
        {
          name: 'a.log',
          records: exchange({
            eni: 'eni-0aeb',
            src: '10.0.1.10',
            sport: 40001,
            dst: '203.0.113.10',
            dport: 443,
            start: T0,
            flags: [2, 18],
          }),
        },
      ],
    });
  const report = (root: string, format: string) =>
    runCli(['--root', root, 'report', '--env', 'dev', '--to', '2026-11-21', '--current', join(root, 'current.json'), '--format', format]);

  it('lists each with the command that revokes it, and warns (exit 1) where the environment is enforced', async () => {
    const root = await org('enforce');
    const run = await report(root, 'json');
    expect(run.code, run.stderr.join('\n')).toBe(1);
    const doc = JSON.parse(run.stdout) as ReportDocument;
    expect(doc.summary.outside).toBe(1);
    expect(doc.outside.map((r) => [r.group, r.ruleId, r.peer, r.outside])).toEqual([
      [
        'web',
        'sgr-0default00000000a',
        '0.0.0.0/0',
        {
          groupId: WEB_GROUP,
          revoke: `aws ec2 revoke-security-group-egress --group-id ${WEB_GROUP} --security-group-rule-ids sgr-0default00000000a`,
        },
      ],
    ]);
    // the allow-all rule admitted the traffic too: its hits say what it carries today
    expect(doc.outside[0]!.hits).toBe(1);
    const warning = run.stderr.find((l) => l.includes('outside') || l.includes('did not write'));
    expect(warning).toMatch(
      /^policies\/dev\/environment\.yaml:\d+:\d+: workloads\.web\.securityGroup: warning: sg-0aeb000000000000a has egress rule sgr-0default00000000a \(every protocol to 0\.0\.0\.0\/0\) that leastpath did not write; .*revoke it once: aws ec2 revoke-security-group-egress --group-id sg-0aeb000000000000a --security-group-rule-ids sgr-0default00000000a$/,
    );
    const md = await report(root, 'md');
    expect(md.stdout).toContain('### Rules outside leastpath on adopted groups');
    expect(md.stdout).toContain(
      '`aws ec2 revoke-security-group-egress --group-id sg-0aeb000000000000a --security-group-rule-ids sgr-0default00000000a`',
    );
    expect(md.stdout).not.toContain('sgr-0stack000000000a |');
    const html = await report(root, 'html');
    expect(html.stdout).toContain('<div class="tile warn" data-key="outside" data-value="1">');
    expect(html.stdout.match(/<tr class="outside" data-group="sg-0aeb000000000000a" data-rule="([^"]+)">/g)).toEqual([
      '<tr class="outside" data-group="sg-0aeb000000000000a" data-rule="sgr-0default00000000a">',
    ]);
  });

  it('in audit mode the list is there, but nothing is enforced yet: no warning, exit 0', async () => {
    const root = await org('audit');
    const run = await report(root, 'json');
    expect(run.code, run.stderr.join('\n')).toBe(0);
    expect((JSON.parse(run.stdout) as ReportDocument).outside.map((r) => r.ruleId)).toEqual(['sgr-0default00000000a']);
    expect(run.stderr.join('\n')).not.toMatch(/did not write/);
  });
});
