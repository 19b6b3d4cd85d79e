/**
 * report: anomalies, a triage list. Each kind with a true positive and the look-alikes that must not fire.
 */
import { describe, expect, it } from 'vitest';
import { at, exchange, type Rec } from '../observe/helpers.js';
import { reportOf } from './helpers.js';

const WEB = '10.0.1.10';
const ENI = 'eni-0aeb';
const DAY = 86_400;
const START = at('2026-11-08T00:00:00Z');

/** Short connections to `dst:port` at the given starts, each from its own source port (SYN / SYN-ACK). */
function connections(dst: string, port: number, starts: number[], bytes: [number, number] = [350, 250], sport0 = 33000): Rec[] {
  return starts.flatMap((t, i) => exchange({ eni: ENI, src: WEB, sport: sport0 + i, dst, dport: port, start: t, flags: [3, 19], bytes }));
}

/** A deterministic "random" sequence in [0, 1). */
function noise(i: number): number {
  const x = Math.sin(i * 12.9898) * 43758.5453;
  return x - Math.floor(x);
}

/** One record per day, `bytes[d]` sent to dst on day d (at 02:00). */
function dailyTransfers(dst: string, bytes: number[], sport0: number): Rec[] {
  return bytes.flatMap((b, d) =>
    b > 0
      ? exchange({
          eni: ENI,
          src: WEB,
          sport: sport0 + d,
          dst,
          dport: 443,
          start: START + d * DAY + 7200,
          flags: [3, 19],
          bytes: [b, 5000],
        })
      : [],
  );
}

const ANOMALY_KEYS = (doc: Awaited<ReturnType<typeof reportOf>>) =>
  doc.anomalies.map((a) => `${a.kind} ${a.workload} ${a.destination} ${a.port ?? ''}`);

