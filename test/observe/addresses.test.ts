/**
 * Addresses: what is never a destination, how destinations are written, which records belong to which
 * workload (interfaces, instances, subnets, cidrs), and which AWS service is behind an address.
 */
import { describe, expect, it } from 'vitest';
import type { WorkloadSelector } from '../../model/types.js';
import { awsServiceLookup } from '../../observe/aws-ranges.js';
import { egressKeys, exchange, observeScenario, rejectedKeys, T0, V2, type Exchange, type Rec } from './helpers.js';

const WEB = '10.0.1.10';
const WEB6 = '2001:db8:1::10';
const ENI = 'eni-0web';

let nextPort = 40000;
/** web's connection to `dst`:`dport` with a handshake, on web's interface, each from a port of its own. */
const call = (dst: string, dport: number, x: Partial<Exchange> = {}): Rec[] =>
  exchange({ eni: ENI, src: dst.includes(':') ? WEB6 : WEB, sport: nextPort++, dst, dport, start: T0, flags: [2, 18], ...x });

describe('never-logged, link-local and multicast addresses never appear', () => {
  it('metadata, Time Sync, the link-local resolver, fe80::/10, multicast and broadcast are neither egress nor rejected', async () => {
    const records = [
      ...call('169.254.169.254', 80),
      ...call('169.254.169.123', 123, { protocol: 17, flags: [0, 0] }),
      ...call('169.254.169.253', 53, { protocol: 17, flags: [0, 0] }),
      ...call('169.254.169.254', 443, { action: 'REJECT', flags: [2, 0] }),
      ...exchange({ eni: ENI, src: 'fe80::a', sport: 546, dst: 'fe80::1', dport: 547, protocol: 17, start: T0 }),
      ...exchange({ eni: ENI, src: 'fe80::a', sport: 40000, dst: 'FE80::1', dport: 8080, start: T0, flags: [2, 18] }),
      ...call('224.0.0.251', 5353, { protocol: 17, sport: 5353, flags: [0, 0] }),
      ...call('239.255.255.250', 1900, { protocol: 17, flags: [0, 0] }),
      ...call('ff02::1', 0, { protocol: 58, sport: 0, flags: [0, 0] }),
      ...call('ff02::1:2', 547, { protocol: 17, flags: [0, 0] }),
      ...call('255.255.255.255', 67, { protocol: 17, sport: 68, flags: [0, 0] }),
      ...call('203.0.113.10', 443),
    ];
    const { files } = await observeScenario({ workloads: { web: { interfaces: [ENI] } }, records });
    expect(egressKeys(files.get('web'))).toEqual(['203.0.113.10/32 tcp/443']);
    expect(rejectedKeys(files.get('web'))).toEqual([]);
  });
});

describe('destinations: IPv4 as /32, IPv6 as /128 in canonical compressed form', () => {
  it.each([
    ['IPv4', '203.0.113.10', '203.0.113.10/32'],
    ['IPv6 compressed', '2600:1f18::1', '2600:1f18::1/128'],
    ['IPv6 in capitals', '2001:DB8:5::7', '2001:db8:5::7/128'],
    ['IPv6 uncompressed with leading zeros', '2001:0db8:0006:0000:0000:0000:0000:0008', '2001:db8:6::8/128'],
    ['IPv6 uncompressed in capitals', '2001:0DB8:0000:0000:0000:0000:0ABC:0001', '2001:db8::abc:1/128'],
  ])('%s', async (_name, written, destination) => {
    const { files } = await observeScenario({
      workloads: { web: { cidrs: ['10.0.1.0/24', '2001:db8:1::/64'] } },
      records: call(written, 443),
    });
    expect(egressKeys(files.get('web'))).toEqual([`${destination} tcp/443`]);
  });

  it('entries are sorted: IPv4 numerically first, then IPv6, then protocol and port', async () => {
    const records = [
      ...call('2001:db8:5::7', 443),
      ...call('203.0.113.9', 443),
      ...call('203.0.113.10', 8443),
      ...call('203.0.113.10', 443),
      ...call('203.0.113.10', 53, { protocol: 17, flags: [0, 0] }),
      ...call('10.0.9.1', 443),
    ];
    const { files } = await observeScenario({ workloads: { web: { cidrs: ['10.0.1.0/24', '2001:db8:1::/64'] } }, records });
    expect(egressKeys(files.get('web'))).toEqual([
      '10.0.9.1/32 tcp/443',
      '203.0.113.9/32 tcp/443',
      '203.0.113.10/32 tcp/443',
      '203.0.113.10/32 tcp/8443',
      '203.0.113.10/32 udp/53',
      '2001:db8:5::7/128 tcp/443',
    ]);
  });
});

