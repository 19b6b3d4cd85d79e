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
 * and, for the goals of issue 18 (printed last, each figure beside its baseline and their ratio):
 *
 * - naive / naive-pq: the egress query a user writes by hand, DuckDB with typed columns (naive-child.ts), on the
 *   gzip files and on their Parquet twin (parquet.ts); engine-pq: the engine on the Parquet twin;
 * - older: the engine with 15 older days of logs beside the window (generate.ts daysBefore), which it should not read;
 * - report: report's engine over the same files (report-child.ts);
 * - fixed: loading the repository with N observed entries (fixed-child.ts), fast and through the positional parse.
 *
 * CPU seconds are the whole process's (DuckDB's threads and Node's pool), medians over the runs. On a shared
 * machine wall times swell and CPU seconds much less, so the load average is printed too. RSS needs
 * /usr/bin/time for awk and zcat.
 *
 * Flags: --records 1M (sizes, comma-separated: 1M,4M,10M; --sizes is the same)  --files 16 (per size)
 *        --runs 3 (median time, max RSS)  --seed bench  --memory-limit 512MB (or none)  --fixed-entries 20000.
 * `npm run bench` at 1M takes several minutes on 2 cores (plus about a minute to generate data once).
 * Bigger: npm run bench -- --records 4M,10M --runs 1
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
import type { FixedResult } from './fixed-child.js';
import { DATA_ROOT, ensureDataSet, WINDOW_DAYS, WINDOW_TO, type DataSet } from './generate.js';
import type { NaiveResult } from './naive-child.js';
import { ensureParquet } from './parquet.js';
import { addDays } from '../../core/dates.js';
import { windowEnding } from '../../observe/observe.js';
import { deliveryDays } from '../../observe/prune.js';
import type { ReportResult } from './report-child.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const TIME = '/usr/bin/time';

/** The hand-rolled script: OK ACCEPT records, count and bytes per (srcaddr, dstaddr, dstport, protocol). */
const AWK =
  '$1 != "start" && $10 == "OK" && $9 == "ACCEPT" { k = $4 " " $5 " " $7 " " $8; n[k]++; b[k] += $14 } END { for (k in n) print k, n[k], b[k] }';

type Tool = 'engine' | 'capped' | 'floor' | 'awk' | 'zcat' | 'naive' | 'engine-pq' | 'naive-pq' | 'older' | 'report';
const TOOLS: readonly Tool[] = ['engine', 'capped', 'floor', 'awk', 'zcat', 'naive', 'engine-pq', 'naive-pq', 'older', 'report'];
/** Days of older logs beside the window for the `older` run (the issue's measurement). */
const OLDER_DAYS = 15;

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
  /** Observed entries of the fixed-cost measure. */
  fixedEntries: number;
}

/** `1M`, `250k` or digits: a record count. */
function count(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  if (!m) return NaN;
  return Math.round(Number(m[1]) * (m[2] === '' ? 1 : /k/i.test(m[2]!) ? 1e3 : 1e6));
}