describe('report anomalies: beacon', () => {
  it('flags many small connections at a regular interval, and says the period and jitter', async () => {
    const starts = Array.from({ length: 30 }, (_, i) => at('2026-11-20T10:00:00Z') + i * 300 + Math.round((noise(i) - 0.5) * 4));
    const doc = await reportOf({ logs: [{ name: 'a.log.gz', records: connections('198.51.100.200', 4444, starts) }] });
    expect(ANOMALY_KEYS(doc)).toEqual(['beacon web 198.51.100.200/32 4444']);
    const a = doc.anomalies[0]!;
    expect(a).toMatchObject({ flows: 30, bytes: 30 * 600, from: '2026-11-20', to: '2026-11-20' });
    expect(a.periodSeconds).toBeGreaterThan(298);
    expect(a.periodSeconds).toBeLessThan(302);
    expect(a.jitter).toBeLessThan(0.01);
    expect(a.why).toMatch(
      /^30 connections to tcp\/4444 from 2026-11-20 (09:59|10:00) to 2026-11-20 12:2\d UTC, one every (299|300|301) s \(jitter 0\.\d%/,
    );
  });

  it('a beacon that sleeps at night, or skips beats in SKIPDATA holes, is still one: pauses are left out', async () => {
    // Every 300 s from 08:00 to 18:00 on three days: two 14-hour gaps, and three beats lost to a hole on day two.
    const starts = [0, 1, 2]
      .flatMap((day) =>
        Array.from({ length: 120 }, (_, i) => at('2026-11-18T08:00:00Z') + day * DAY + i * 300 + Math.round((noise(i + day) - 0.5) * 6)),
      )
      .filter((_, k) => k < 170 || k > 172);
    const doc = await reportOf({ logs: [{ name: 'a.log.gz', records: connections('198.51.100.201', 8443, starts) }] });
    expect(ANOMALY_KEYS(doc)).toEqual(['beacon web 198.51.100.201/32 8443']);
    const a = doc.anomalies[0]!;
    expect(a).toMatchObject({ flows: starts.length, from: '2026-11-18', to: '2026-11-20' });
    expect(a.periodSeconds).toBeGreaterThanOrEqual(299);
    expect(a.periodSeconds).toBeLessThanOrEqual(301);
    expect(a.jitter).toBeLessThan(0.01);
  });

  it('bursts at random times are not a beacon, even with a few equal gaps among them', async () => {
    // 60 connections at random times, and among them a run of 5 exactly 300 s apart.
    const random = Array.from({ length: 55 }, (_, i) => at('2026-11-20T00:00:00Z') + Math.round(noise(i + 99) * 20 * 3600));
    const run = Array.from({ length: 5 }, (_, i) => at('2026-11-20T21:00:00Z') + i * 300);
    const doc = await reportOf({
      logs: [
        {
          name: 'a.log.gz',
          records: connections(
            '203.0.113.61',
            443,
            [...random, ...run].sort((a, b) => a - b),
          ),
        },
      ],
    });
    expect(doc.anomalies).toEqual([]);
  });

  it('a keep-alive pool is one connection however many records it has: not a beacon', async () => {
    // One connection held open for three hours, a record every 60 s, SYN only in the first.
    const recs: Rec[] = [];
    for (let i = 0; i < 180; i++) {
      recs.push(
        ...exchange({
          eni: ENI,
          src: WEB,
          sport: 41000,
          dst: '203.0.113.50',
          dport: 443,
          start: at('2026-11-20T10:00:00Z') + i * 60,
          flags: i === 0 ? [2, 18] : [0, 0],
          bytes: [120, 80],
        }),
      );
    }
    const doc = await reportOf({ logs: [{ name: 'a.log.gz', records: recs }] });
    expect(doc.anomalies).toEqual([]);
  });

  it('a pool without tcp-flags (v2-style records) is still one connection per source port', async () => {
    const recs: Rec[] = [];
    for (let i = 0; i < 120; i++)
      recs.push(
        ...exchange({
          eni: ENI,
          src: WEB,
          sport: 41000,
          dst: '203.0.113.51',
          dport: 443,
          start: at('2026-11-20T10:00:00Z') + i * 60,
          bytes: [120, 80],
        }),
      );
    const doc = await reportOf({ logs: [{ name: 'a.log.gz', records: recs }] });
    expect(doc.anomalies).toEqual([]);
  });

  it('irregular small connections are not a beacon', async () => {
    const starts = Array.from({ length: 40 }, (_, i) => at('2026-11-20T08:00:00Z') + Math.round(noise(i + 7) * 10 * 3600)).sort(
      (a, b) => a - b,
    );
    const doc = await reportOf({ logs: [{ name: 'a.log.gz', records: connections('203.0.113.60', 443, starts) }] });
    expect(doc.anomalies).toEqual([]);
  });

  it('regular but large connections (a sync job) are not a beacon; fewer than beaconMinFlows neither', async () => {
    const big = Array.from({ length: 30 }, (_, i) => at('2026-11-20T10:00:00Z') + i * 300);
    const few = Array.from({ length: 19 }, (_, i) => at('2026-11-20T10:00:00Z') + i * 300);
    const doc = await reportOf({
      logs: [
        {
          name: 'a.log.gz',
          records: [
            ...connections('203.0.113.70', 443, big, [900_000, 5000]),
            ...connections('203.0.113.71', 4444, few, [350, 250], 35000),
          ],
        },
      ],
    });
    expect(doc.anomalies).toEqual([]);
  });

  it('destinations inside the VPC are not triaged (health checks and scrapes are regular by design)', async () => {
    const starts = Array.from({ length: 30 }, (_, i) => at('2026-11-20T10:00:00Z') + i * 300);
    const doc = await reportOf({ logs: [{ name: 'a.log.gz', records: connections('10.0.9.9', 9100, starts) }] });
    expect(doc.anomalies).toEqual([]);
  });

  it('thresholds come from environment.yaml anomalies', async () => {
    const starts = Array.from({ length: 30 }, (_, i) => at('2026-11-20T10:00:00Z') + i * 300);
    const doc = await reportOf({
      logs: [{ name: 'a.log.gz', records: connections('198.51.100.200', 4444, starts) }],
      anomalies: '{ beaconMinFlows: 40 }',
    });
    expect(doc.anomalies).toEqual([]);
    expect(doc.thresholds).toEqual({
      volumeFactor: 10,
      volumeMinBytes: 100_000_000,
      beaconMinFlows: 40,
      beaconMaxJitter: 0.1,
      beaconMaxBytesPerFlow: 16_384,
    });
  });
});

describe('report anomalies: volume', () => {
  const usual = Array.from({ length: 14 }, (_, d) => 5_000_000 + d * 10_000);

  it('flags a day far above the median of the other days to that destination, whatever the port', async () => {
    const bytes = usual.map((b, d) => (d === 11 ? 250_000_000 : b));
    const doc = await reportOf({ logs: [{ name: 'a.log.gz', records: dailyTransfers('203.0.113.99', bytes, 42000) }] });
    expect(ANOMALY_KEYS(doc)).toEqual(['volume web 203.0.113.99/32 443']);
    const a = doc.anomalies[0]!;
    expect(a).toMatchObject({
      from: '2026-11-19',
      to: '2026-11-19',
      bytes: 250_000_000,
      flows: 1,
      baseline: { bytesPerDay: 5_060_000, days: 13, of: 'destination' },
    });
    expect(a.why).toBe(
      'sent 250.0 MB on 2026-11-19 (mostly tcp/443), 49.4 times its median day of 5.1 MB to this destination over 13 other day(s)',
    );
  });

  it('a big transfer that is usual for the workload is not flagged', async () => {
    const bytes = Array.from({ length: 14 }, (_, d) => 800_000_000 + (d % 3) * 50_000_000);
    const doc = await reportOf({ logs: [{ name: 'a.log.gz', records: dailyTransfers('203.0.113.98', bytes, 42000) }] });
    expect(doc.anomalies).toEqual([]);
  });

  it('a spike below volumeMinBytes is not flagged (small destinations vary a lot)', async () => {
    const bytes = usual.map((b, d) => (d === 11 ? 60_000_000 : b / 100));
    const doc = await reportOf({ logs: [{ name: 'a.log.gz', records: dailyTransfers('203.0.113.97', bytes, 42000) }] });
    expect(doc.anomalies).toEqual([]);
  });

  it('a new destination is compared with the workload’s usual day to external destinations overall', async () => {
    const recs = [
      ...dailyTransfers('203.0.113.10', usual, 42000),
      ...exchange({
        eni: ENI,
        src: WEB,
        sport: 43000,
        dst: '192.0.2.200',
        dport: 8443,
        start: START + 12 * DAY + 3600,
        flags: [3, 19],
        bytes: [300_000_000, 9000],
      }),
    ];
    const doc = await reportOf({ logs: [{ name: 'a.log.gz', records: recs }] });
    expect(ANOMALY_KEYS(doc)).toEqual(['volume web 192.0.2.200/32 8443']);
    expect(doc.anomalies[0]!.baseline).toEqual({ bytesPerDay: 5_060_000, days: 13, of: 'external' });
    expect(doc.anomalies[0]!.why).toMatch(/to all external destinations \(first day seen here\) over 13 other day\(s\)$/);
  });
});