describe('cidrs selectors: IPv6 at any prefix length, IPv4', () => {
  // [selector, addresses inside, addresses outside]
  it.each([
    [
      '2001:db8:0:4::/62',
      ['2001:db8:0:4::5', '2001:db8:0:7:ffff:ffff:ffff:ffff', '2001:DB8:0:7:0:0:0:5'],
      ['2001:db8:0:3::5', '2001:db8:0:8::5'],
    ],
    ['2001:db8:0:80::/57', ['2001:db8:0:80::1', '2001:db8:0:ff::1'], ['2001:db8:0:7f::1', '2001:db8:0:100::1']],
    [
      '2001:db8:1:2::/64',
      ['2001:db8:1:2::1', '2001:0db8:0001:0002:0000:0000:0000:0002'],
      ['2001:db8:1:3::1', '2001:db8:1:1:ffff:ffff:ffff:ffff'],
    ],
    ['2001:db8::/32', ['2001:db8:ffff::1'], ['2001:db9::1']],
    ['10.0.1.0/26', ['10.0.1.0', '10.0.1.63'], ['10.0.1.64', '10.0.0.255']],
    ['10.0.1.10/32', ['10.0.1.10'], ['10.0.1.11']],
  ])('%s', async (cidr, inside, outside) => {
    const sources = [...inside, ...outside];
    // each source calls its own destination: 203.0.113.<i> or 2600:1f18::<i>
    const dest = (i: number, v6: boolean) => (v6 ? `2600:1f18::${i + 1}` : `203.0.113.${i + 1}`);
    const records = sources.flatMap((src, i) =>
      exchange({ eni: `eni-${i}`, src, sport: 40000, dst: dest(i, src.includes(':')), dport: 443, start: T0, flags: [2, 18] }),
    );
    const { files } = await observeScenario({ workloads: { w: { cidrs: [cidr] } }, records });
    const expected = inside.map((src, i) => dest(i, src.includes(':')));
    expect(files.get('w')!.egress.map((e) => e.destination.split('/')[0])).toEqual(expected);
  });
});

describe('attribution: records belong to the workload its selector names', () => {
  /** web (10.0.1.10 on eni-0web, i-0web, subnet-0web) and another host (10.1.1.99 on eni-0other, i-0other, subnet-0other). */
  const records = (fields: 'v5' | 'v2') => {
    const x = (eni: string, src: string, dst: string, inst: string, subnet: string) =>
      exchange({
        eni,
        src,
        sport: 40000,
        dst,
        dport: 443,
        start: T0,
        ...(fields === 'v5' ? { flags: [2, 18] as [number, number] } : {}),
        extra: { 'instance-id': inst, 'subnet-id': subnet },
      });
    return [
      ...x('eni-0web', WEB, '203.0.113.10', 'i-0web', 'subnet-0web'),
      ...x('eni-0other', '10.1.1.99', '203.0.113.99', 'i-0other', 'subnet-0other'),
    ];
  };
  it.each([
    ['interfaces', { interfaces: ['eni-0web'] }, 'v5'],
    ["interfaces (v2: the interface's own address is inferred)", { interfaces: ['eni-0web'] }, 'v2'],
    ['instances (instance-id field)', { instances: ['i-0web'] }, 'v5'],
    ['subnets (subnet-id field)', { subnets: ['subnet-0web'] }, 'v5'],
    ['cidrs', { cidrs: ['10.0.1.0/24'] }, 'v5'],
    ['cidrs (v2)', { cidrs: ['10.0.1.0/24'] }, 'v2'],
  ] as [string, Partial<WorkloadSelector>, 'v5' | 'v2'][])('%s', async (_name, selector, fields) => {
    const { files } = await observeScenario({
      workloads: { web: selector },
      records: records(fields),
      ...(fields === 'v2' ? { fields: V2 } : {}),
    });
    expect(egressKeys(files.get('web'))).toEqual(['203.0.113.10/32 tcp/443']);
    expect(files.get('web')!.egress[0]!.flows).toBe(1);
  });

  it.each([
    ['v5, SYN / SYN-ACK', 'v5'],
    ['v2, no flags', 'v2'],
  ])(
    'two workloads in one VPC, web -> api:8080, both interfaces logged: egress for web (counted once), nothing for api (%s)',
    async (_name, fmt) => {
      const API = '10.0.2.20';
      const flags: [number, number] = fmt === 'v5' ? [2, 18] : [0, 0];
      const records = [
        ...[1, 2, 3].flatMap((i) => [
          ...exchange({ eni: 'eni-0web', src: WEB, sport: 40000 + i, dst: API, dport: 8080, start: T0 + i * 60, flags }),
          ...exchange({ eni: 'eni-0api', side: 'dst', src: WEB, sport: 40000 + i, dst: API, dport: 8080, start: T0 + i * 60, flags }),
        ]),
        // web talks to more than api (in v2 this tells web's own address from its peer's on its interface)
        ...exchange({ eni: 'eni-0web', src: WEB, sport: 41000, dst: '203.0.113.10', dport: 443, start: T0, flags }),
      ];
      const { files } = await observeScenario({
        workloads: { web: { cidrs: ['10.0.1.0/24'] }, api: { interfaces: ['eni-0api'] } },
        records,
        ...(fmt === 'v2' ? { fields: V2 } : {}),
      });
      expect(egressKeys(files.get('web'))).toEqual(['10.0.2.20/32 tcp/8080', '203.0.113.10/32 tcp/443']);
      expect(files.get('web')!.egress[0]).toMatchObject({ flows: 3, bytes: 3000 });
      expect(files.get('api')!.egress).toEqual([]);
      expect(files.get('api')!.rejected).toEqual([]);
    },
  );
});

