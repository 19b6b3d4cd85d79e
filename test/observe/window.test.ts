/**
 * Time: long connections over many records, the window's exact bounds, NODATA/SKIPDATA and the source counts,
 * retainDays, and re-runs that change nothing.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { ValidationFailed } from '../../core/errors.js';
import { formatObserveSummary } from '../../observe/observe-command.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ObservedFile } from '../../model/types.js';
import { renderObservedYaml } from '../../observe/assemble.js';
import {
  at,
  egressKeys,
  exchange,
  loggedDaily,
  observeOrg,
  observeScenario,
  rejectedKeys,
  statusRecord,
  T0,
  V2,
  WIN_FROM,
  WIN_TO,
  writeOrg,
  type Rec,
} from './helpers.js';

const WEB = '10.0.1.10';
const ENI = 'eni-0web';
const web = { web: { cidrs: ['10.0.1.0/24'] } };
const DAY = 86_400;

/** One aggregation interval of web's connection to `dst`:443 from port 51514, logged on web's interface. */
const seg = (dst: string, start: number, flags: [number, number] = [0, 0], bytes: [number, number] = [100, 5000], extra: Rec = {}) =>
  exchange({ eni: ENI, src: WEB, sport: 51514, dst, dport: 443, start, flags, bytes, extra });

describe('long connections: one destination, flows = records of the initiating direction inside the window', () => {
  it.each([
    ['v5: SYN first, flags 0 in between, FIN last', undefined, 'tcp-flags'],
    ['v2: no flags at all', V2, 'well-known-port'],
  ] as [string, string[] | undefined, string][])('%s', async (_name, fields, decidedBy) => {
    const records = [
      ...seg('203.0.113.10', T0, [2, 18]),
      ...seg('203.0.113.10', T0 + 600),
      ...seg('203.0.113.10', T0 + 1200),
      ...seg('203.0.113.10', T0 + DAY, [1, 1]),
    ];
    const { files } = await observeScenario({ workloads: web, records, ...(fields ? { fields } : {}) });
    expect(files.get('web')!.egress).toEqual([
      {
        destination: '203.0.113.10/32',
        protocol: 'tcp',
        port: 443,
        service: null,
        flows: 4,
        bytes: 400,
        firstSeen: '2026-11-10',
        lastSeen: '2026-11-11',
        decidedBy,
      },
    ]);
  });

  it("a connection opened before the window (SYN the day before, flags 0 inside) is egress from the window's first day", async () => {
    const records = [
      ...seg('203.0.113.11', WIN_FROM - 3600, [2, 18]),
      ...seg('203.0.113.11', WIN_FROM - 600),
      ...seg('203.0.113.11', WIN_FROM + 600),
      ...seg('203.0.113.11', WIN_FROM + 1200),
      ...seg('203.0.113.11', T0, [1, 1]),
    ];
    const { files } = await observeScenario({ workloads: web, records });
    expect(files.get('web')!.egress).toEqual([
      // only the three records inside the window count
      {
        destination: '203.0.113.11/32',
        protocol: 'tcp',
        port: 443,
        service: null,
        flows: 3,
        bytes: 300,
        firstSeen: '2026-11-08',
        lastSeen: '2026-11-10',
        decidedBy: 'tcp-flags',
      },
    ]);
  });

  it.each([
    ['the day before the window', WIN_FROM - 3600],
    ['three days before the window', WIN_FROM - 3 * DAY],
    ['the day after the window', WIN_TO + 3600],
  ])('a destination seen only %s is neither egress nor rejected', async (_name, start) => {
    const records = [
      ...seg('203.0.113.12', start, [2, 18]),
      ...exchange({ eni: ENI, src: WEB, sport: 40000, dst: '10.0.10.5', dport: 5432, start, flags: [2, 0], action: 'REJECT' }),
    ];
    const { files } = await observeScenario({ workloads: web, records });
    expect(egressKeys(files.get('web'))).toEqual([]);
    expect(rejectedKeys(files.get('web'))).toEqual([]);
  });
});

