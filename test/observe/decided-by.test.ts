/**
 * Which side is the destination (domain.md): each rule that decides the initiator, in its order (tcp-flags,
 * reverse-flow, listening-port, well-known-port; flow-direction for portless protocols), named in the output.
 * Every case is built so that the classic mistake, or the rules in another order, would give another answer.
 */
import { describe, expect, it } from 'vitest';
import { egressKeys, exchange, observeScenario, rejectedKeys, SCAN_FROM, T0, V2, type Exchange, type Rec } from './helpers.js';

const WEB = '10.0.1.10';
const ENI = 'eni-0web';
const web = { web: { cidrs: ['10.0.1.0/24'] } };

/** An outbound exchange of web on its own interface. */
const out = (x: Omit<Exchange, 'eni' | 'src'>): Rec[] => exchange({ eni: ENI, src: WEB, ...x });
/** An inbound exchange: `src` opens a connection to web, logged on web's interface. */
const inbound = (x: Omit<Exchange, 'eni' | 'dst' | 'side'>): Rec[] => exchange({ eni: ENI, dst: WEB, side: 'dst', ...x });

async function webEgress(records: Rec[], fields?: string[]) {
  const { files } = await observeScenario({ workloads: web, records, ...(fields ? { fields } : {}) });
  const o = files.get('web')!;
  return { keys: egressKeys(o), decided: o.egress.map((e) => e.decidedBy), o };
}

describe('tcp-flags: the side that sent the SYN initiated; the side that sent the SYN-ACK is the server', () => {
  it.each([
    ['SYN 2 out, SYN-ACK 18 back', [2, 18]],
    ['SYN+FIN 3 out, SYN-ACK+FIN 19 back (opened and closed in one interval)', [3, 19]],
    ['SYN 2 out, SYN-ACK+FIN 19 back', [2, 19]],
  ] as [string, [number, number]][])('%s: egress to the service port', async (_name, flags) => {
    const r = await webEgress(out({ sport: 51514, dst: '203.0.113.10', dport: 443, start: T0, flags }));
    expect(r.keys).toEqual(['203.0.113.10/32 tcp/443']);
    expect(r.decided).toEqual(['tcp-flags']);
  });

  it.each([
    ['SYN 2 in, SYN-ACK 18 out', [2, 18]],
    ['SYN+FIN 3 in, SYN-ACK+FIN 19 out', [3, 19]],
  ] as [string, [number, number]][])('%s: web is the server, nothing is egress', async (_name, flags) => {
    const r = await webEgress(inbound({ src: '198.51.100.20', sport: 51514, dport: 443, start: T0, flags }));
    expect(r.keys).toEqual([]);
  });

  it("beats the well-known port: web opens from port 20 to a client's high port (active FTP data): egress to the high port", async () => {
    const r = await webEgress(out({ sport: 20, dst: '198.51.100.21', dport: 50123, start: T0, flags: [2, 18] }));
    expect(r.keys).toEqual(['198.51.100.21/32 tcp/50123']);
    expect(r.decided).toEqual(['tcp-flags']);
  });

  it("beats the well-known port the other way: a SYN from port 20 into web's high port is not egress to port 20", async () => {
    const r = await webEgress(inbound({ src: '198.51.100.22', sport: 20, dport: 50123, start: T0, flags: [2, 18] }));
    expect(r.keys).toEqual([]);
  });

  it('beats reverse-flow: the SYN-ACK record starting earlier than the SYN record does not make web the server', async () => {
    const r = await webEgress(out({ sport: 51514, dst: '203.0.113.11', dport: 443, start: T0 + 30, replyStart: T0, flags: [2, 18] }));
    expect(r.keys).toEqual(['203.0.113.11/32 tcp/443']);
    expect(r.decided).toEqual(['tcp-flags']);
  });
});

