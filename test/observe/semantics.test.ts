import { describe, expect, it } from 'vitest';
import { egressKeys, observeScenario, rejectedKeys, T0, V2 } from './helpers.js';

const WEB = '10.0.1.10';
const ENI = 'eni-0web';

describe('observe: which side is the destination', () => {
  it('tcp-flags: a SYN out and a SYN-ACK back make egress to the service port, never to the ephemeral port', async () => {
    const { files } = await observeScenario({
      workloads: { web: { cidrs: ['10.0.1.0/24'] } },
      records: [
        {
          'interface-id': ENI,
          srcaddr: WEB,
          dstaddr: '203.0.113.10',
          srcport: 51514,
          dstport: 443,
          protocol: 6,
          start: T0,
          'tcp-flags': 3,
          'flow-direction': 'egress',
        },
        {
          'interface-id': ENI,
          srcaddr: '203.0.113.10',
          dstaddr: WEB,
          srcport: 443,
          dstport: 51514,
          protocol: 6,
          start: T0,
          'tcp-flags': 19,
          'flow-direction': 'ingress',
        },
      ],
    });
    const web = files.get('web')!;
    expect(egressKeys(web)).toEqual(['203.0.113.10/32 tcp/443']);
    expect(web.egress[0]).toMatchObject({ decidedBy: 'tcp-flags', flows: 1, bytes: 1000, firstSeen: '2026-11-10', lastSeen: '2026-11-10' });
  });

  it('a response to an inbound client is never egress (the classic mistake: web:443 -> client:51514)', async () => {
    const { files } = await observeScenario({
      workloads: { web: { cidrs: ['10.0.1.0/24'] } },
      records: [
        {
          'interface-id': ENI,
          srcaddr: '10.0.0.5',
          dstaddr: WEB,
          srcport: 51514,
          dstport: 443,
          protocol: 6,
          start: T0,
          'tcp-flags': 3,
          'flow-direction': 'ingress',
        },
        {
          'interface-id': ENI,
          srcaddr: WEB,
          dstaddr: '10.0.0.5',
          srcport: 443,
          dstport: 51514,
          protocol: 6,
          start: T0,
          'tcp-flags': 19,
          'flow-direction': 'egress',
        },
      ],
    });
    expect(egressKeys(files.get('web'))).toEqual([]);
  });

  it('v2 without flags: the port the workload listens on decides; responses from it are not egress', async () => {
    const records = [];
    for (let i = 0; i < 5; i++) {
      // clients connect to web:80 from different ephemeral ports
      records.push({
        version: 2,
        'interface-id': ENI,
        srcaddr: '10.0.0.5',
        dstaddr: WEB,
        srcport: 40000 + i,
        dstport: 80,
        protocol: 6,
        start: T0 + i,
      });
      records.push({
        version: 2,
        'interface-id': ENI,
        srcaddr: WEB,
        dstaddr: '10.0.0.5',
        srcport: 80,
        dstport: 40000 + i,
        protocol: 6,
        start: T0 + i,
      });
    }
    // web calls a partner once
    records.push({
      version: 2,
      'interface-id': ENI,
      srcaddr: WEB,
      dstaddr: '198.51.100.7',
      srcport: 33000,
      dstport: 8443,
      protocol: 6,
      start: T0,
    });
    records.push({
      version: 2,
      'interface-id': ENI,
      srcaddr: '198.51.100.7',
      dstaddr: WEB,
      srcport: 8443,
      dstport: 33000,
      protocol: 6,
      start: T0,
    });
    const { files } = await observeScenario({ fields: V2, workloads: { web: { interfaces: [ENI] } }, records });
    const web = files.get('web')!;
    expect(egressKeys(web)).toEqual(['198.51.100.7/32 tcp/8443']);
    expect(web.egress[0]!.decidedBy).toBe('well-known-port');
  });

  it('accepted without a response is not established, so not egress; REJECTed attempts are rejected', async () => {
    const { files } = await observeScenario({
      workloads: { web: { cidrs: ['10.0.1.0/24'] } },
      records: [
        {
          'interface-id': ENI,
          srcaddr: WEB,
          dstaddr: '203.0.113.20',
          srcport: 40001,
          dstport: 443,
          protocol: 6,
          start: T0,
          'tcp-flags': 2,
          'flow-direction': 'egress',
        },
        {
          'interface-id': ENI,
          srcaddr: WEB,
          dstaddr: '10.0.10.5',
          srcport: 40002,
          dstport: 5432,
          protocol: 6,
          start: T0,
          'tcp-flags': 2,
          action: 'REJECT',
          'flow-direction': 'egress',
        },
        // a scanner stopped at web: not web's rejected egress
        {
          'interface-id': ENI,
          srcaddr: '192.0.2.66',
          dstaddr: WEB,
          srcport: 45555,
          dstport: 22,
          protocol: 6,
          start: T0,
          'tcp-flags': 2,
          action: 'REJECT',
          'flow-direction': 'ingress',
        },
      ],
    });
    const web = files.get('web')!;
    expect(egressKeys(web)).toEqual([]);
    expect(rejectedKeys(web)).toEqual(['10.0.10.5/32 tcp/5432']);
  });

  // AWS's NAT gateway example: on the NAT's interface, instance -> NAT (pkt-dstaddr the real host), NAT -> host,
  // host -> NAT, NAT -> instance (pkt-srcaddr the real host).
  // https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html#flow-log-example-nat
  const NAT = '10.0.0.220';
  const I = '10.0.3.31';
  const EXT = '203.0.113.5';
  const natRecords = (pkt: boolean) => [
    {
      'interface-id': 'eni-0nat',
      srcaddr: I,
      dstaddr: NAT,
      ...(pkt ? { 'pkt-srcaddr': I, 'pkt-dstaddr': EXT, 'flow-direction': 'ingress', 'tcp-flags': 3 } : {}),
      srcport: 40200,
      dstport: 443,
      protocol: 6,
      start: T0,
    },
    {
      'interface-id': 'eni-0nat',
      srcaddr: NAT,
      dstaddr: EXT,
      ...(pkt ? { 'pkt-srcaddr': NAT, 'pkt-dstaddr': EXT, 'flow-direction': 'egress', 'tcp-flags': 3 } : {}),
      srcport: 6000,
      dstport: 443,
      protocol: 6,
      start: T0,
    },
    {
      'interface-id': 'eni-0nat',
      srcaddr: EXT,
      dstaddr: NAT,
      ...(pkt ? { 'pkt-srcaddr': EXT, 'pkt-dstaddr': NAT, 'flow-direction': 'ingress', 'tcp-flags': 19 } : {}),
      srcport: 443,
      dstport: 6000,
      protocol: 6,
      start: T0,
    },
    {
      'interface-id': 'eni-0nat',
      srcaddr: NAT,
      dstaddr: I,
      ...(pkt ? { 'pkt-srcaddr': EXT, 'pkt-dstaddr': I, 'flow-direction': 'egress', 'tcp-flags': 19 } : {}),
      srcport: 443,
      dstport: 40200,
      protocol: 6,
      start: T0,
    },
  ];

  it("NAT gateway (pkt-* fields): the NAT interface's records count for the instance, with the real destination", async () => {
    // Only the NAT's subnet is logged: pkt-dstaddr still names the real destination.
    const { files } = await observeScenario({ workloads: { batch: { cidrs: ['10.0.3.0/24'] } }, records: natRecords(true) });
    expect(egressKeys(files.get('batch'))).toEqual([`${EXT}/32 tcp/443`]);
    expect(files.get('batch')!.egress[0]).toMatchObject({ flows: 1, decidedBy: 'tcp-flags' });
  });

  it("NAT gateway (v2): the instance -> NAT-address leg is never egress when the instance's own interface shows the real destination", async () => {
    const own = [
      { version: 2, 'interface-id': 'eni-0batch', srcaddr: I, dstaddr: EXT, srcport: 40200, dstport: 443, protocol: 6, start: T0 },
      { version: 2, 'interface-id': 'eni-0batch', srcaddr: EXT, dstaddr: I, srcport: 443, dstport: 40200, protocol: 6, start: T0 },
    ];
    const { files } = await observeScenario({
      fields: V2,
      workloads: { batch: { interfaces: ['eni-0batch'] } },
      records: [...own, ...natRecords(false)],
    });
    expect(egressKeys(files.get('batch'))).toEqual([`${EXT}/32 tcp/443`]);
    expect(files.get('batch')!.egress[0]!.flows).toBe(1);
  });
});