describe('window: --to and window.days bound it to the second', () => {
  it.each([
    ['14 days to 2026-11-21', '2026-11-21', 14, '2026-11-08'],
    ['1 day, 2026-11-10', '2026-11-10', 1, '2026-11-10'],
  ])('%s', async (_name, to, days, from) => {
    const first = at(`${from}T00:00:00Z`);
    const next = at(`${to}T00:00:00Z`) + DAY;
    const records = [
      ...seg('203.0.113.1', first - 1, [2, 18]), // 23:59:59 of the day before: out
      ...seg('203.0.113.2', first, [2, 18]), // 00:00:00 of the first day: in
      ...seg('203.0.113.3', next - 1, [2, 18]), // 23:59:59 of the last day: in
      ...seg('203.0.113.4', next, [2, 18]), // 00:00:00 of the next day: out
    ];
    const { files } = await observeScenario({ workloads: web, records, to, days });
    const o = files.get('web')!;
    expect(o.window).toEqual({ from, to });
    expect(egressKeys(o)).toEqual(['203.0.113.2/32 tcp/443', '203.0.113.3/32 tcp/443']);
    expect(o.egress.map((e) => [e.firstSeen, e.lastSeen])).toEqual([
      [from, from],
      [to, to],
    ]);
    expect(o.source.records).toBe(4);
  });

  it('runObserve: --to and window.days give the window of the file and of the result', async () => {
    const root = await writeOrg({
      days: 7,
      logs: [
        {
          name: 'a.log.gz',
          records: [
            ...seg('203.0.113.5', at('2026-11-14T00:00:00Z'), [2, 18]),
            ...seg('203.0.113.6', at('2026-11-13T23:59:59Z'), [2, 18]),
            ...loggedDaily(ENI, '2026-11-14', 7),
          ],
        },
      ],
    });
    const r = await observeOrg(root, { to: '2026-11-20' });
    expect(r.window).toEqual({ from: '2026-11-14', to: '2026-11-20' });
    const text = await readFile(join(root, 'observed/dev/web.yaml'), 'utf8');
    expect(text).toContain('window: { from: 2026-11-14, to: 2026-11-20 }');
    expect(text).toContain('destination: 203.0.113.5/32');
    expect(text).not.toContain('203.0.113.6');
  });

  it('refuses a --to after today, or before the end of the committed window: observed/ is left as it was', async () => {
    const root = await writeOrg({
      days: 7,
      logs: [
        { name: 'a.log.gz', records: [...seg('203.0.113.5', at('2026-11-14T00:00:00Z'), [2, 18]), ...loggedDaily(ENI, '2026-11-10', 14)] },
      ],
    });
    await observeOrg(root, { to: '2026-11-20' });
    const committed = await readFile(join(root, 'observed/dev/web.yaml'), 'utf8');
    await expect(observeOrg(root, { to: '2026-11-24' })).rejects.toThrow(
      '--to 2026-11-24 is after today (2026-11-23): no flow logs cover those days yet',
    );
    await expect(observeOrg(root, { to: '2026-11-19' })).rejects.toThrow(
      '--to 2026-11-19 is before the end of the committed window of observed/dev/web.yaml (2026-11-20): observe only moves a window forward',
    );
    expect(await readFile(join(root, 'observed/dev/web.yaml'), 'utf8')).toBe(committed);
    // The same end again, or a later one, is fine.
    await observeOrg(root, { to: '2026-11-20' });
    expect((await observeOrg(root, { to: '2026-11-23' })).window.to).toBe('2026-11-23');
  });
});

