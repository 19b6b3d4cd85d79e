/**
 * Files outside the window are not read: observe and report leave out flow-log and query-log files whose delivery
 * day (AWS's S3 path, Hive-style partitions, the file name) or Parquet statistics put them outside the scanned
 * days, with a day of margin on each side; a file whose day cannot be told is read.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runObserve } from '../../cli/commands/observe.js';
import { openDuckDb } from '../../observe/duckdb-session.js';
import { sqlString } from '../../observe/duckdb-view.js';
import { dayMayHold, deliveryDays, filesForRange } from '../../observe/prune.js';
import { runReport } from '../../cli/commands/report.js';
import { copyExample, observedFiles } from '../example-copy.js';
import { at, errorLine } from './helpers.js';

const root = join(import.meta.dirname, '..', '..');
const TODAY = '2026-12-08';
/** observe --to 2026-11-21 over 14 days scans from 2026-11-07 (a day of look-back) to the end of 2026-11-21. */
const SCAN = { from: at('2026-11-07T00:00:00Z'), to: at('2026-11-22T00:00:00Z') };

const FLOW = 'examples/flow-logs/dev/AWSLogs/111111111111/vpcflowlogs/eu-west-1';
const DNS = 'examples/dns-logs/dev/AWSLogs/111111111111/vpcdnsquerylogs/vpc-020a1b2c3d4e5f607';

describe('deliveryDays: the day AWS delivered a file, from its path', () => {
  it.each([
    [
      'AWS flow-log path and file name',
      `s3://b/AWSLogs/1/vpcflowlogs/eu-west-1/2026/11/05/1_vpcflowlogs_eu-west-1_fl-1_20261105T0000Z_ab12.log.gz`,
      ['2026-11-05'],
    ],
    ['hourly partitions', 'AWSLogs/1/vpcflowlogs/eu-west-1/2026/11/05/13/x.log.gz', ['2026-11-05']],
    [
      'Hive-style partitions',
      'AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2026/month=11/day=05/hour=13/x.parquet',
      ['2026-11-05'],
    ],
    ['the file name alone', 'logs/1_vpcflowlogs_eu-west-1_fl-1_20261105T2355Z_ab12.log.gz', ['2026-11-05']],
    ['query-log path', `${DNS}/2026/11/05/1_vpcdnsquerylogs_vpc-1_20261105T0000Z_ab12.log.gz`, ['2026-11-05']],
    ['folder and name disagreeing: both', 'logs/2026/11/05/x_20261121T0000Z_y.log.gz', ['2026-11-05', '2026-11-21']],
    ['no day at all', 'logs/flows.log.gz', []],
    ['a date folder not right above the file', 'backup/2026/11/05/old/flows.log.gz', []],
    ['a day that does not exist', 'logs/2026/02/30/flows.log.gz', []],
    ['a stamp without its T..Z', 'logs/flows_20261105_1.log.gz', []],
  ])('%s', (_what, path, days) => {
    expect(deliveryDays(path)).toEqual(days);
  });
});

describe('dayMayHold: a day of margin on each side of the scanned days', () => {
  it.each([
    ['2026/11/05', false],
    ['2026/11/06', true],
    ['2026/11/07', true],
    ['2026/11/21', true],
    ['2026/11/22', true],
    ['2026/11/23', false],
  ])('a file delivered on %s: %s', (day, kept) => {
    expect(dayMayHold(`AWSLogs/1/vpcflowlogs/r/${day}/x.log.gz`, SCAN)).toBe(kept);
  });

  it('says nothing of a file whose day cannot be told', () => {
    expect(dayMayHold('logs/flows.log.gz', SCAN)).toBeUndefined();
  });
});

