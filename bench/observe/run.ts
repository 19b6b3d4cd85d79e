/**
 * `npm run bench:observe`: how fast observe reads flow logs, next to what anyone could do by hand. For each size it
 * generates (or reuses) a deterministic data set under bench/.data/ (bench/observe/generate.ts) and measures, each
 * in its own process so that peak RSS is per process:
 *
 * - engine: readObservationsDuckDb + assembleObserved over the files (bench/observe/engine-child.ts), timed inside
 *   the child, so Node and tsx start-up (~0.5 s) is not counted; nothing is written;
 * - capped: the engine again with `flowLogs.memoryLimit` set (--memory-limit, default 512MB): DuckDB spills what
 *   does not fit to disk, so memory stays near the limit as records grow, at a cost in time;
 * - floor: DuckDB reading the same files and grouping the records by connection, no more (floor-child.ts): what
 *   any exact engine on DuckDB must at least do, since the initiator decision needs each connection's records;
 * - awk: `zcat files | awk`, counting and summing bytes of OK ACCEPT records per (srcaddr, dstaddr, dstport,
 *   protocol): the hand-rolled script (RSS and CPU summed over both processes);
 * - zcat: `zcat files > /dev/null`, one process: the decompression limit.
 *
 * Goals (the issue): the engine at least 2x faster than awk, within 1.5x of bare zcat, memory flat as records grow.
 * The table also shows CPU seconds: on a shared machine wall times swell and CPU seconds much less, so the load
 * average is printed too. RSS needs /usr/bin/time for awk and zcat.
 *
 * Flags: --sizes 1000000,4000000 (records, comma-separated)  --files 16 (per size)  --runs 3 (median time, max RSS)
 *        --seed bench  --memory-limit 512MB (or none). The default run takes about three minutes on 2 cores (plus ~10 s to generate data once).
 * Bigger: npm run bench:observe -- --sizes 4000000,16000000 --files 64 --runs 1
 *         (16M records: ~3.4 GiB of text, ~0.4 GiB gzip on disk, several GiB of engine RSS, some minutes.)
 * Data only: node --import tsx bench/observe/generate.ts --records 2000000 --files 16
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildUsage } from './child.js';
import type { EngineResult } from './engine-child.js';
import type { FloorResult } from './floor-child.js';
import { DATA_ROOT, ensureDataSet, type DataSet } from './generate.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const TIME = '/usr/bin/time';

/** The hand-rolled script: OK ACCEPT records, count and bytes per (srcaddr, dstaddr, dstport, protocol). */
const AWK = '$1 != "start" && $10 == "OK" && $9 == "ACCEPT" { k = $4 " " $5 " " $7 " " $8; n[k]++; b[k] += $14 } END { for (k in n) print k, n[k], b[k] }';

const GOAL_VS_AWK = 2;
const GOAL_VS_ZCAT = 1.5;
/** "Flat": peak RSS at the largest size at most this many times the smallest size's. */
const FLAT_RSS_GROWTH = 1.25;

type Tool = 'engine' | 'capped' | 'floor' | 'awk' | 'zcat';

interface Measure {
  seconds: number;
  /** User + system CPU seconds (summed over a pipeline's processes; NaN when not measured). */
  cpu: number;
  /** Peak RSS in KiB (the sum over a pipeline's processes); NaN when it could not be measured. */
  rssKiB: number;
}

interface Options {
  sizes: number[];
  files: number;
  runs: number;
  seed: string;
  /** flowLogs.memoryLimit of the capped engine, or undefined for no capped run. */
  memoryLimit: string | undefined;
}

function parseArgs(argv: string[]): Options {
  const get = (name: string, fallback: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
  };
  const o: Options = {
    sizes: get('sizes', '1000000,4000000').split(',').map(Number),
    files: Number(get('files', '16')),
    runs: Number(get('runs', '3')),
    seed: get('seed', 'bench'),
    memoryLimit: get('memory-limit', '512MB') === 'none' ? undefined : get('memory-limit', '512MB'),
  };
  if (o.sizes.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(o.files) || o.files < 1 || !Number.isInteger(o.runs) || o.runs < 1) {
    throw new Error('--sizes takes positive integers separated by commas; --files and --runs positive integers');
  }
  return o;
}

