/**
 * The observe query's rows, decoded by kind with named fields (decodeObserveRow, next to the SQL): each kind carries
 * what it means, not the columns it shares with the others.
 */
import { describe, expect, it } from 'vitest';
import { decodeObserveRow } from '../../observe/sql.js';
import { exchange, observeScenario, T0 } from './helpers.js';

const ENI = 'eni-0web';
const DAY = Math.floor(T0 / 86_400);

describe('observe rows by kind', () => {
  it('egress, rejected, address, stats and coverage rows name their fields (real DuckDB)', async () => {
    const records = [
      ...exchange({ eni: ENI, src: '10.0.1.10', sport: 40000, dst: '203.0.113.10', dport: 443, start: T0, flags: [2, 18] }),
      ...exchange({ eni: ENI, src: '10.0.1.10', sport: 40001, dst: '203.0.113.20', dport: 22, start: T0, action: 'REJECT', flags: [2, 0] }),
    ];
    const { rows } = await observeScenario({ workloads: { web: { interfaces: [ENI] } }, records });
    expect(rows.filter((r) => r.kind === 'egress')).toMatchObject([
      { kind: 'egress', workload: 'web', raddr: '203.0.113.10', proto: 6, rport: 443, flows: 1, service: null },
    ]);
    expect(rows.filter((r) => r.kind === 'rejected')).toMatchObject([
      { kind: 'rejected', workload: 'web', raddr: '203.0.113.20', proto: 6, rport: 22, flows: 1 },
    ]);
    expect(rows.filter((r) => r.kind === 'address')).toEqual([{ kind: 'address', workload: 'web', address: '10.0.1.10', iface: ENI }]);
    expect(rows.filter((r) => r.kind === 'stats')).toEqual([{ kind: 'stats', status: 'OK', records: 3, incomplete: 0 }]);
    expect(rows.filter((r) => r.kind === 'coverage')).toMatchObject([
      { kind: 'coverage', status: 'OK', iface: ENI, epochDay: DAY, records: 3 },
    ]);
  });

  it('an open connection says who opened it', () => {
    const row = { kind: 'open', workload: 'web', raddr: '203.0.113.10', proto: 6, rport: '443', laddr: '10.0.1.10', lport: '40000' };
    expect(decodeObserveRow({ ...row, rank: '1' })).toEqual({
      kind: 'open',
      workload: 'web',
      laddr: '10.0.1.10',
      lport: 40000,
      raddr: '203.0.113.10',
      rport: 443,
      opener: 'workload',
    });
    expect(decodeObserveRow({ ...row, rank: 2 })).toMatchObject({ opener: 'peer' });
  });

  it('a row of an unknown kind is an error, not a row of some other kind', () => {
    expect(() => decodeObserveRow({ kind: 'egres', workload: 'web' })).toThrow('observe query: a row of unknown kind "egres"');
  });
});
