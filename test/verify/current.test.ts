/** report --current: the JSON answer of DescribeSecurityGroupRules, parsed strictly, errors naming the file and entry. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../core/errors.js';
import { parseCurrentRules, rulesFromCurrent } from '../../verify/report.js';
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
          SecurityGroupRuleId: 'sgr-0123456789abcdef0', GroupId: 'sg-0a9100000000000a', GroupOwnerId: '111111111111', IsEgress: true,
          IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIpv4: '0.0.0.0/0', Description: 'webhooks', Tags: [],
        },
        { GroupId: 'sg-0a9100000000000a', IsEgress: false, IpProtocol: '-1', FromPort: -1, ToPort: -1, ReferencedGroupInfo: { GroupId: 'sg-0aeb000000000000a', UserId: '111111111111' } },
      ],
    });
    expect(parseCurrentRules(text, 'current.json').rules).toEqual([
      { SecurityGroupRuleId: 'sgr-0123456789abcdef0', GroupId: 'sg-0a9100000000000a', IsEgress: true, IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIpv4: '0.0.0.0/0', Description: 'webhooks' },
      { GroupId: 'sg-0a9100000000000a', IsEgress: false, IpProtocol: '-1', FromPort: -1, ToPort: -1, ReferencedGroupInfo: { GroupId: 'sg-0aeb000000000000a' } },
    ]);
  });

  it('refuses what is not that answer, naming the entry', () => {
    expect(parseError('{')).toMatch(/^: not JSON/);
    expect(parseError('[]')).toBe('SecurityGroupRules: expected the answer of DescribeSecurityGroupRules: {"SecurityGroupRules": [...]}');
    expect(parseError('{"SecurityGroupRules": [{"IsEgress": true, "IpProtocol": "tcp"}]}')).toBe('SecurityGroupRules[0]: GroupId is missing');
    expect(parseError('{"SecurityGroupRules": [{"GroupId": "sg-1", "IsEgress": "yes", "IpProtocol": "tcp"}]}')).toBe('SecurityGroupRules[0]: IsEgress must be true or false');
    expect(parseError('{"SecurityGroupRules": [{"GroupId": "sg-1", "IsEgress": true, "IpProtocol": "tcp", "CidrIpv4": "0.0.0.0/0", "PrefixListId": "pl-1"}]}')).toMatch(
      /^SecurityGroupRules\[0\]: a rule needs exactly one of/,
    );
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
