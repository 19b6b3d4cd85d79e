/**
 * flowLogs.maxSeconds: observe's and report's DuckDB queries are interrupted past their time bound, with a message
 * naming the setting, and nothing is written (issue 15).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDuckDb, QueryTimeout, withTimeBound } from '../../observe/duckdb-session.js';
import { runReport } from '../../cli/commands/report.js';
import { devEnvironment, expectFinding, TODAY } from '../validate/org.js';
import { exchange, observeOrg, T0, thrown, writeOrg, type Rec } from './helpers.js';

const traffic = (): Rec[] =>
  Array.from({ length: 400 }, (_, i) =>
    exchange({
      eni: 'eni-0web',
      src: '10.0.1.10',
      sport: 40000 + (i % 2000),
      dst: `203.0.113.${(i % 250) + 1}`,
      dport: 443,
      start: T0 + i * 60,
      flags: [2, 18],
    }),
  ).flat();

/** An organisation whose environment.yaml sets flowLogs.maxSeconds. */
async function boundedOrg(maxSeconds: number): Promise<string> {
  const root = await writeOrg({ logs: [{ name: 'a.log.gz', records: traffic() }] });
  const file = join(root, 'policies/dev/environment.yaml');
  const text = await readFile(file, 'utf8');
  await writeFile(file, text.replace('"engine":"duckdb"', `"engine":"duckdb","maxSeconds":${maxSeconds}`));
  return root;
}

const MESSAGE = /^the DuckDB query was stopped after 0\.001 s, its time bound \(flowLogs\.maxSeconds in policies\/dev\/environment\.yaml\)/;

describe('flowLogs.maxSeconds', () => {
  it('interrupts a DuckDB query past the bound (a 4-way self join) and says which setting stopped it', async () => {
    const duck = await openDuckDb();
    try {
      await duck.connection.run('CREATE TABLE t AS SELECT range AS x FROM range(3000)');
      const started = Date.now();
      const err = await thrown(() =>
        withTimeBound(duck.connection, { seconds: 0.5, setting: 'the test' }, () =>
          duck.connection.runAndReadAll('SELECT sum(a.x + b.x + c.x + d.x) FROM t a, t b, t c, t d'),
        ),
      );
      expect(err).toBeInstanceOf(QueryTimeout);
      expect((err as Error).message).toMatch(/^the DuckDB query was stopped after 0\.5 s, its time bound \(the test\)/);
      expect(Date.now() - started).toBeLessThan(15_000);
      // The connection works on afterwards.
      expect((await duck.connection.runAndReadAll('SELECT 42')).getRows()).toEqual([[42]]);
    } finally {
      duck.close();
    }
  });

  it('stops observe, which writes nothing', async () => {
    const root = await boundedOrg(0.001);
    const err = await thrown(() => observeOrg(root));
    expect(err).toBeInstanceOf(QueryTimeout);
    expect((err as Error).message).toMatch(MESSAGE);
    await expect(readdir(join(root, 'observed'))).rejects.toThrow(/ENOENT/);
  });

  it('stops report', async () => {
    const root = await boundedOrg(0.001);
    const err = await thrown(() => runReport({ root, env: 'dev', today: TODAY, to: '2026-11-21' }));
    expect(err).toBeInstanceOf(QueryTimeout);
    expect((err as Error).message).toMatch(MESSAGE);
  });

  it('a bound the query keeps to changes nothing', async () => {
    const root = await boundedOrg(600);
    const r = await observeOrg(root);
    expect(r).toBeDefined();
    expect(await readdir(join(root, 'observed/dev'))).toEqual(['web.yaml']);
  });

  it('validate refuses a bound that is no positive number, and a bytes cutoff that is no size, at their lines', async () => {
    const env = devEnvironment('').replace('  engine: duckdb\n', '  engine: duckdb\n  maxSeconds: 0\n');
    await expectFinding(
      { 'policies/dev/environment.yaml': env },
      'policies/dev/environment.yaml:9:15: flowLogs.maxSeconds: expected the time bound of one observe or report query in seconds',
    );
    const athenaEnv = devEnvironment('').replace(
      '  engine: duckdb\n',
      '  engine: duckdb\n  athena: { database: d, table: t, workgroup: w, maxBytesScanned: lots }\n',
    );
    await expectFinding(
      { 'policies/dev/environment.yaml': athenaEnv },
      'policies/dev/environment.yaml:9:67: flowLogs.athena.maxBytesScanned: expected the most one query may scan',
    );
    await expectFinding(
      { 'policies/ask.yaml': 'maxSeconds: -1\n' },
      'policies/ask.yaml:1:13: maxSeconds: expected the time bound of the query ask --run runs',
    );
  });
});