describe('Parquet statistics of start', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'leastpath-prune-parquet-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('leave out a file whose records all start outside the scanned days, and keep the others', async () => {
    const duck = await openDuckDb();
    try {
      const write = async (name: string, starts: string) => {
        const path = join(dir, name);
        await duck.connection.run(`COPY (SELECT * FROM (VALUES ${starts}) t(start)) TO ${sqlString(path)} (FORMAT parquet)`);
        return { path };
      };
      const october = await write('october.parquet', `(${at('2026-10-01T00:00:00Z')}), (${at('2026-10-02T12:00:00Z')})`);
      const december = await write('december.parquet', `(${at('2026-12-01T00:00:00Z')})`);
      const straddling = await write('straddling.parquet', `(${at('2026-10-01T00:00:00Z')}), (${at('2026-11-30T00:00:00Z')})`);
      // Exact at the edges: the first scanned second is kept, the second before it is not.
      const edge = await write('edge.parquet', `(${SCAN.from})`);
      const before = await write('before.parquet', `(${SCAN.from - 1})`);
      const after = await write('after.parquet', `(${SCAN.to})`);
      // Text statistics order otherwise than numbers: they decide nothing.
      const text = await write('text.parquet', `('1759276800')`);
      const garbage = { path: join(dir, 'garbage.parquet') };
      await writeFile(garbage.path, 'not parquet');
      const kept = await filesForRange([october, december, straddling, edge, before, after, text, garbage], SCAN, duck.connection);
      expect(kept.map((f) => f.path)).toEqual([straddling.path, edge.path, text.path, garbage.path]);
    } finally {
      duck.close();
    }
  });
});

describe('observe and report over the example with unreadable files dated outside the window', () => {
  let plain: string;
  let extra: string;
  beforeAll(async () => {
    plain = await mkdtemp(join(tmpdir(), 'leastpath-prune-plain-'));
    extra = await mkdtemp(join(tmpdir(), 'leastpath-prune-extra-'));
    await copyExample(plain);
    await copyExample(extra);
    // Garbage that fails any read: only a run that never opens these files can succeed.
    const garbage = async (rel: string) => {
      await mkdir(join(extra, rel, '..'), { recursive: true });
      await writeFile(join(extra, rel), 'this is not gzip\n');
    };
    await garbage(`${FLOW}/2026/10/20/111111111111_vpcflowlogs_eu-west-1_fl-020f10a0b0c0d0e0f_20261020T0000Z_00000000.log.gz`);
    await garbage(`${FLOW}/2026/11/05/111111111111_vpcflowlogs_eu-west-1_fl-020f10a0b0c0d0e0f_20261105T1800Z_00000000.log.gz`);
    await garbage(`${FLOW}/2026/11/23/111111111111_vpcflowlogs_eu-west-1_fl-020f10a0b0c0d0e0f_20261123T0000Z_00000000.log.gz`);
    await garbage(
      'examples/flow-logs/dev/AWSLogs/aws-account-id=111111111111/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2026/month=09/day=01/x.log.gz',
    );
    await garbage(`${DNS}/2026/10/20/111111111111_vpcdnsquerylogs_vpc-020a1b2c3d4e5f607_20261020T0000Z_00000000.log.gz`);
    await garbage(`${DNS}/2026/11/30/111111111111_vpcdnsquerylogs_vpc-020a1b2c3d4e5f607_20261130T0000Z_00000000.log.gz`);
  });
  afterAll(async () => {
    await rm(plain, { recursive: true, force: true });
    await rm(extra, { recursive: true, force: true });
  });

  it('observe writes byte for byte what it writes without them, from the same files', async () => {
    const a = await runObserve({ root: plain, env: 'dev', today: TODAY, to: '2026-11-21', rebuild: true });
    const b = await runObserve({ root: extra, env: 'dev', today: TODAY, to: '2026-11-21', rebuild: true });
    expect(b.files).toBe(a.files);
    expect(b.records).toBe(a.records);
    expect(b.malformed).toEqual(a.malformed);
    const want = await observedFiles(plain);
    expect(want.size).toBeGreaterThan(0);
    expect(await observedFiles(extra)).toEqual(want);
    // The committed evidence is the same window's: the rebuild changes none of dev's files.
    const committed = await observedFiles(root);
    for (const [name, bytes] of want) if (name.startsWith('dev/')) expect(bytes, name).toEqual(committed.get(name));
  });

  it('report gives the same document', async () => {
    const a = await runReport({ root: plain, env: 'dev', today: TODAY, to: '2026-11-21' });
    const b = await runReport({ root: extra, env: 'dev', today: TODAY, to: '2026-11-21' });
    expect(b.report).toEqual(a.report);
  });

  it('a file whose day cannot be told is read (and here, fails the run by name)', async () => {
    const stray = join(extra, 'examples/flow-logs/dev/stray.log.gz');
    await writeFile(stray, 'this is not gzip\n');
    try {
      const err = await runObserve({ root: extra, env: 'dev', today: TODAY, to: '2026-11-21', rebuild: true }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(errorLine(err)).toContain('examples/flow-logs/dev/stray.log.gz');
    } finally {
      await rm(stray);
    }
  });
});