describe('reverse-flow: without flags, the direction whose first record starts strictly earlier initiated', () => {
  it("web's record first, the reply later: egress, even where the port numbers would say the opposite", async () => {
    // well-known-port alone would call 40000 the service (the lower of two unregistered ports)
    const r = await webEgress(out({ sport: 40000, dst: '203.0.113.30', dport: 45000, start: T0, replyStart: T0 + 10 }));
    expect(r.keys).toEqual(['203.0.113.30/32 tcp/45000']);
    expect(r.decided).toEqual(['reverse-flow']);
  });

  it("the peer's record first: web answered, nothing is egress (not 40000, the lower port)", async () => {
    const r = await webEgress(inbound({ src: '203.0.113.31', sport: 40000, dport: 45000, start: T0, replyStart: T0 + 10 }));
    expect(r.keys).toEqual([]);
  });

  it('both directions start in the same second: reverse-flow does not decide (the well-known port does)', async () => {
    const r = await webEgress(out({ sport: 51514, dst: '203.0.113.32', dport: 443, start: T0 }));
    expect(r.keys).toEqual(['203.0.113.32/32 tcp/443']);
    expect(r.decided).toEqual(['well-known-port']);
  });

  // A conversation whose first record starts within 600 s (the longest aggregation interval) of the start of
  // the scan may have begun before it: which record came first then says nothing.
  it.each([
    ['300 s after the scan start', 300, []],
    ['599 s after the scan start', 599, []],
    ['exactly 600 s after the scan start (not more than the longest aggregation interval)', 600, []],
    ['601 s after the scan start', 601, ['203.0.113.33/32 tcp/45000']],
    ['inside the window', T0 - 3600 - SCAN_FROM, ['203.0.113.33/32 tcp/45000']],
  ] as [string, number, string[]][])('first record %s', async (_name, offset, expected) => {
    const first = SCAN_FROM + offset;
    const records = [
      ...out({ sport: 40000, dst: '203.0.113.33', dport: 45000, start: first, replyStart: first + 60 }),
      // the same connection goes on inside the window, both directions in the same second
      ...out({ sport: 40000, dst: '203.0.113.33', dport: 45000, start: T0 }),
    ];
    const r = await webEgress(records);
    expect(r.keys).toEqual(expected);
    if (expected.length > 0) expect(r.decided).toEqual(['reverse-flow']);
  });

  it('a connection already under way at the scan start, web streaming first from port 443, is not egress to the client port', async () => {
    const first = SCAN_FROM + 300;
    const records = [
      ...out({ sport: 443, dst: '198.51.100.40', dport: 50000, start: first, replyStart: first + 60 }),
      ...out({ sport: 443, dst: '198.51.100.40', dport: 50000, start: T0 }),
    ];
    expect((await webEgress(records)).keys).toEqual([]);
  });
});

describe('listening-port: a port the address is seen listening on is the service side', () => {
  it("clients from several low ports to web:45000: web listens there, nothing is egress (not the clients' lower ports)", async () => {
    const records = [33000, 33001, 33002].flatMap((sport) => inbound({ src: '10.0.0.5', sport, dport: 45000, start: T0 }));
    const r = await webEgress(records, V2);
    expect(r.keys).toEqual([]);
  });

  it("web calls a partner port seen answering two of web's ports: egress to it, decided by listening-port", async () => {
    const records = [33000, 33001].flatMap((sport) => out({ sport, dst: '198.51.100.7', dport: 45000, start: T0 }));
    const r = await webEgress(records, V2);
    expect(r.keys).toEqual(['198.51.100.7/32 tcp/45000']);
    expect(r.decided).toEqual(['listening-port']);
    expect(r.o.egress[0]!.flows).toBe(2);
  });

  it.each([
    ['answered with a SYN-ACK', 18],
    ['answered with a RST', 4],
  ])('a SYN that arrived on web:45000 (%s) marks it listening for a conversation without flags', async (_name, answer) => {
    const records = [
      ...inbound({ src: '10.0.0.6', sport: 33000, dport: 45000, start: T0, flags: [2, answer] }),
      // a long connection of another client, mid-stream (flags 0), from the same (lower) port number
      ...inbound({ src: '10.0.0.7', sport: 33000, dport: 45000, start: T0 }),
    ];
    const r = await webEgress(records);
    expect(r.keys).toEqual([]);
  });
});