describe('v2: an interface that talks to one peer only', () => {
  it("its own address is the one that is not another interface's own address (both inside the VPC)", async () => {
    const API = '10.0.2.20';
    const flags: [number, number] = [0, 0];
    const records = [
      // web's interface logs only web <-> api: its two addresses tie on record count, both inside the VPC
      ...[1, 2].flatMap((i) => exchange({ eni: 'eni-0web', src: WEB, sport: 40000 + i, dst: API, dport: 5432, start: T0 + i * 60, flags })),
      // api's interface logs more peers, so its own address is plain: api's, never web's
      ...[1, 2].flatMap((i) =>
        exchange({ eni: 'eni-0api', side: 'dst', src: WEB, sport: 40000 + i, dst: API, dport: 5432, start: T0 + i * 60, flags }),
      ),
      ...exchange({ eni: 'eni-0api', src: '10.0.3.30', sport: 41000, dst: API, dport: 5432, start: T0, flags, side: 'dst' }),
    ];
    const { files } = await observeScenario({
      workloads: { web: { interfaces: ['eni-0web'] }, api: { interfaces: ['eni-0api'] } },
      records,
      fields: V2,
    });
    expect(egressKeys(files.get('web'))).toEqual(['10.0.2.20/32 tcp/5432']);
    expect(files.get('web')!.egress[0]).toMatchObject({ flows: 2 });
    expect(files.get('api')!.egress).toEqual([]);
  });
});

describe('AWS service: from pkt-dst-aws-service, else from the pinned ip-ranges', () => {
  const lookup = awsServiceLookup('eu-west-1');
  it('the pinned ranges know the addresses used here', () => {
    expect(lookup('52.218.1.10/32')).toBe('S3');
    expect(lookup('52.119.240.10/32')).toBe('DYNAMODB');
    expect(lookup('2a05:d079::1/128')).toBe('S3');
    expect(lookup('54.239.0.10/32')).toBeNull();
  });

  it.each([
    ['pkt-dst-aws-service S3', undefined, '54.239.0.10', 'S3', 'S3'],
    ['pkt-dst-aws-service AMAZON says nothing: null', undefined, '54.239.0.10', 'AMAZON', null],
    ['pkt-dst-aws-service AMAZON on an S3 address: the ranges say S3', undefined, '52.218.1.10', 'AMAZON', 'S3'],
    ['v2, no service field: S3 from the ranges', V2, '52.218.1.10', undefined, 'S3'],
    ['v2, no service field: DYNAMODB from the ranges', V2, '52.119.240.10', undefined, 'DYNAMODB'],
    ['v2, no service field: IPv6 S3 from the ranges', V2, '2a05:d079::1', undefined, 'S3'],
    ['v2, an address AWS does not publish: null', V2, '203.0.113.10', undefined, null],
  ] as [string, string[] | undefined, string, string | undefined, string | null][])('%s', async (_name, fields, dst, svc, expected) => {
    const records = call(dst, 443, svc ? { extra: { 'pkt-dst-aws-service': svc } } : { flags: [0, 0] });
    const { files } = await observeScenario({
      workloads: { web: { cidrs: ['10.0.1.0/24', '2001:db8:1::/64'] } },
      records,
      ...(fields ? { fields } : {}),
    });
    expect(files.get('web')!.egress.map((e) => e.service)).toEqual([expected]);
  });
});
