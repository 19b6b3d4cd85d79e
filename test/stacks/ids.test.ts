import { describe, expect, it } from 'vitest';
import { cidrPart, ids, namePart, portsPart, TERRAFORM_NAME } from '../../stacks/ids.js';

describe('construct ids: readable, valid Terraform names, derived from content', () => {
  it('names an egress rule by workload, protocol, ports and peer', () => {
    expect(ids.egressRule('web', 'tcp', 443, 443, { kind: 'cidr', cidr: '203.0.113.10/32' })).toBe(
      'egress_web_tcp-443_cidr_203-0-113-10_32',
    );
    expect(ids.egressRule('web', 'tcp', 8000, 8100, { kind: 'workload', workload: 'api' })).toBe('egress_web_tcp-8000-8100_sg_api');
    expect(ids.egressRule('web', 'udp', undefined, undefined, { kind: 'prefixList', name: 'card-partner' })).toBe(
      'egress_web_udp-all_pl_card-partner',
    );
    expect(ids.egressRule('web', 'all', undefined, undefined, { kind: 'awsPrefixList', service: 's3' })).toBe('egress_web_all_awspl_s3');
    expect(ids.egressRule('1web', 47, undefined, undefined, { kind: 'cidr', cidr: '2001:db8::/32' })).toBe(
      'egress_1web_proto-47_cidr_2001-db8--_32',
    );
  });

  it.each([
    ['tcp', 443, 443, 'tcp-443'],
    ['tcp', 1, 1024, 'tcp-1-1024'],
    ['udp', undefined, undefined, 'udp-all'],
    ['icmp', undefined, undefined, 'icmp'],
    ['icmp', -1, -1, 'icmp'],
    ['icmp', 8, undefined, 'icmp-8'],
    ['icmpv6', 1, 4, 'icmpv6-1-4'],
    ['all', undefined, undefined, 'all'],
    [50, undefined, undefined, 'proto-50'],
  ] as const)('ports part of %s %s-%s is %s', (protocol, from, to, expected) => {
    expect(portsPart(protocol, from, to)).toBe(expected);
  });

  it('renders canonical CIDRs injectively, without a hash', () => {
    const cidrs = ['10.0.0.0/8', '10.0.0.0/16', '2001:db8::/32', '2001:db8::1/128', '::/0', '0.0.0.0/0', '2001:db8:0:1::/64'];
    const parts = cidrs.map(cidrPart);
    expect(new Set(parts).size).toBe(cidrs.length);
    expect(cidrPart('::/0')).toBe('--_0');
  });

  it('keeps plain names and hashes the others, so ecr.api and ecr-api stay apart', () => {
    expect(namePart('card-partner')).toBe('card-partner');
    expect(namePart('ecr.api')).toMatch(/^ecr-api-[0-9a-f]{6}$/);
    expect(namePart('ecr.api')).not.toBe(namePart('ecr-api'));
    expect(namePart('ecr.api')).toBe(namePart('ecr.api'));
  });

  it('every kind of id is a valid Terraform name (letter first; letters, digits, _ and -)', () => {
    const all = [
      ids.workloadGroup('0day'),
      ids.endpointGroup('sagemaker.runtime'),
      ids.endpoint('execute-api'),
      ids.prefixList('Weird Name!'),
      ids.endpointIngress('ecr.dkr', 'web'),
      ids.naclRule('acl-0123', true, 100),
      ids.groupTag('api', 'ManagedBy'),
      ids.egressRule('web', 'icmpv6', 128, 0, { kind: 'endpoint', service: 'ecr.api' }),
    ];
    for (const id of all) expect(id, id).toMatch(TERRAFORM_NAME);
  });

  it('bounds very long ids with a hash', () => {
    const id = ids.egressRule('w'.repeat(63), 'tcp', 1, 2, { kind: 'prefixList', name: 'p'.repeat(63) + '-'.repeat(100) + 'x' });
    expect(id.length).toBeLessThanOrEqual(200);
    expect(id).toMatch(TERRAFORM_NAME);
  });
});
