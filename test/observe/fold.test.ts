/**
 * The fold: observe's first grouping keeps one row per conversation, interface and UTC day. A conversation that
 * crosses midnight is one connection all the same: its handshake on one day decides the records of the next, and
 * its counts, bytes and first and last sightings add up over both days.
 */
import { describe, expect, it } from 'vitest';
import { at, egressKeys, observeScenario, type Rec } from './helpers.js';

const WEB = '10.0.1.10';
const ENI = 'eni-0web';
const out = (start: number, flags: number, bytes: number): Rec => ({
  'interface-id': ENI,
  srcaddr: WEB,
  dstaddr: '203.0.113.10',
  srcport: 41000,
  dstport: 52000,
  protocol: 6,
  start,
  'tcp-flags': flags,
  bytes,
  'flow-direction': 'egress',
});
const back = (start: number, flags: number, bytes: number): Rec => ({
  'interface-id': ENI,
  srcaddr: '203.0.113.10',
  dstaddr: WEB,
  srcport: 52000,
  dstport: 41000,
  protocol: 6,
  start,
  'tcp-flags': flags,
  bytes,
  'flow-direction': 'ingress',
});

describe('observe: the fold per day', () => {
  it('a connection across midnight: the SYN of the first day decides the records of the next, counted once over both', async () => {
    const day1 = at('2026-11-10T23:58:00Z');
    const day2 = at('2026-11-11T00:03:00Z');
    // Ports that say nothing (41000 -> 52000): only the handshake, on the first day, tells who opened it. The second
    // day's records come first in the files, so nothing but the fold's merge of both days puts them together.
    const { files } = await observeScenario({
      workloads: { web: { cidrs: ['10.0.1.0/24'] } },
      records: [back(day2, 0, 700), out(day2, 0, 300), out(day2 + 600, 0, 100), out(day1, 2, 60), back(day1, 18, 60)],
    });
    const web = files.get('web')!;
    expect(egressKeys(web)).toEqual(['203.0.113.10/32 tcp/52000']);
    expect(web.egress[0]).toMatchObject({ decidedBy: 'tcp-flags', flows: 3, bytes: 460, firstSeen: '2026-11-10', lastSeen: '2026-11-11' });
  });
});
