/**
 * report: what counts as a hit of a rule. A hit is a record the rule admitted: OK + ACCEPT, on the workload's own
 * interface, in the rule's direction, on the initiator's side only, peer and protocol/ports matching.
 */
import { describe, expect, it } from 'vitest';
import { exchange, T0, type Rec } from '../observe/helpers.js';
import { hitsByRule, reportOf, ruleKey, sgRule } from './helpers.js';

const WEB = '10.0.1.10';
const API = '10.0.2.10';
const WEB_SG = 'sg-0aeb000000000000a';
const API_SG = 'sg-0a9100000000000a';

/** web opens six connections (tcp 443 out, to api, to S3, to the card partner, udp, icmp); a client opens one to web. */
function records(): Rec[] {
  return [
    ...exchange({ eni: 'eni-0aeb', src: WEB, sport: 40001, dst: '203.0.113.10', dport: 443, start: T0, flags: [2, 18] }),
    ...exchange({ eni: 'eni-0aeb', side: 'dst', src: '198.51.100.7', sport: 51514, dst: WEB, dport: 443, start: T0 + 10, flags: [2, 18] }),
    ...exchange({ eni: 'eni-0aeb', src: WEB, sport: 40002, dst: API, dport: 8080, start: T0 + 20, flags: [2, 18] }),
    ...exchange({ eni: 'eni-0a91', side: 'dst', src: WEB, sport: 40002, dst: API, dport: 8080, start: T0 + 20, flags: [2, 18] }),
    ...exchange({
      eni: 'eni-0aeb',
      src: WEB,
      sport: 40003,
      dst: '52.218.16.34',
      dport: 443,
      start: T0 + 30,
      flags: [2, 18],
      extra: { 'pkt-dst-aws-service': 'S3' },
    }),
    ...exchange({ eni: 'eni-0aeb', src: WEB, sport: 40004, dst: '198.51.100.18', dport: 443, start: T0 + 40, flags: [2, 18] }),
    ...exchange({ eni: 'eni-0aeb', src: WEB, sport: 40005, dst: '198.51.100.90', dport: 1812, protocol: 17, start: T0 + 50 }),
    ...exchange({ eni: 'eni-0aeb', src: WEB, sport: 0, dst: API, dport: 0, protocol: 1, start: T0 + 60 }),
  ];
}

const PREFIX_LISTS = 'prefixLists:\n  card-partner: { cidrs: [198.51.100.16/29], why: card processor }\n';

