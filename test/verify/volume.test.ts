/** Volume anomalies from the daily rows: the baseline is the median of the other days, the top port names the day. */
import { describe, expect, it } from 'vitest';
import type { DailyRow } from '../../verify/report-sql.js';
import { median, volumeRows } from '../../verify/volume.js';

const T = { volumeFactor: 10, volumeMinBytes: 100, beaconMinFlows: 20, beaconMaxJitter: 0.1, beaconMaxBytesPerFlow: 16_384 };

function daily(raddr: string, day: number, bytes: number, port = 443, external = true, workload = 'web'): DailyRow {
  return { kind: 'daily', workload, raddr, port, proto: 6, day, flows: 1, bytes, external };
}

/** The volume row of a day: the daily row's destination and day, with its baseline. */
function volume(d: DailyRow, flows: number, baseline: number, baselineDays: number, of: 'destination' | 'external') {
  return {
    kind: 'volume',
    workload: d.workload,
    raddr: d.raddr,
    port: d.port,
    proto: d.proto,
    day: d.day,
    flows,
    bytes: d.bytes,
    baseline,
    baselineDays,
    of,
  };
}

describe('volumeRows', () => {
  it('median: the middle value, or the mean of the two middle ones', () => {
    expect(median([])).toBeUndefined();
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it("flags a day at volumeFactor times the median of the destination's other days, named by its largest port", () => {
    const rows = [
      daily('203.0.113.9', 0, 10),
      daily('203.0.113.9', 1, 20),
      daily('203.0.113.9', 2, 30),
      // day 3: 1000 bytes over two ports of 500 each: the lower port names it
      daily('203.0.113.9', 3, 500, 8443),
      daily('203.0.113.9', 3, 500, 443),
    ];
    expect(volumeRows(rows, T)).toEqual([volume(daily('203.0.113.9', 3, 1000, 443), 2, 20, 3, 'destination')]);
    // Just under the factor: nothing
    expect(volumeRows(rows, { ...T, volumeFactor: 51 })).toEqual([]);
    // Under volumeMinBytes: nothing
    expect(volumeRows(rows, { ...T, volumeMinBytes: 1001 })).toEqual([]);
  });

  it('a destination seen one day only is compared with the workload’s other days to all external destinations', () => {
    const rows = [
      daily('203.0.113.9', 0, 10),
      daily('198.51.100.1', 0, 10),
      daily('203.0.113.9', 1, 40),
      daily('203.0.113.9', 2, 60),
      daily('192.0.2.7', 2, 2000, 8080),
    ];
    // The workload's external days: 0 -> 20, 1 -> 40, 2 -> 2060; the new destination's day 2 against days 0 and 1: 30.
    expect(volumeRows(rows, T)).toEqual([volume(daily('192.0.2.7', 2, 2000, 8080), 1, 30, 2, 'external')]);
  });

  it('destinations that are not external are neither flagged nor part of a baseline', () => {
    const rows = [daily('10.0.2.5', 0, 10, 5432, false), daily('10.0.2.5', 1, 5000, 5432, false), daily('203.0.113.9', 1, 5000)];
    expect(volumeRows(rows, T)).toEqual([]);
  });
});