describe('well-known-port: a port below 1024 or a known service port against an ephemeral one', () => {
  // [case, web's port, remote port, who opened it, expected egress]
  it.each([
    ['Linux client port to 443', 51514, 443, 'web', ['203.0.113.50/32 tcp/443']],
    ['Linux client port 32768 to 53/tcp', 32768, 53, 'web', ['203.0.113.50/32 tcp/53']],
    ['Linux client port 60999 to a known port above 1023 (8080)', 60999, 8080, 'web', ['203.0.113.50/32 tcp/8080']],
    ['Windows client port 49152 to 1433', 49152, 1433, 'web', ['203.0.113.50/32 tcp/1433']],
    ['Windows client port 65535 to 5432', 65535, 5432, 'web', ['203.0.113.50/32 tcp/5432']],
    ['ELB/NAT client port 1024 to 8443', 1024, 8443, 'web', ['203.0.113.50/32 tcp/8443']],
    ['two unregistered ports: the lower (9999) is the service', 50000, 9999, 'web', ['203.0.113.50/32 tcp/9999']],
    ['inbound from a Windows client port 62000 to web:3389', 3389, 62000, 'remote', []],
    ['inbound from a Windows client port 49152 to web:443', 443, 49152, 'remote', []],
    ["inbound from a load balancer's client port 1024 to web:8080", 8080, 1024, 'remote', []],
    ["inbound from a load balancer's client port 1025 to web:9200", 9200, 1025, 'remote', []],
  ] as [string, number, number, 'web' | 'remote', string[]][])('%s', async (_name, lport, rport, opener, expected) => {
    const x =
      opener === 'web'
        ? exchange({ eni: ENI, src: WEB, sport: lport, dst: '203.0.113.50', dport: rport, start: T0, extra: { version: 2 } })
        : exchange({ eni: ENI, side: 'dst', src: '203.0.113.50', sport: rport, dst: WEB, dport: lport, start: T0, extra: { version: 2 } });
    const r = await webEgress(x, V2);
    expect(r.keys).toEqual(expected);
    expect(r.decided).toEqual(expected.map(() => 'well-known-port'));
  });
});

describe('flow-direction: portless protocols are egress where the workload sent them', () => {
  it.each([
    ['ICMP echo (v5)', 1, '10.0.5.5', '10.0.5.5/32 icmp', undefined],
    ['ICMP echo (v2, no flow-direction field)', 1, '10.0.5.5', '10.0.5.5/32 icmp', V2],
    ['ICMPv6 echo', 58, '2001:db8:5::5', '2001:db8:5::5/128 icmpv6', undefined],
    ['GRE (47)', 47, '198.51.100.47', '198.51.100.47/32 47', undefined],
  ] as [string, number, string, string, string[] | undefined][])(
    '%s: port absent in the output',
    async (_name, protocol, dst, key, fields) => {
      const src = dst.includes(':') ? '2001:db8:1::10' : WEB;
      const records = exchange({ eni: ENI, src, sport: 0, dst, dport: 0, protocol, start: T0 });
      const { files } = await observeScenario({
        workloads: { web: { cidrs: ['10.0.1.0/24', '2001:db8:1::/64'] } },
        records,
        ...(fields ? { fields } : {}),
      });
      const o = files.get('web')!;
      expect(egressKeys(o)).toEqual([key]);
      expect(o.egress[0]!.decidedBy).toBe('flow-direction');
      expect('port' in o.egress[0]!).toBe(false);
    },
  );

  it('an inbound ping whose reply is logged a second later is not egress (reverse-flow decides first)', async () => {
    const records = exchange({
      eni: ENI,
      side: 'dst',
      src: '10.0.5.6',
      sport: 0,
      dst: WEB,
      dport: 0,
      protocol: 1,
      start: T0,
      replyStart: T0 + 1,
    });
    expect((await webEgress(records)).keys).toEqual([]);
  });
});

describe("responses are never egress: the workload's own ephemeral port is never a destination port", () => {
  // A client opens web:443 from 51514; web's answers (443 -> 51514) must not become egress to port 51514.
  it.each([
    ['v5, SYN / SYN-ACK', undefined, { flags: [2, 18] as [number, number] }],
    ['v5, mid-connection records with flags 0', undefined, {}],
    ['v2 with a header line', V2, { extra: { version: 2 } }],
  ] as [string, string[] | undefined, Partial<Exchange>][])('%s', async (_name, fields, opts) => {
    const records = inbound({ src: '10.0.0.5', sport: 51514, dport: 443, start: T0, ...opts });
    expect((await webEgress(records, fields)).keys).toEqual([]);
  });

  it('v2 headerless: web serves clients and calls out; egress holds only the ports web connected to', async () => {
    const records: Rec[] = [];
    for (let i = 0; i < 4; i++) {
      records.push(...inbound({ src: `10.0.0.${20 + i}`, sport: 51000 + i, dport: 443, start: T0 + i * 60, extra: { version: 2 } }));
      records.push(...out({ sport: 33000 + i, dst: '203.0.113.60', dport: 443, start: T0 + i * 60, extra: { version: 2 } }));
    }
    records.push(...out({ sport: 49500, dst: '10.0.7.7', dport: 6379, start: T0, extra: { version: 2 } }));
    const { files } = await observeScenario({ fields: V2, header: false, workloads: web, records });
    const o = files.get('web')!;
    expect(egressKeys(o)).toEqual(['10.0.7.7/32 tcp/6379', '203.0.113.60/32 tcp/443']);
    const ownPorts = new Set(records.filter((r) => r.srcaddr === WEB).map((r) => Number(r.srcport)));
    for (const e of o.egress) expect(ownPorts.has(e.port!)).toBe(e.port === 443);
  });
});