describe('report: hits per rule (--current)', () => {
  it('counts each direction, group references, prefix lists, ports and -1; responses hit nothing; unknowns are not counted', async () => {
    const current = {
      SecurityGroupRules: [
        sgRule('sgr-01', WEB_SG, true, 'tcp', 443, 443, { CidrIpv4: '203.0.113.0/24' }),
        sgRule('sgr-02', WEB_SG, true, 'tcp', 400, 500, { CidrIpv4: '203.0.113.10/32' }),
        sgRule('sgr-03', WEB_SG, true, 'tcp', 8080, 8080, { ReferencedGroupInfo: { GroupId: API_SG } }),
        sgRule('sgr-04', WEB_SG, true, '-1', undefined, undefined, { CidrIpv4: '0.0.0.0/0' }),
        sgRule('sgr-05', WEB_SG, true, 'tcp', 443, 443, { PrefixListId: 'pl-6da54004' }),
        sgRule('sgr-06', WEB_SG, true, 'tcp', 443, 443, { PrefixListId: 'pl-0card' }),
        sgRule('sgr-07', WEB_SG, true, 'tcp', 443, 443, { PrefixListId: 'pl-0unknown' }),
        sgRule('sgr-08', WEB_SG, false, 'tcp', 443, 443, { CidrIpv4: '0.0.0.0/0' }),
        sgRule('sgr-09', WEB_SG, true, 'tcp', 22, 22, { CidrIpv4: '0.0.0.0/0' }),
        sgRule('sgr-10', 'sg-0ff0000000000000', true, '-1', undefined, undefined, { CidrIpv4: '0.0.0.0/0' }),
        sgRule('sgr-11', WEB_SG, true, 'udp', 1812, 1812, { CidrIpv4: '198.51.100.90/32' }),
        sgRule('sgr-12', WEB_SG, true, 'tcp', 1812, 1812, { CidrIpv4: '198.51.100.90/32' }),
        sgRule('sgr-13', WEB_SG, true, 'icmp', undefined, undefined, { CidrIpv4: '10.0.2.10/32' }),
        sgRule('sgr-14', WEB_SG, true, 'tcp', 8080, 8080, { ReferencedGroupInfo: { GroupId: 'sg-0dead000000000000' } }),
        sgRule('sgr-15', WEB_SG, true, '-1', undefined, undefined, { CidrIpv6: '::/0' }),
        sgRule('sgr-16', API_SG, true, '-1', undefined, undefined, { CidrIpv4: '0.0.0.0/0' }),
        sgRule('sgr-17', API_SG, false, 'tcp', 8080, 8080, { ReferencedGroupInfo: { GroupId: WEB_SG } }),
      ],
      PrefixLists: [
        { PrefixListId: 'pl-6da54004', PrefixListName: 'com.amazonaws.eu-west-1.s3', OwnerId: 'AWS' },
        { PrefixListId: 'pl-0card', PrefixListName: 'leastpath-dev-card-partner', OwnerId: '111111111111' },
      ],
    };
    const doc = await reportOf({ logs: [{ name: 'a.log.gz', records: records() }], prefixLists: PREFIX_LISTS, current });
    expect(hitsByRule(doc)).toEqual({
      'api egress 0.0.0.0/0 all sgr-16': 0, // api only answered web: responses ride on state
      'api ingress workload:web tcp/8080 sgr-17': 1, // web's SYN, received by api
      'sg-0ff0000000000000 egress 0.0.0.0/0 all sgr-10': null, // no workload adopts this group
      'web egress 0.0.0.0/0 all sgr-04': 6, // the six records web sent in conversations it opened, not its answer to the client
      'web egress 0.0.0.0/0 tcp/22 sgr-09': 0,
      'web egress 10.0.2.10/32 icmp sgr-13': 1,
      'web egress 198.51.100.90/32 tcp/1812 sgr-12': 0, // protocol must match
      'web egress 198.51.100.90/32 udp/1812 sgr-11': 1,
      'web egress 203.0.113.0/24 tcp/443 sgr-01': 1,
      'web egress 203.0.113.10/32 tcp/400-500 sgr-02': 1,
      'web egress ::/0 all sgr-15': 0,
      'web egress pl-0unknown tcp/443 sgr-07': null,
      'web egress pl-6da54004 tcp/443 sgr-05': null, // AWS-managed: not counted, never unused
      'web egress prefixList:card-partner (pl-0card) tcp/443 sgr-06': 1,
      'web egress sg-0dead000000000000 tcp/8080 sgr-14': null,
      'web egress workload:api tcp/8080 sgr-03': 1,
      'web ingress 0.0.0.0/0 tcp/443 sgr-08': 1, // the client's request, not web's answer
    });
    expect(doc.unused.map(ruleKey)).toEqual([
      'api egress 0.0.0.0/0 all',
      'web egress 0.0.0.0/0 tcp/22',
      'web egress 198.51.100.90/32 tcp/1812',
      'web egress ::/0 all',
    ]);
    const aws = doc.rules.find((r) => r.ruleId === 'sgr-05')!;
    expect(aws).toMatchObject({ counted: false, hits: null, lastHit: null });
    expect(aws.notCounted).toMatch(/AWS-managed prefix list com\.amazonaws\.eu-west-1\.s3/);
    expect(doc.rules.find((r) => r.ruleId === 'sgr-10')!.notCounted).toMatch(/^not attributable/);
    expect(doc.rules.find((r) => r.ruleId === 'sgr-04')!.lastHit).toBe('2026-11-10');
    expect(doc.summary).toMatchObject({ rules: 17, counted: 13, notCounted: 4, unused: 4, hits: 14 });
    expect(doc.rulesFrom).toMatch(/current\.json$/);
  });

  it('only ACCEPT records with log-status OK on the own interface count; REJECTs are listed as rejected instead', async () => {
    const recs: Rec[] = [
      ...exchange({ eni: 'eni-0aeb', src: WEB, sport: 40001, dst: '203.0.113.10', dport: 443, start: T0, flags: [2, 18] }),
      ...exchange({ eni: 'eni-0aeb', src: WEB, sport: 40002, dst: '203.0.113.11', dport: 443, start: T0, flags: [2, 0], action: 'REJECT' }),
      // a NAT gateway's view of web's traffic: not web's own interface
      {
        'interface-id': 'eni-0ea7',
        srcaddr: WEB,
        dstaddr: '10.0.0.50',
        'pkt-dstaddr': '203.0.113.10',
        srcport: 40001,
        dstport: 443,
        protocol: 6,
        start: T0,
        'tcp-flags': 2,
        'flow-direction': 'ingress',
      },
    ];
    const current = { SecurityGroupRules: [sgRule('sgr-1', WEB_SG, true, 'tcp', 443, 443, { CidrIpv4: '0.0.0.0/0' })] };
    const doc = await reportOf({ logs: [{ name: 'a.log.gz', records: recs }], current });
    expect(doc.rules[0]!.hits).toBe(1);
    expect(doc.rejected).toEqual([
      { workload: 'web', destination: '203.0.113.11/32', protocol: 'tcp', port: 443, flows: 1, lastSeen: '2026-11-10' },
    ]);
  });
});

describe('report: hits per rule (resolved rules)', () => {
  it('counts intent rules: group references, named prefix lists, CIDRs; gateway-endpoint rules are not counted', async () => {
    const egress = [
      '  - { to: { workload: api }, ports: [tcp/8080], why: pages }',
      '  - { to: { prefixList: card-partner }, ports: [tcp/443], why: cards }',
      '  - { to: { service: s3 }, why: uploads }',
      '  - { to: { cidrs: [203.0.113.0/24] }, ports: [tcp/443], why: partner }',
      '  - { to: { cidrs: [192.0.2.0/24] }, ports: [tcp/443], why: old partner }',
      '',
    ].join('\n');
    const doc = await reportOf({ logs: [{ name: 'a.log.gz', records: records() }], prefixLists: PREFIX_LISTS, egress: { web: egress } });
    expect(hitsByRule(doc)).toEqual({
      'web egress 192.0.2.0/24 tcp/443': 0,
      'web egress 203.0.113.0/24 tcp/443': 1,
      'web egress prefixList:card-partner tcp/443': 1,
      'web egress service:s3 tcp/443': null,
      'web egress workload:api tcp/8080': 1,
    });
    expect(doc.unused.map(ruleKey)).toEqual(['web egress 192.0.2.0/24 tcp/443']);
    expect(doc.rulesFrom).toBe('resolved');
    expect(doc.window).toMatchObject({ from: '2026-11-08', to: '2026-11-21', days: 14 });
  });
});