describe('a hand-edited observed file: observe rewrites it, as its errors say to', () => {
  it('an invalid observed file of the environment does not stop observe, which rewrites it and says so', async () => {
    const root = await writeOrg({
      days: 7,
      logs: [{ name: 'a.log.gz', records: seg('203.0.113.5', at('2026-11-14T00:00:00Z'), [2, 18]) }],
    });
    await observeOrg(root, { to: '2026-11-20' });
    const file = join(root, 'observed/dev/web.yaml');
    const good = await readFile(file, 'utf8');
    await writeFile(file, good.replace('environment: dev', 'environment: stg'));
    const r = await observeOrg(root, { to: '2026-11-20' });
    expect(r.replaced).toEqual(['observed/dev/web.yaml']);
    expect(r.written).toEqual(['observed/dev/web.yaml']);
    expect(await readFile(file, 'utf8')).toBe(good);
    expect(formatObserveSummary(r)).toContain(
      'observed/dev/web.yaml: was invalid; rewritten from the flow logs, its earlier destinations not retained',
    );
  });

  it('an invalid observed file observe would not rewrite (no such workload) still stops it', async () => {
    const root = await writeOrg({
      days: 7,
      logs: [{ name: 'a.log.gz', records: seg('203.0.113.5', at('2026-11-14T00:00:00Z'), [2, 18]) }],
    });
    await observeOrg(root, { to: '2026-11-20' });
    const web = await readFile(join(root, 'observed/dev/web.yaml'), 'utf8');
    await writeFile(
      join(root, 'observed/dev/ghost.yaml'),
      web.replace('workload: web', 'workload: ghost').replace('environment: dev', 'environment: stg'),
    );
    await expect(observeOrg(root, { to: '2026-11-20' })).rejects.toThrow(ValidationFailed);
    expect(await readFile(join(root, 'observed/dev/web.yaml'), 'utf8')).toBe(web);
  });

  it('an error anywhere else still stops it, and nothing is written', async () => {
    const root = await writeOrg({
      days: 7,
      logs: [{ name: 'a.log.gz', records: seg('203.0.113.5', at('2026-11-14T00:00:00Z'), [2, 18]) }],
    });
    await observeOrg(root, { to: '2026-11-20' });
    const file = join(root, 'observed/dev/web.yaml');
    const edited = (await readFile(file, 'utf8')).replace('environment: dev', 'environment: stg');
    await writeFile(file, edited);
    const envFile = join(root, 'policies/dev/environment.yaml');
    await writeFile(envFile, (await readFile(envFile, 'utf8')).replace('window:', 'windw:'));
    await expect(observeOrg(root, { to: '2026-11-20' })).rejects.toThrow(ValidationFailed);
    expect(await readFile(file, 'utf8')).toBe(edited);
  });
});

describe('NODATA and SKIPDATA: never destinations; source counts the records of the window', () => {
  it('counts OK + NODATA + SKIPDATA records inside the window, and SKIPDATA windows inside it only', async () => {
    const records: (Rec | string)[] = [
      ...seg('203.0.113.10', T0, [2, 18]), // 2 OK records
      statusRecord(ENI, 'NODATA', T0 + 600),
      statusRecord('eni-0idle', 'NODATA', T0 + 600),
      statusRecord(ENI, 'SKIPDATA', T0 + 1200),
      statusRecord('eni-0idle', 'SKIPDATA', T0 + 1800),
      // outside the window: not counted
      statusRecord(ENI, 'SKIPDATA', WIN_FROM - 600),
      statusRecord(ENI, 'NODATA', WIN_FROM - 1200),
      ...seg('203.0.113.11', WIN_FROM - 3600, [2, 18]),
      statusRecord(ENI, 'SKIPDATA', WIN_TO + 60),
      // a malformed line is not a record
      `5 ${ENI} ${WEB} 203.0.113.10 51514`,
    ];
    const { files } = await observeScenario({ workloads: web, records });
    const o = files.get('web')!;
    expect(o.source).toEqual({ engine: 'duckdb', records: 6, skippedWindows: 2 });
    expect(egressKeys(o)).toEqual(['203.0.113.10/32 tcp/443']);
  });

  it('NODATA and SKIPDATA rows never become destinations, even rows that carry addresses', async () => {
    const records = [
      statusRecord(ENI, 'NODATA', T0),
      statusRecord(ENI, 'SKIPDATA', T0 + 600),
      ...seg('198.51.100.99', T0, [2, 18], [100, 100], { 'log-status': 'SKIPDATA' }),
      ...seg('198.51.100.98', T0, [2, 18], [100, 100], { 'log-status': 'NODATA' }),
      ...exchange({
        eni: ENI,
        src: WEB,
        sport: 40000,
        dst: '10.0.10.5',
        dport: 5432,
        start: T0,
        flags: [2, 0],
        action: 'REJECT',
        extra: { 'log-status': 'SKIPDATA' },
      }),
    ];
    const { files } = await observeScenario({ workloads: web, records });
    const o = files.get('web')!;
    expect(o.egress).toEqual([]);
    expect(o.rejected).toEqual([]);
    expect(o.source).toEqual({ engine: 'duckdb', records: 7, skippedWindows: 4 });
  });
});