describe('established or rejected: egress needs an accepted request and an accepted response', () => {
  it.each([
    [
      'a SYN out with no answer (v5)',
      out({ sport: 40001, dst: '203.0.113.20', dport: 443, start: T0, flags: [2, 0], reply: false }),
      undefined,
    ],
    [
      'a request out with no answer (v2)',
      out({ sport: 40001, dst: '203.0.113.20', dport: 443, start: T0, reply: false, extra: { version: 2 } }),
      V2,
    ],
  ] as [string, Rec[], string[] | undefined][])(
    'accepted without any response is neither egress nor rejected: %s',
    async (_name, records, fields) => {
      const { files } = await observeScenario({ workloads: web, records, ...(fields ? { fields } : {}) });
      expect(egressKeys(files.get('web'))).toEqual([]);
      expect(rejectedKeys(files.get('web'))).toEqual([]);
    },
  );

  it("a REJECT on the workload's own interface is rejected, with its count and last day", async () => {
    const records = [T0, T0 + 600, T0 + 86_400].flatMap((start, i) =>
      out({ sport: 40002 + i, dst: '10.0.10.5', dport: 5432, start, flags: [2, 0], action: 'REJECT' }),
    );
    const { files } = await observeScenario({ workloads: web, records });
    expect(files.get('web')!.rejected).toEqual([
      { destination: '10.0.10.5/32', protocol: 'tcp', port: 5432, flows: 3, lastSeen: '2026-11-11' },
    ]);
    expect(egressKeys(files.get('web'))).toEqual([]);
  });

  it.each([
    ['v5, both interfaces logged', true, undefined],
    ['v2, both interfaces logged', true, V2],
    ["v5, only the peer's interface logged", false, undefined],
  ] as [string, boolean, string[] | undefined][])(
    "a REJECT logged on an in-VPC peer's interface is rejected (%s)",
    async (_name, ownLogged, fields) => {
      const records = [
        // left web (ACCEPT on its interface, no answer) ...
        ...(ownLogged ? out({ sport: 40010, dst: '10.0.20.5', dport: 6379, start: T0, flags: [2, 0], reply: false }) : []),
        // ... and the peer's security group dropped it
        ...exchange({
          eni: 'eni-0redis',
          side: 'dst',
          src: WEB,
          sport: 40010,
          dst: '10.0.20.5',
          dport: 6379,
          start: T0,
          flags: [2, 0],
          action: 'REJECT',
        }),
      ];
      const { files } = await observeScenario({ workloads: web, records, ...(fields ? { fields } : {}) });
      expect(rejectedKeys(files.get('web'))).toEqual(['10.0.20.5/32 tcp/6379']);
      expect(files.get('web')!.rejected[0]!.flows).toBe(1);
      expect(egressKeys(files.get('web'))).toEqual([]);
    },
  );

  it.each([
    ['v5 with a SYN', undefined, { flags: [2, 0] as [number, number] }],
    ['v2', V2, { extra: { version: 2 } }],
  ] as [string, string[] | undefined, Partial<Exchange>][])(
    'an inbound attempt stopped at the workload is not its rejected egress (%s)',
    async (_name, fields, opts) => {
      const records = inbound({ src: '192.0.2.66', sport: 45555, dport: 22, start: T0, action: 'REJECT', ...opts });
      const { files } = await observeScenario({ workloads: web, records, ...(fields ? { fields } : {}) });
      expect(rejectedKeys(files.get('web'))).toEqual([]);
      expect(egressKeys(files.get('web'))).toEqual([]);
    },
  );
});
