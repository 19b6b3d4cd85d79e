/**
 * The fixed cost of observe beyond its query, measured like the engine (its own process): loading the repository
 * as observe does (loadRepoOrThrow: reading policies and the previous observed evidence, then the named rules)
 * with a given number of observed entries in the example's dev environment, each step's CPU apart. `fast` loads the files as observe writes them; `positions`
 * loads the same data with one comment line appended to each file, which takes every file off the fast read and
 * through today's positional parse: the baseline. Prints one JSON line.
 *
 * Usage: node --import tsx bench/observe/fixed-child.ts <entries> <fast|positions>
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ObservedFile } from '../../model/types.js';
import { readRepo } from '../../model/read-repo.js';
import { checkRepo } from '../../validate/check-repo.js';
import { renderObservedYaml } from '../../observe/assemble.js';
import { measured, type ChildUsage } from './child.js';
import { DATA_ROOT } from './generate.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WORKLOADS = ['api', 'batch', 'web'];
const TODAY = '2026-11-21';

export interface FixedResult extends ChildUsage {
  entries: number;
  /** CPU seconds of reading the repository (policies and observed files: parse, schema, normalise). */
  readCpuSeconds: number;
  /** CPU seconds of the named validation rules after it (checkRepo), synth-ready's resolve above all. */
  checkCpuSeconds: number;
  /** Bytes of the observed files read. */
  bytes: number;
}

/** Address number `n` of a /8 as dotted text. */
function address(first: number, n: number): string {
  return `${first}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

/** A workload's observed file with `n` entries: four in five egress (sorted, some with names), the rest rejected. */
function observedFile(workload: string, k: number, n: number): ObservedFile {
  const egress = Math.round(n * 0.8);
  return {
    workload,
    environment: 'dev',
    window: { from: '2026-11-08', to: '2026-11-21' },
    source: { engine: 'duckdb', records: 1_000_000, skippedWindows: 0 },
    addresses: [`10.20.${k + 1}.10/32`],
    coverage: { days: 14, covered: 14, gaps: [], skippedWindows: 0 },
    egress: Array.from({ length: egress }, (_, i) => ({
      destination: `${address(100 + k, i + 1)}/32`,
      protocol: 'tcp',
      port: 443,
      service: null,
      flows: 1 + (i % 97),
      bytes: 1000 + i * 7,
      firstSeen: '2026-11-08',
      lastSeen: '2026-11-21',
      decidedBy: i % 3 === 0 ? 'tcp-flags' : 'well-known-port',
      names: i % 4 === 0 ? [`host-${i}.example.com`] : [],
    })),
    rejected: Array.from({ length: n - egress }, (_, i) => ({
      destination: `${address(200 + k, i + 1)}/32`,
      protocol: 'tcp',
      port: 25,
      flows: 3,
      lastSeen: '2026-11-20',
    })),
  };
}

async function main(): Promise<void> {
  const entries = Number(process.argv[2] ?? '20000');
  const mode = process.argv[3] ?? 'fast';
  if (!Number.isInteger(entries) || entries < 0 || (mode !== 'fast' && mode !== 'positions')) {
    throw new Error('usage: fixed-child.ts <entries> <fast|positions>');
  }
  await mkdir(DATA_ROOT, { recursive: true });
  const dir = await mkdtemp(join(DATA_ROOT, 'fixed-'));
  try {
    await cp(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
    await mkdir(join(dir, 'observed', 'dev'), { recursive: true });
    let bytes = 0;
    for (const [k, w] of WORKLOADS.entries()) {
      const n = Math.floor(entries / WORKLOADS.length) + (k < entries % WORKLOADS.length ? 1 : 0);
      // A comment line the fast read does not take: the same data through the positional parse.
      const text = renderObservedYaml(observedFile(w, k, n)) + (mode === 'positions' ? '# read with positions\n' : '');
      bytes += Buffer.byteLength(text);
      await writeFile(join(dir, 'observed', 'dev', `${w}.yaml`), text);
    }
    // What loadRepoOrThrow does, in its two steps: read, then the named rules.
    const { value: loaded, usage: read } = await measured(() => readRepo(dir, { env: 'dev' }));
    const { value: findings, usage: check } = await measured(async () => checkRepo(loaded.repo, TODAY));
    const errors = [...loaded.findings, ...findings].filter((f) => f.severity === 'error');
    if (errors.length > 0) throw new Error(`the generated repository has errors: ${JSON.stringify(errors.slice(0, 3))}`);
    const n = [...loaded.repo.environments.get('dev')!.observed.values()].reduce(
      (s, o) => s + o.value.egress.length + o.value.rejected.length,
      0,
    );
    if (n !== entries) throw new Error(`loaded ${n} observed entries, wrote ${entries}`);
    const result: FixedResult = {
      seconds: read.seconds + check.seconds,
      cpuSeconds: read.cpuSeconds + check.cpuSeconds,
      maxRssKiB: check.maxRssKiB,
      entries,
      bytes,
      readCpuSeconds: read.cpuSeconds,
      checkCpuSeconds: check.cpuSeconds,
    };
    console.log(JSON.stringify(result));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