/** A previous observed file of web with these egress entries (as observe writes it). */
function previousWeb(entries: { destination: string; lastSeen: string; flows?: number }[]): string {
  const file: ObservedFile = {
    workload: 'web',
    environment: 'dev',
    window: { from: '2026-10-01', to: '2026-10-14' },
    source: { engine: 'duckdb', records: 10, skippedWindows: 0 },
    egress: entries.map((e) => ({
      destination: e.destination,
      protocol: 'tcp',
      port: 443,
      service: null,
      flows: e.flows ?? 7,
      bytes: 700,
      firstSeen: '2026-10-01',
      lastSeen: e.lastSeen,
      decidedBy: 'tcp-flags' as const,
    })),
    rejected: [],
  };
  return renderObservedYaml(file);
}

describe('retainDays: what an earlier run saw is kept while last seen within retainDays of --to', () => {
  it.each([
    [
      'retainDays 30: last seen 2026-10-23 (29 days before) is kept, 2026-10-22 (30 days) is dropped',
      30,
      ['198.51.100.1/32 tcp/443', '203.0.113.10/32 tcp/443'],
    ],
    ['retainDays 14 (the window): nothing older than the window is kept', 14, ['203.0.113.10/32 tcp/443']],
  ] as [string, number, string[]][])('%s', async (_name, retainDays, expected) => {
    const root = await writeOrg({
      retainDays,
      observed: {
        web: previousWeb([
          { destination: '198.51.100.1/32', lastSeen: '2026-10-23' },
          { destination: '198.51.100.2/32', lastSeen: '2026-10-22' },
          { destination: '203.0.113.10/32', lastSeen: '2026-10-23', flows: 99 },
        ]),
      },
      // web's interface logged every day of the window: retainDays counts covered days, here every day
      logs: [{ name: 'a.log.gz', records: [...seg('203.0.113.10', T0, [2, 18]), ...loggedDaily(ENI, '2026-11-08')] }],
    });
    await observeOrg(root);
    const text = await readFile(join(root, 'observed/dev/web.yaml'), 'utf8');
    const o = parse(text) as ObservedFile;
    expect(egressKeys(o)).toEqual(expected);
    // kept as it was
    if (retainDays === 30) expect(o.egress[0]).toMatchObject({ flows: 7, firstSeen: '2026-10-01', lastSeen: '2026-10-23' });
    // seen again in this window: this window's numbers, not a sum with the old ones
    expect(o.egress.at(-1)).toMatchObject({ flows: 1, bytes: 100, firstSeen: '2026-11-10', lastSeen: '2026-11-10' });
  });
});

describe('re-runs: the same records give the same bytes, and the file is not rewritten', () => {
  it('a second run over the same records leaves observed/ untouched', async () => {
    const root = await writeOrg({
      workloads: { web: { cidrs: ['10.0.1.0/24'] }, api: { interfaces: ['eni-0a11b22c'] } },
      logs: [
        {
          name: 'a.log.gz',
          records: [
            ...seg('203.0.113.10', T0, [2, 18]),
            ...seg('203.0.113.10', T0 + DAY),
            ...exchange({ eni: 'eni-0web2', src: '10.0.1.11', sport: 40000, dst: '198.51.100.20', dport: 8443, start: T0, flags: [2, 18] }),
          ],
        },
      ],
    });
    const first = await observeOrg(root);
    expect(first.written).toEqual(['observed/dev/api.yaml', 'observed/dev/web.yaml']);
    const path = join(root, 'observed/dev/web.yaml');
    const bytes = await readFile(path);
    const mtime = (await stat(path)).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    const second = await observeOrg(root);
    expect(second.written).toEqual([]);
    expect(second.unchanged).toEqual(['observed/dev/api.yaml', 'observed/dev/web.yaml']);
    expect((await readFile(path)).equals(bytes)).toBe(true);
    expect((await stat(path)).mtimeMs).toBe(mtime);
    expect(bytes.toString('utf8').split('\n')[0]).toBe('# generated by leastpath observe: do not edit');
  });
});