function parseArgs(argv: string[]): Options {
  const get = (name: string, fallback: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
  };
  const o: Options = {
    sizes: get('records', get('sizes', '1M')).split(',').map(count),
    files: Number(get('files', '16')),
    runs: Number(get('runs', '3')),
    seed: get('seed', 'bench'),
    memoryLimit: get('memory-limit', '512MB') === 'none' ? undefined : get('memory-limit', '512MB'),
    fixedEntries: Number(get('fixed-entries', '20000')),
  };
  if (
    o.sizes.some((n) => !Number.isInteger(n) || n < 1) ||
    !Number.isInteger(o.files) ||
    o.files < 1 ||
    !Number.isInteger(o.runs) ||
    o.runs < 1
  ) {
    throw new Error('--records takes counts separated by commas (1M,4M); --files and --runs positive integers');
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
      else
        reject(
          new Error(`${cmd} ${args.slice(0, 3).join(' ')} ... exited ${code}: ${Buffer.concat(err).toString('utf8').trim().slice(-2000)}`),
        );
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
async function measureChild<T extends ChildUsage>(script: string, dir: string, extra: string[] = []): Promise<Measure & { result: T }> {
  // The child times its own work and reports its own peak RSS (process.resourceUsage): start-up is not counted.
  // Node's warning that the AWS SDK wants Node 22 is noise here.
  const out = await run(process.execPath, ['--import', 'tsx', join(HERE, script), dir, ...extra], {
    env: { ...process.env, AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1', NODE_NO_WARNINGS: '1' },
  });
  const result = JSON.parse(out.trim().split('\n').pop()!) as T;
  return { seconds: result.seconds, cpu: result.cpuSeconds, rssKiB: result.maxRssKiB, result };
}

async function measureShell(
  script: string,
  files: readonly string[],
  timed: boolean,
  scratch: string,
): Promise<Measure & { output: string }> {
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

  const results: Result[] = [];
  for (const records of o.sizes) {
    const set = await ensureDataSet({ records, files: o.files, seed: o.seed }, (m) => progress(`${m}\r`));
    const older = await ensureDataSet({ records, files: o.files, seed: `${o.seed}-older`, daysBefore: OLDER_DAYS }, (m) =>
      progress(`${m}\r`),
    );
    const pq = await ensureParquet(set);
    progress(
      `${set.reused ? 'reusing' : 'generated'} ${set.records} records, ${set.files.length} files, ` +
        `${(set.gzBytes / 2 ** 20).toFixed(0)} MiB gzip / ${(set.textBytes / 2 ** 20).toFixed(0)} MiB text` +
        `${set.reused ? '' : ` (${set.generateSeconds.toFixed(1)} s)`}\n`,
    );
    // Every tool reads from the page cache: read the files once before timing anything.
    await run('cat', [...set.files, ...older.files, ...pq.files], { stdout: 'ignore' });
    const runs = Object.fromEntries(TOOLS.map((t) => [t, []])) as unknown as Record<Tool, Measure[]>;
    let capped: EngineResult | undefined;
    let engine: EngineResult | undefined;
    let floor: FloorResult | undefined;
    let awkGroups = 0;
    let enginePq: EngineResult | undefined;
    let withOlder: EngineResult | undefined;
    // Interleaved, so that a busy moment on the machine spreads over all three rather than hitting one.
    for (let i = 0; i < o.runs; i++) {
      progress(`  ${records}: run ${i + 1}/${o.runs}: engine`);
      const e = await measureChild<EngineResult>('engine-child.ts', set.dir);
      runs.engine.push(e);
      engine = e.result;
      if (o.memoryLimit !== undefined) {
        progress(` ${e.seconds.toFixed(2)} s, capped`);
        const c = await measureChild<EngineResult>('engine-child.ts', set.dir, [o.memoryLimit]);
        runs.capped.push(c);
        capped = c.result;
        progress(` ${c.seconds.toFixed(2)} s, floor`);
      } else progress(` ${e.seconds.toFixed(2)} s, floor`);
      const f = await measureChild<FloorResult>('floor-child.ts', set.dir);
      runs.floor.push(f);
      floor = f.result;
      progress(` ${f.seconds.toFixed(2)} s, awk`);
      const awk = await measureShell(`{A}zcat "$@" | {B}awk '${AWK}'`, set.files, timed, scratch);
      runs.awk.push(awk);
      awkGroups = awk.output.split('\n').length - 1;
      progress(` ${awk.seconds.toFixed(2)} s, zcat`);
      const z = await measureShell('{A}zcat "$@" > /dev/null', set.files, timed, scratch);
      runs.zcat.push(z);
      progress(` ${z.seconds.toFixed(2)} s, naive`);
      const nv = await measureChild<NaiveResult>('naive-child.ts', set.dir);
      runs.naive.push(nv);
      progress(` ${nv.seconds.toFixed(2)} s, engine-pq`);
      const ep = await measureChild<EngineResult>('engine-child.ts', pq.dir);
      runs['engine-pq'].push(ep);
      enginePq = ep.result;
      progress(` ${ep.seconds.toFixed(2)} s, naive-pq`);
      const np = await measureChild<NaiveResult>('naive-child.ts', pq.dir);
      runs['naive-pq'].push(np);
      progress(` ${np.seconds.toFixed(2)} s, older`);
      const od = await measureChild<EngineResult>('engine-child.ts', `${set.dir},${older.dir}`);
      runs.older.push(od);
      withOlder = od.result;
      progress(` ${od.seconds.toFixed(2)} s, report`);
      const rp = await measureChild<ReportResult>('report-child.ts', set.dir);
      runs.report.push(rp);
      progress(` ${rp.seconds.toFixed(2)} s\n`);
    }
    for (const [what, other] of [
      ['on Parquet', enginePq],
      [`with ${OLDER_DAYS} older days beside the window`, withOlder],
    ] as const) {
      if (other && (other.egress !== engine!.egress || other.rejected !== engine!.rejected || other.records !== engine!.records)) {
        throw new Error(`the engine ${what} found other results (${JSON.stringify(other)} vs ${JSON.stringify(engine)})`);
      }
    }
    if (engine!.records !== set.recordsInWindow) {
      throw new Error(`engine counted ${engine!.records} records in the window, the generator wrote ${set.recordsInWindow}`);
    }
    if (capped && (capped.egress !== engine!.egress || capped.rejected !== engine!.rejected || capped.records !== engine!.records)) {
      throw new Error(`the capped engine found other results than the engine (${JSON.stringify(capped)} vs ${JSON.stringify(engine)})`);
    }
    const m = Object.fromEntries(
      (Object.keys(runs) as Tool[])
        .filter((t) => runs[t].length > 0)
        .map((t) => [
          t,
          {
            seconds: median(runs[t].map((x) => x.seconds)),
            cpu: median(runs[t].map((x) => x.cpu)),
            rssKiB: Math.max(...runs[t].map((x) => x.rssKiB)),
          },
        ]),
    ) as Record<Tool, Measure>;
    results.push({ set, m, engine: engine!, floor: floor!, awkGroups, withOlder: withOlder!, olderFiles: older.files });
  }
  await rm(scratch, { recursive: true, force: true });

  // The fixed cost does not depend on the records: measured once, fast and through the positional parse, interleaved.
  const fixedRuns: Record<'fast' | 'positions' | 'empty', FixedResult[]> = { fast: [], positions: [], empty: [] };
  for (let i = 0; i < o.runs; i++) {
    for (const mode of ['fast', 'positions'] as const) {
      progress(`  fixed cost, ${o.fixedEntries} observed entries: run ${i + 1}/${o.runs}: ${mode}\r`);
      fixedRuns[mode].push((await measureChild<FixedResult>('fixed-child.ts', String(o.fixedEntries), [mode])).result);
    }
    fixedRuns.empty.push((await measureChild<FixedResult>('fixed-child.ts', '0', ['fast'])).result);
  }
  progress('\n');
  const fixed = (mode: 'fast' | 'positions' | 'empty', f: (r: FixedResult) => number) => median(fixedRuns[mode].map(f));

  const cores = cpus().length;
  console.log(
    `machine: ${cores} cores (${cpus()[0]?.model.trim() ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ` +
      `node ${process.version}, duckdb ${results[0]!.engine.duckdb}; ${awkVersion}; ${zcatVersion}`,
  );
  const loadAfter = load();
  const busy = Math.max(...[loadBefore, loadAfter].map((l) => Number(l.split(' ')[0]))) > cores / 2;
  console.log(
    `load average before ${loadBefore}, after ${loadAfter}${busy ? ': the machine was busy, wall times are inflated (compare cpu s)' : ''}`,
  );
  console.log(
    `data: v5 custom format (the dev example's layout), ${o.files} .log.gz files per size, seed ${JSON.stringify(o.seed)}; ` +
      `median of ${o.runs} run(s), peak RSS the max over runs`,
  );
  console.log('vs awk = awk seconds / tool seconds (higher is faster); vs zcat = tool seconds / zcat seconds (lower is better)\n');
  const head = ['records', 'tool', 'seconds', 'cpu s', 'records/s', 'peak RSS MiB', 'vs awk', 'vs zcat'];
  const widths = [10, 9, 8, 7, 10, 12, 7, 7];
  const row = (cells: string[]) => console.log(cells.map((c, i) => pad(c, widths[i]!, i === 1)).join('  '));
  row(head);
  row(widths.map((w) => '-'.repeat(w)));
  for (const { set, m } of results) {
    for (const tool of TOOLS) {
      if (!m[tool]) continue;
      const { seconds, cpu, rssKiB } = m[tool];
      row([
        String(set.records),
        tool,
        seconds.toFixed(2),
        Number.isNaN(cpu) ? 'n/a' : cpu.toFixed(2),
        rate(set.records, seconds),
        mib(rssKiB),
        `${(m.awk.seconds / seconds).toFixed(2)}x`,
        `${(seconds / m.zcat.seconds).toFixed(2)}x`,
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

  printGoals(o, results, {
    fastRead: fixed('fast', (r) => r.readCpuSeconds),
    positionsRead: fixed('positions', (r) => r.readCpuSeconds),
    fastLoad: fixed('fast', (r) => r.cpuSeconds),
    positionsLoad: fixed('positions', (r) => r.cpuSeconds),
    emptyRead: fixed('empty', (r) => r.readCpuSeconds),
  });
}

interface Result {
  set: DataSet;
  m: Record<Tool, Measure>;
  engine: EngineResult;
  floor: FloorResult;
  awkGroups: number;
  /** The engine's result with the older days' files beside the window, and those files. */
  withOlder: EngineResult;
  olderFiles: string[];
}

/**
 * How many of the files are dated (by their name) within a day of the days observe scans: those it reads all the
 * same, since a file delivered on a day may hold records of the day before.
 */
function inMargin(files: readonly string[]): number {
  const window = windowEnding(WINDOW_TO, WINDOW_DAYS);
  // The scan starts a day before the window (the look-back); the margin is one more day.
  const first = addDays(window.from, -2);
  return files.filter((f) => deliveryDays(f).some((d) => d >= first)).length;
}

interface Fixed {
  /** CPU s of reading the repository, observed files read fast / with positions. */
  fastRead: number;
  positionsRead: number;
  /** The same with the named rules after it (what loadRepoOrThrow costs observe). */
  fastLoad: number;
  positionsLoad: number;
  /** CPU s of reading the repository with no observed entry: what the entries' own cost is measured above. */
  emptyRead: number;
}

/** Bytes of `512MB`, `2GiB` and the like (decimal and binary units, as flowLogs.memoryLimit takes them). */
function bytesOf(limit: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.exec(limit.trim());
  if (!m) return NaN;
  const unit = m[2]!.toLowerCase();
  const power = { b: 0, kb: 1, mb: 2, gb: 3, tb: 4, kib: 1, mib: 2, gib: 3, tib: 4 }[unit]!;
  return Number(m[1]) * (unit.includes('i') || unit === 'b' ? 1024 : 1000) ** power;
}

/**
 * The goals of issue 18, each figure beside its baseline and their ratio, one line per size: what the README's
 * performance section shows.
 */
function printGoals(o: Options, results: readonly Result[], fixed: Fixed): void {
  const MiB = 2 ** 20;
  const head = ['records', 'goal', 'figure', 'baseline', 'ratio', 'wanted', 'verdict'];
  const widths = [9, 44, 14, 26, 7, 9, 7];
  const row = (cells: string[]) => console.log(cells.map((c, i) => pad(c, widths[i]!, i === 1 || i === 3 || i === 6)).join('  '));
  const verdict = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? 'holds' : 'FAILS');
  const x = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : 'n/a');
  console.log('\ngoals of issue 18 (CPU s: whole process, median of the runs; ratio = figure / baseline unless said)\n');
  row(head);
  row(widths.map((w) => '-'.repeat(w)));
  for (const { set, m, floor, engine, withOlder, olderFiles } of results) {
    const n = String(set.records);
    const cpuRow = (goal: string, fig: Measure, base: Measure, baseName: string, wanted: number) => {
      const r = fig.cpu / base.cpu;
      row([
        n,
        goal,
        `${fig.cpu.toFixed(2)} cpu s`,
        `${baseName} ${base.cpu.toFixed(2)} cpu s`,
        x(r),
        `<= ${wanted}x`,
        verdict(r <= wanted),
      ]);
    };
    cpuRow('observe CPU vs the naive query, gzip', m.engine, m.naive, 'naive', 2);
    cpuRow('observe CPU vs the naive query, Parquet', m['engine-pq'], m['naive-pq'], 'naive', 2);
    const speed = m.awk.seconds / m.engine.seconds;
    row([
      n,
      'observe wall vs zcat | awk (awk / observe)',
      `${m.engine.seconds.toFixed(2)} s`,
      `awk ${m.awk.seconds.toFixed(2)} s`,
      x(speed),
      '>= 2x',
      verdict(speed >= 2),
    ]);
    const perConn = (m.engine.rssKiB * 1024 - 300 * MiB) / floor.connections;
    row([
      n,
      'memory uncapped: (peak RSS - 300 MB) / conn.',
      `${Math.max(0, perConn).toFixed(0)} B/conn`,
      `${mib(m.engine.rssKiB)} MiB, ${floor.connections} conn`,
      '',
      '<= 300 B',
      verdict(perConn <= 300),
    ]);
    if (m.capped && o.memoryLimit) {
      const cap = bytesOf(o.memoryLimit) + 256 * MiB;
      row([
        n,
        `memory capped at ${o.memoryLimit}: peak RSS`,
        `${mib(m.capped.rssKiB)} MiB`,
        `limit + 256 MB = ${(cap / MiB).toFixed(0)} MiB`,
        x((m.capped.rssKiB * 1024) / cap),
        '<= 1x',
        verdict(m.capped.rssKiB * 1024 <= cap),
      ]);
      cpuRow(`capped CPU vs uncapped (${o.memoryLimit})`, m.capped, m.engine, 'uncapped', 1.6);
    }
    const olderRead = withOlder.files - engine.files;
    row([
      n,
      `${OLDER_DAYS} older days beside the window: files read`,
      `${olderRead} of ${olderFiles.length}`,
      `CPU ${m.older.cpu.toFixed(2)} vs ${m.engine.cpu.toFixed(2)} s`,
      x(m.older.cpu / m.engine.cpu),
      `${inMargin(olderFiles)} in margin`,
      verdict(olderRead === inMargin(olderFiles)),
    ]);
    row([n, 'window moved by one day vs a full run', 'not built', 'a full run (today)', '1.00x', '<= 0.25x', 'FAILS']);
    cpuRow('report CPU vs observe', m.report, m.engine, 'observe', 1.2);
  }
  const fr = fixed.fastRead;
  row([
    '-',
    `fixed cost: read ${o.fixedEntries} observed entries`,
    `${fr.toFixed(2)} cpu s`,
    `positions ${fixed.positionsRead.toFixed(2)} cpu s`,
    x(fr / fixed.positionsRead),
    '<= 0.5 s',
    verdict(fr <= 0.5),
  ]);
  const own = fr - fixed.emptyRead;
  const ownPositions = fixed.positionsRead - fixed.emptyRead;
  row([
    '-',
    '  of which the entries (less a read of none)',
    `${own.toFixed(2)} cpu s`,
    `positions ${ownPositions.toFixed(2)} cpu s`,
    x(own / ownPositions),
    '',
    '',
  ]);
  row([
    '-',
    '  the same with validation (loadRepoOrThrow)',
    `${fixed.fastLoad.toFixed(2)} cpu s`,
    `positions ${fixed.positionsLoad.toFixed(2)} cpu s`,
    x(fixed.fastLoad / fixed.positionsLoad),
    '<= 0.5 s',
    verdict(fixed.fastLoad <= 0.5),
  ]);
  console.log(
    '\nnot built here: the incremental window (per-day cache; next session), hence "not built" for a moved window; ' +
      'the fold-first engine and Parquet read with its own types (issue 18 part A); Athena bytes scanned (bench:athena-scans counts its reads).',
  );
}

await main();
