/** flowLogs.memoryLimit: DuckDB's memory limit, and where DuckDB spills (never into the repository). */
import { readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/errors.js';
import { openDuckDb } from '../../observe/duckdb.js';
import { expectFinding, devEnvironment } from '../validate/org.js';
import { exchange, observeOrg, T0, thrown, writeOrg, type Rec } from './helpers.js';

const traffic = (): Rec[] =>
  Array.from({ length: 40 }, (_, i) =>
    exchange({ eni: 'eni-0web', src: '10.0.1.10', sport: 40000 + i, dst: `203.0.113.${i + 1}`, dport: 443, start: T0 + i * 60, flags: [2, 18] }),
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
    const setting = async (name: string) => String((await duck.connection.runAndReadAll(`SELECT current_setting('${name}')`)).getRows()[0]![0]);
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
    await expectFinding({ 'policies/dev/environment.yaml': devEnvironment('').replace('  engine: duckdb\n', '  engine: duckdb\n  memoryLimit: lots\n') }, 'policies/dev/environment.yaml:9:16: flowLogs.memoryLimit: expected');
  });
});