describe('coverage: retainDays counts covered days; a silent workload keeps its evidence; retired lets it go', () => {
  const previous = () =>
    previousWeb([
      { destination: '198.51.100.1/32', lastSeen: '2026-10-23' },
      { destination: '198.51.100.2/32', lastSeen: '2026-10-22' },
    ]);

  it("days without a record from the workload do not count towards retainDays: 2026-10-22 is kept while 7 of the window's days were gaps", async () => {
    const root = await writeOrg({
      observed: { web: previous() },
      // web logged 2026-11-08 .. 2026-11-14 only: 7 of 14 days (the default minCoverage is half the window)
      logs: [{ name: 'a.log.gz', records: [...seg('203.0.113.10', T0, [2, 18]), ...loggedDaily(ENI, '2026-11-08', 7)] }],
    });
    const r = await observeOrg(root);
    expect(r.gaps).toEqual([]);
    const o = parse(await readFile(join(root, 'observed/dev/web.yaml'), 'utf8')) as ObservedFile;
    expect(egressKeys(o)).toEqual(['198.51.100.1/32 tcp/443', '198.51.100.2/32 tcp/443', '203.0.113.10/32 tcp/443']);
    expect(o.coverage).toMatchObject({
      days: 14,
      covered: 7,
      gaps: ['2026-11-15', '2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20', '2026-11-21'],
    });
  });

  it('a workload that logged too little of the window keeps all its earlier evidence (old entries too) and adds what it did log', async () => {
    // web logged 2026-11-21 only: 1 of 14 days, below the default minCoverage. 203.0.113.10 is new in this window.
    const root = await writeOrg({
      observed: { web: previous() },
      logs: [
        { name: 'a.log.gz', records: [...seg('203.0.113.10', at('2026-11-21T09:00:00Z'), [2, 18]), ...loggedDaily(ENI, '2026-11-21', 1)] },
      ],
    });
    const r = await observeOrg(root);
    expect(r.gaps).toMatchObject([{ workload: 'web', covered: 1, days: 14 }]);
    const o = parse(await readFile(join(root, 'observed/dev/web.yaml'), 'utf8')) as ObservedFile;
    expect(egressKeys(o)).toEqual(['198.51.100.1/32 tcp/443', '198.51.100.2/32 tcp/443', '203.0.113.10/32 tcp/443']);
  });

  it('a workload whose interface logged nothing keeps its evidence unchanged and is a gap; marked retired, its evidence goes', async () => {
    const logs = [{ name: 'a.log.gz', records: [...seg('203.0.113.10', T0, [2, 18]), ...loggedDaily(ENI, '2026-11-08')] }];
    const api = renderObservedYaml({
      workload: 'api',
      environment: 'dev',
      window: { from: '2026-10-31', to: '2026-11-13' },
      source: { engine: 'duckdb', records: 10, skippedWindows: 0 },
      egress: [
        {
          destination: '10.0.9.9/32',
          protocol: 'tcp',
          port: 5432,
          service: null,
          flows: 40,
          bytes: 4000,
          firstSeen: '2026-11-01',
          lastSeen: '2026-11-12',
          decidedBy: 'tcp-flags',
        },
      ],
      rejected: [],
    });
    const workloads = { web: { cidrs: ['10.0.1.0/24'] }, api: { interfaces: ['eni-0a9b1c2d'] } };
    const root = await writeOrg({ workloads, observed: { api }, logs });
    const r = await observeOrg(root);
    expect(r.gaps).toEqual([{ workload: 'api', covered: 0, days: 14, kept: { from: '2026-10-31', to: '2026-11-13' } }]);
    const kept = parse(await readFile(join(root, 'observed/dev/api.yaml'), 'utf8')) as ObservedFile;
    expect(kept.egress).toEqual((parse(api) as ObservedFile).egress);
    expect(kept.window).toEqual({ from: '2026-11-08', to: '2026-11-21' });
    expect(kept.coverage).toMatchObject({ covered: 0, kept: { from: '2026-10-31', to: '2026-11-13' } });

    const retired = await writeOrg({
      workloads: { ...workloads, api: { interfaces: ['eni-0a9b1c2d'], retired: true } },
      observed: { api },
      logs,
    });
    const gone = await observeOrg(retired);
    expect(gone.gaps).toEqual([]);
    expect((parse(await readFile(join(retired, 'observed/dev/api.yaml'), 'utf8')) as ObservedFile).egress).toEqual([]);
  });
});
