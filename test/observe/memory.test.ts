/** flowLogs.memoryLimit: DuckDB's memory limit, and where DuckDB spills (never into the repository). */
import { mkdtemp, readdir, readFile, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/errors.js';
import { readFlowLogs } from '../../observe/duckdb-checks.js';
import { explainTempArea, openDuckDb } from '../../observe/duckdb-session.js';
import { resolveFiles } from '../../observe/duckdb-view.js';
import { expectFinding, devEnvironment } from '../validate/org.js';
import { exchange, observeOrg, T0, thrown, writeLogFiles, writeOrg, type Rec } from './helpers.js';

const traffic = (): Rec[] =>
  Array.from({ length: 40 }, (_, i) =>
    exchange({
      eni: 'eni-0web',
      src: '10.0.1.10',
      sport: 40000 + i,
      dst: `203.0.113.${i + 1}`,
      dport: 443,
      start: T0 + i * 60,
      flags: [2, 18],
    }),
  ).flat();

async function observedFiles(root: string): Promise<Record<string, string>> {
  const dir = join(root, 'observed/dev');
  const out: Record<string, string> = {};
  for (const f of (await readdir(dir)).sort()) out[f] = await readFile(join(dir, f), 'utf8');
  return out;
}

describe('flowLogs.memoryLimit', () => {
  it("is DuckDB's limit; DuckDB spills into a private temp directory, removed on close", async () => {
    const duck = await openDuckDb({ memoryLimit: '64MB' });
    const setting = async (name: string) =>
      String((await duck.connection.runAndReadAll(`SELECT current_setting('${name}')`)).getRows()[0]![0]);
    expect(await setting('memory_limit')).toBe('61.0 MiB');
    const spill = await setting('temp_directory');
    expect(spill.startsWith(join(tmpdir(), 'leastpath-duckdb-'))).toBe(true);
    // A grouping larger than the limit completes by spilling there.
    const n = await duck.connection.runAndReadAll("SELECT count(*) FROM (SELECT DISTINCT 'key-' || i AS k FROM range(4000000) t(i))");
    expect(Number(n.getRows()[0]![0])).toBe(4_000_000);
    expect((await stat(spill)).isDirectory()).toBe(true);
    duck.close();
    await expect(stat(spill)).rejects.toThrow(/ENOENT/);

    const plain = await openDuckDb();
    const dir = String((await plain.connection.runAndReadAll("SELECT current_setting('temp_directory')")).getRows()[0]![0]);
    expect(dir.startsWith(join(tmpdir(), 'leastpath-duckdb-'))).toBe(true);
    expect(dir).not.toBe(spill);
    plain.close();
  });

  it('observe under a limit writes the same files as without', async () => {
    // The traffic spans one day: minCoverage 0 lets it replace the (empty) evidence, the engine is what is compared.
    const free = await writeOrg({ logs: [{ name: 'a.log.gz', records: traffic() }], minCoverage: 0 });
    const capped = await writeOrg({ logs: [{ name: 'a.log.gz', records: traffic() }], memoryLimit: '256MB', minCoverage: 0 });
    await observeOrg(free);
    await observeOrg(capped);
    const files = await observedFiles(free);
    expect(Object.keys(files)).toEqual(['web.yaml']);
    expect(files['web.yaml']).toContain('203.0.113.40/32');
    expect(await observedFiles(capped)).toEqual(files);
  });

  it('a limit DuckDB cannot work within says so, naming the setting, not a file', async () => {
    const root = await writeOrg({ logs: [{ name: 'a.log.gz', records: traffic() }], memoryLimit: '1MB' });
    const err = await thrown(() => observeOrg(root));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/^DuckDB ran out of memory within its limit of 976\.5 KiB .*raise flowLogs\.memoryLimit/);
  });

  it('validate refuses a value that is not a size, at its line', async () => {
    await expectFinding(
      { 'policies/dev/environment.yaml': devEnvironment('').replace('  engine: duckdb\n', '  engine: duckdb\n  memoryLimit: lots\n') },
      'policies/dev/environment.yaml:9:16: flowLogs.memoryLimit: expected',
    );
  });

  it('a spill disk that is full is blamed on the disk and TMPDIR, not on memoryLimit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'leastpath-spill-full-'));
    await writeLogFiles(join(dir, 'logs'), [{ name: 'a.log.gz', records: traffic() }]);
    const duck = await openDuckDb({ memoryLimit: '64MB' });
    try {
      // DuckDB caps what it spills at the free space of the spill folder's disk: a cap of 1MB is that disk nearly full.
      await duck.connection.run("SET max_temp_directory_size = '1MB'");
      const files = await resolveFiles(duck.connection, ['logs/*'], dir, dir);
      const err = await thrown(() =>
        readFlowLogs(duck.connection, files, 0, () =>
          duck.connection.runAndReadAll("SELECT count(*) FROM (SELECT DISTINCT 'key-' || i AS k FROM range(4000000) t(i))"),
        ),
      );
      expect(err).toBeInstanceOf(UsageError);
      const message = (err as Error).message;
      expect(message).toMatch(
        new RegExp(
          `^DuckDB's spill folder ${join(tmpdir(), 'leastpath-duckdb-')}\\d+-\\w+ \\(under TMPDIR\\) has no room for what exceeds its memory limit of 61\\.0 MiB`,
        ),
      );
      expect(message).toContain(
        'the disk is full there; free space, point TMPDIR at a folder on a disk with room, or raise flowLogs.memoryLimit',
      );
    } finally {
      duck.close();
    }
  });

  it('a temp area that cannot take a file (a full disk: the OS answers ENOSPC) names the folder and TMPDIR', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'leastpath-temp-full-'));
    // Every write to /dev/full fails with ENOSPC: the probe file is the disk that is full.
    await symlink('/dev/full', join(dir, '.leastpath-probe'));
    const err = await thrown(() => explainTempArea(dir));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(
      `cannot write in the temp area ${dir}: the disk is full (ENOSPC); DuckDB's spill and profile files go under TMPDIR: free space there, or point TMPDIR at a writable folder with room`,
    );
  });
});
