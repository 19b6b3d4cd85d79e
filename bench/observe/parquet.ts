/**
 * The Parquet twin of a data set: each .log.gz file written again as one .parquet file (columns with underscores,
 * typed as the Athena table, `-` as NULL), the way a Firehose or Glue job converts delivered flow logs. Stored
 * beside the data set and reused while its manifest is there.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { openDuckDb } from '../../observe/duckdb-session.js';
import { sqlString } from '../../observe/duckdb-view.js';
import { columnName, fieldType } from '../../observe/fields.js';
import { FORMAT, type DataSet } from './generate.js';

/** The folder of the Parquet twin and its files, made once. */
export async function ensureParquet(set: DataSet): Promise<{ dir: string; files: string[] }> {
  const dir = `${set.dir}-parquet`;
  const manifest = join(dir, 'manifest.json');
  try {
    const files = JSON.parse(await readFile(manifest, 'utf8')) as string[];
    return { dir, files: files.map((f) => join(dir, f)) };
  } catch {
    // Not there or incomplete: convert.
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const columns = FORMAT.map((f) => `${sqlString(columnName(f))}: '${fieldType(f)}'`).join(', ');
  const names: string[] = [];
  const duck = await openDuckDb();
  try {
    for (const file of set.files) {
      const name = basename(file).replace(/\.log\.gz$/, '.parquet');
      await duck.connection.run(
        `COPY (SELECT * FROM read_csv(${sqlString(file)}, delim = ' ', quote = '', escape = '', header = true, auto_detect = false, ` +
          `columns = {${columns}}, nullstr = '-')) TO ${sqlString(join(tmp, name))} (FORMAT parquet)`,
      );
      names.push(name);
    }
  } finally {
    duck.close();
  }
  await writeFile(join(tmp, 'manifest.json'), `${JSON.stringify(names)}\n`);
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  return { dir, files: names.map((n) => join(dir, n)) };
}
