/**
 * Writes the example flow logs (examples/flow-logs/<env>/AWSLogs/...) from examples/scenario.ts: the IO edge of
 * the example generator. Same bytes on every run: the scenario is seeded, and gzip gets a fixed header.
 *
 *   npm run examples            regenerate examples/flow-logs
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { dnsQueries, renderDnsFiles } from './dns-scenario.js';
import { EXAMPLE_ENVS, exampleScenario, renderFiles, type ExampleEnv } from './scenario.js';

export interface EnvSummary {
  env: ExampleEnv;
  files: number;
  /** Well-formed records written (all files, the days before the window included). */
  records: number;
  /** Compressed size on disk. */
  bytes: number;
  /** Uncompressed size. */
  rawBytes: number;
  /** Files whose content changed and were rewritten. */
  written: number;
}

/** The committed examples: examples/flow-logs next to this file. */
export const DEFAULT_OUT_DIR = join(dirname(fileURLToPath(import.meta.url)), 'flow-logs');

/**
 * gzip with a header that does not depend on the clock or the platform: zlib writes MTIME 0 (bytes 4-7) already;
 * the OS byte (9) is whatever zlib was built for, so it is pinned to 3 (Unix), as S3-delivered files have it.
 */
export function gzipDeterministic(text: string): Buffer {
  const gz = gzipSync(Buffer.from(text, 'utf8'), { level: 9 });
  if (gz.readUInt32LE(4) !== 0) throw new Error('gzip header carries an mtime');
  gz[9] = 3;
  return gz;
}

function listLogFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listLogFiles(full));
    else if (entry.name.endsWith('.log.gz')) out.push(full);
  }
  return out.sort();
}

/** Removes directories left empty (old days) under `dir`, never `dir` itself. */
function pruneEmpty(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const full = join(dir, entry.name);
    pruneEmpty(full);
    if (readdirSync(full).length === 0) rmSync(full, { recursive: true });
  }
}

/**
 * Writes every environment's files under `outDir/<env>/` in a fixed order, removes `.log.gz` files the scenario
 * no longer produces, and leaves a file untouched when its content is unchanged (so a different zlib build does
 * not rewrite committed files for nothing).
 */
export function generateExamples(outDir: string = DEFAULT_OUT_DIR, seed?: string): EnvSummary[] {
  const summaries: EnvSummary[] = [];
  for (const env of EXAMPLE_ENVS) {
    const envDir = join(outDir, env);
    const files = renderFiles(exampleScenario(env, seed));
    const wanted = new Set<string>();
    let bytes = 0;
    let rawBytes = 0;
    let records = 0;
    let written = 0;
    for (const file of files) {
      const target = join(envDir, ...file.path.split('/'));
      wanted.add(target);
      const text = `${file.lines.join('\n')}\n`;
      rawBytes += Buffer.byteLength(text);
      records += file.records;
      if (existsSync(target) && gunzipSync(readFileSync(target)).toString('utf8') === text) {
        bytes += readFileSync(target).length;
        continue;
      }
      const gz = gzipDeterministic(text);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, gz);
      bytes += gz.length;
      written++;
    }
    for (const stale of listLogFiles(envDir)) if (!wanted.has(stale)) rmSync(stale);
    if (existsSync(envDir)) pruneEmpty(envDir);
    summaries.push({ env, files: files.length, records, bytes, rawBytes, written });
  }
  return summaries;
}

/** The committed example query logs: examples/dns-logs next to this file. */
export const DEFAULT_DNS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'dns-logs');

/**
 * Writes every environment's Route 53 Resolver query logs under `outDir/<env>/`, from the same scenario (and so the
 * same connections) as its flow logs; same rules as generateExamples (unchanged files untouched, stale ones removed).
 */
export function generateDnsExamples(
  outDir: string = DEFAULT_DNS_DIR,
  seed?: string,
): { env: ExampleEnv; files: number; queries: number; written: number }[] {
  const out: { env: ExampleEnv; files: number; queries: number; written: number }[] = [];
  for (const env of EXAMPLE_ENVS) {
    const envDir = join(outDir, env);
    const scenario = exampleScenario(env, seed);
    const files = renderDnsFiles(scenario, dnsQueries(scenario, seed));
    const wanted = new Set<string>();
    let written = 0;
    let queries = 0;
    for (const file of files) {
      const target = join(envDir, ...file.path.split('/'));
      wanted.add(target);
      queries += file.lines.length;
      const text = `${file.lines.join('\n')}\n`;
      if (existsSync(target) && gunzipSync(readFileSync(target)).toString('utf8') === text) continue;
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, gzipDeterministic(text));
      written++;
    }
    for (const stale of listLogFiles(envDir)) if (!wanted.has(stale)) rmSync(stale);
    if (existsSync(envDir)) pruneEmpty(envDir);
    out.push({ env, files: files.length, queries, written });
  }
  return out;
}

function main(): void {
  const outDir = resolve(process.argv[2] ?? DEFAULT_OUT_DIR);
  const dnsDir = resolve(process.argv[3] ?? DEFAULT_DNS_DIR);
  for (const d of generateDnsExamples(dnsDir))
    console.log(`dns-logs/${d.env}: ${d.files} files, ${d.queries} queries, ${d.written} rewritten`);
  const summaries = generateExamples(outDir);
  const shown = relative(process.cwd(), outDir).split(sep).join('/') || '.';
  for (const s of summaries) {
    console.log(
      `${shown}/${s.env}: ${s.files} files, ${s.records} records, ${(s.bytes / 1024).toFixed(0)} KiB gzip ` +
        `(${(s.rawBytes / 1024 / 1024).toFixed(1)} MiB raw), ${s.written} rewritten`,
    );
  }
  const total = summaries.reduce((a, s) => a + s.bytes, 0);
  console.log(`total: ${(total / 1024 / 1024).toFixed(2)} MiB`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