/** Runs a command to completion; resolves with its stdout, rejects with its stderr when it fails. */
function run(cmd: string, args: string[], opts: { stdout?: 'pipe' | 'ignore'; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: opts.env ?? process.env, stdio: ['ignore', opts.stdout ?? 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')} ... exited ${code}: ${Buffer.concat(err).toString('utf8').trim().slice(-2000)}`));
    });
  });
}

async function haveTime(): Promise<boolean> {
  try {
    await run(TIME, ['-f', '%M', 'true']);
    return true;
  } catch {
    return false;
  }
}

/** Max RSS (KiB) and CPU seconds that `/usr/bin/time -f '%M %U %S'` wrote to `file`. */
async function usageFrom(file: string): Promise<{ rssKiB: number; cpu: number }> {
  const text = await readFile(file, 'utf8');
  const [m, u, s] = text.trim().split('\n').pop()!.split(' ').map(Number);
  return { rssKiB: Number.isFinite(m) ? m! : NaN, cpu: (u ?? NaN) + (s ?? NaN) };
}

/** Runs a child script that times its own work and prints one JSON line with seconds, cpuSeconds and maxRssKiB. */
async function measureChild<T extends ChildUsage>(script: string, set: DataSet, extra: string[] = []): Promise<Measure & { result: T }> {
  // The child times its own work and reports its own peak RSS (process.resourceUsage): start-up is not counted.
  // Node's warning that the AWS SDK wants Node 22 is noise here.
  const out = await run(process.execPath, ['--import', 'tsx', join(HERE, script), set.dir, ...extra], {
    env: { ...process.env, AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1', NODE_NO_WARNINGS: '1' },
  });
  const result = JSON.parse(out.trim().split('\n').pop()!) as T;
  return { seconds: result.seconds, cpu: result.cpuSeconds, rssKiB: result.maxRssKiB, result };
}

async function measureShell(script: string, files: readonly string[], timed: boolean, scratch: string): Promise<Measure & { output: string }> {
  const a = join(scratch, 'rss-a');
  const b = join(scratch, 'rss-b');
  await rm(a, { force: true });
  await rm(b, { force: true });
  const t = (file: string) => (timed ? `${TIME} -f '%M %U %S' -o ${file} ` : '');
  const t0 = performance.now();
  // "$@" are the files: no quoting of paths into the script.
  const output = await run('sh', ['-c', script.replaceAll('{A}', t(a)).replaceAll('{B}', t(b)), 'bench', ...files]);
  const seconds = (performance.now() - t0) / 1000;
  let rssKiB = NaN;
  let cpu = NaN;
  if (timed) {
    ({ rssKiB, cpu } = await usageFrom(a));
    if (script.includes('{B}')) {
      const second = await usageFrom(b);
      rssKiB += second.rssKiB;
      cpu += second.cpu;
    }
  }
  return { seconds, cpu, rssKiB, output };
}

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function pad(s: string, n: number, left = false): string {
  return left ? s.padEnd(n) : s.padStart(n);
}

function mib(kib: number): string {
  return Number.isNaN(kib) ? 'n/a' : (kib / 1024).toFixed(0);
}

function rate(records: number, seconds: number): string {
  const r = records / seconds;
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)} M` : `${(r / 1e3).toFixed(0)} k`;
}

function progress(msg: string): void {
  // Progress goes to stderr and only to a terminal: the table on stdout stays clean when it is piped or logged.
  if (process.stderr.isTTY) process.stderr.write(msg);
}

function load(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const timed = await haveTime();
  const scratch = join(DATA_ROOT, 'scratch-run');
  await mkdir(scratch, { recursive: true });
  const awkVersion = (await run('sh', ['-c', 'awk -W version 2>/dev/null || awk --version']).catch(() => 'awk')).split('\n')[0]!.trim();
  const zcatVersion = (await run('zcat', ['--version']).catch(() => 'zcat')).split('\n')[0]!.trim();
  const loadBefore = load();

  const results: { set: DataSet; m: Record<Tool, Measure>; engine: EngineResult; floor: FloorResult; awkGroups: number }[] = [];
  for (const records of o.sizes) {
    const set = await ensureDataSet({ records, files: o.files, seed: o.seed }, (m) => progress(`${m}\r`));
    progress(
      `${set.reused ? 'reusing' : 'generated'} ${set.records} records, ${set.files.length} files, ` +
        `${(set.gzBytes / 2 ** 20).toFixed(0)} MiB gzip / ${(set.textBytes / 2 ** 20).toFixed(0)} MiB text` +
        `${set.reused ? '' : ` (${set.generateSeconds.toFixed(1)} s)`}\n`,
    );
    // Every tool reads from the page cache: read the files once before timing anything.
    await run('cat', set.files, { stdout: 'ignore' });
    const runs: Record<Tool, Measure[]> = { engine: [], capped: [], floor: [], awk: [], zcat: [] };
    let capped: EngineResult | undefined;
    let engine: EngineResult | undefined;
    let floor: FloorResult | undefined;
    let awkGroups = 0;
    // Interleaved, so that a busy moment on the machine spreads over all three rather than hitting one.
    for (let i = 0; i < o.runs; i++) {
      progress(`  ${records}: run ${i + 1}/${o.runs}: engine`);
      const e = await measureChild<EngineResult>('engine-child.ts', set);
      runs.engine.push(e);
      engine = e.result;
      if (o.memoryLimit !== undefined) {
        progress(` ${e.seconds.toFixed(2)} s, capped`);
        const c = await measureChild<EngineResult>('engine-child.ts', set, [o.memoryLimit]);
        runs.capped.push(c);
        capped = c.result;
        progress(` ${c.seconds.toFixed(2)} s, floor`);
      } else progress(` ${e.seconds.toFixed(2)} s, floor`);
      const f = await measureChild<FloorResult>('floor-child.ts', set);
      runs.floor.push(f);
      floor = f.result;
      progress(` ${f.seconds.toFixed(2)} s, awk`);
      const awk = await measureShell(`{A}zcat "$@" | {B}awk '${AWK}'`, set.files, timed, scratch);
      runs.awk.push(awk);
      awkGroups = awk.output.split('\n').length - 1;
      progress(` ${awk.seconds.toFixed(2)} s, zcat`);
      const z = await measureShell('{A}zcat "$@" > /dev/null', set.files, timed, scratch);
      runs.zcat.push(z);
      progress(` ${z.seconds.toFixed(2)} s\n`);
    }
    if (engine!.records !== set.recordsInWindow) {
      throw new Error(`engine counted ${engine!.records} records in the window, the generator wrote ${set.recordsInWindow}`);
    }
    if (capped && (capped.egress !== engine!.egress || capped.rejected !== engine!.rejected || capped.records !== engine!.records)) {
      throw new Error(`the capped engine found other results than the engine (${JSON.stringify(capped)} vs ${JSON.stringify(engine)})`);
    }
    const m = Object.fromEntries(
      (Object.keys(runs) as Tool[]).filter((t) => runs[t].length > 0).map((t) => [
        t,
        {
          seconds: median(runs[t].map((x) => x.seconds)),
          cpu: median(runs[t].map((x) => x.cpu)),
          rssKiB: Math.max(...runs[t].map((x) => x.rssKiB)),
        },
      ]),
    ) as Record<Tool, Measure>;
    results.push({ set, m, engine: engine!, floor: floor!, awkGroups });
  }
  await rm(scratch, { recursive: true, force: true });

  const cores = cpus().length;
  console.log(
    `machine: ${cores} cores (${cpus()[0]?.model.trim() ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ` +
      `node ${process.version}, duckdb ${results[0]!.engine.duckdb}; ${awkVersion}; ${zcatVersion}`,
  );
  const loadAfter = load();
  const busy = Math.max(...[loadBefore, loadAfter].map((l) => Number(l.split(' ')[0]))) > cores / 2;
  console.log(`load average before ${loadBefore}, after ${loadAfter}${busy ? ': the machine was busy, wall times are inflated (compare cpu s)' : ''}`);
  console.log(
    `data: v5 custom format (the dev example's layout), ${o.files} .log.gz files per size, seed ${JSON.stringify(o.seed)}; ` +
      `median of ${o.runs} run(s), peak RSS the max over runs`,
  );
  console.log('vs awk = awk seconds / tool seconds (higher is faster); vs zcat = tool seconds / zcat seconds (lower is better)\n');
  const head = ['records', 'tool', 'seconds', 'cpu s', 'records/s', 'peak RSS MiB', 'vs awk', 'vs zcat'];
  const widths = [10, 6, 8, 7, 10, 12, 7, 7];
  const row = (cells: string[]) => console.log(cells.map((c, i) => pad(c, widths[i]!, i === 1)).join('  '));
  row(head);
  row(widths.map((w) => '-'.repeat(w)));
  for (const { set, m } of results) {
    for (const tool of ['engine', 'capped', 'floor', 'awk', 'zcat'] as Tool[]) {
      if (!m[tool]) continue;
      const { seconds, cpu, rssKiB } = m[tool];
      row([
        String(set.records), tool, seconds.toFixed(2), Number.isNaN(cpu) ? 'n/a' : cpu.toFixed(2), rate(set.records, seconds), mib(rssKiB),
        `${(m.awk.seconds / seconds).toFixed(2)}x`, `${(seconds / m.zcat.seconds).toFixed(2)}x`,
      ]);
    }
  }
  console.log('');
  for (const { set, engine, floor, awkGroups } of results) {
    console.log(
      `${set.records}: engine counted ${engine.records} records in the window (as generated), ` +
        `${engine.egress} egress and ${engine.rejected} rejected entries; floor grouped ${floor.records} records into ` +
        `${floor.connections} connections; awk printed ${awkGroups} groups`,
    );
  }

  const vsAwk = results.map((r) => r.m.awk.seconds / r.m.engine.seconds);
  const vsZcat = results.map((r) => r.m.engine.seconds / r.m.zcat.seconds);
  // The same ratios in CPU seconds: what the figures would say on an idle machine with one core per process.
  const cpuVsAwk = results.map((r) => r.m.awk.cpu / r.m.engine.cpu);
  const cpuVsZcat = results.map((r) => r.m.engine.cpu / r.m.zcat.cpu);
  const first = results[0]!;
  const last = results[results.length - 1]!;
  const growth = last.m.engine.rssKiB / first.m.engine.rssKiB;
  const recordGrowth = last.set.records / first.set.records;
  const verdict = (ok: boolean) => (ok ? 'HOLDS' : 'FAILS');
  const list = (xs: number[]) => xs.map((x) => `${x.toFixed(2)}x`).join(', ');
  console.log(
    `\ngoal >= ${GOAL_VS_AWK}x faster than awk: ${verdict(vsAwk.every((x) => x >= GOAL_VS_AWK))} ` +
      `(${list(vsAwk)}; in CPU seconds ${list(cpuVsAwk)})`,
  );
  console.log(
    `goal <= ${GOAL_VS_ZCAT}x bare zcat: ${verdict(vsZcat.every((x) => x <= GOAL_VS_ZCAT))} ` +
      `(${list(vsZcat)}; in CPU seconds ${list(cpuVsZcat)})`,
  );
  if (results.length < 2) console.log('goal memory flat: not measured (needs two sizes)');
  else {
    console.log(
      `goal memory flat (peak RSS grows <= ${FLAT_RSS_GROWTH}x): ${verdict(growth <= FLAT_RSS_GROWTH)} ` +
        `(engine ${mib(first.m.engine.rssKiB)} -> ${mib(last.m.engine.rssKiB)} MiB, x${growth.toFixed(2)} for x${recordGrowth.toFixed(0)} records)`,
    );
    if (first.m.capped && last.m.capped) {
      const cappedGrowth = last.m.capped.rssKiB / first.m.capped.rssKiB;
      console.log(
        `  with flowLogs.memoryLimit ${o.memoryLimit}: ${verdict(cappedGrowth <= FLAT_RSS_GROWTH)} ` +
          `(capped ${mib(first.m.capped.rssKiB)} -> ${mib(last.m.capped.rssKiB)} MiB, x${cappedGrowth.toFixed(2)}; ` +
          `${list(results.map((r) => r.m.capped!.seconds / r.m.engine.seconds))} the engine's time)`,
      );
    }
  }
}

await main();
