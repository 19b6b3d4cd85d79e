/**
 * The example organisation's observed evidence is what its generator intended: observe's result is compared
 * with the generator's own connection list (examples/scenario.ts), never with observe's earlier output. Other
 * seeds of the same generator (other times, ports, sizes and peers over the same hosts) are checked the same way:
 * organisations observe was never tuned against.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateExamples } from '../../examples/generate.js';
import { exampleTruth, EXAMPLE_ENVS, type ExampleEnv } from '../../examples/scenario.js';
import { readRepo } from '../../model/read-repo.js';
import { assembleObserved } from '../../observe/assemble.js';
import { awsServiceLookup } from '../../observe/aws-ranges.js';
import { readObservationsDuckDb, windowEnding } from '../../observe/observe.js';

const root = join(import.meta.dirname, '..', '..');

/** Observes `env` of the organisation at `org` and compares it with the generator's truth for `seed`. */
async function expectTruth(org: string, env: ExampleEnv, seed?: string): Promise<void> {
  const { repo } = await readRepo(org, { env });
  const policies = repo.environments.get(env)!;
  const config = policies.environment.value;
  const window = windowEnding('2026-11-21', config.window.days);
  const obs = await readObservationsDuckDb({ root: org, environmentFile: join(org, policies.environment.source.file), config, window });
  const files = assembleObserved({
    environment: env,
    workloads: [...policies.workloads.keys()],
    window,
    retainDays: config.window.retainDays,
    rows: obs.rows,
    engine: 'duckdb',
    previous: new Map(),
    serviceOf: awsServiceLookup(config.region),
  });
  const truth = exampleTruth(env, seed);
  for (const workload of policies.workloads.keys()) {
    const o = files.get(workload)!;
    const strip = <T extends { workload: string }>({ workload: _w, ...rest }: T) => rest;
    expect(
      o.egress.map(({ decidedBy: _d, ...e }) => e),
      `${workload} egress`,
    ).toEqual(truth.egress.filter((e) => e.workload === workload).map(strip));
    expect(o.rejected, `${workload} rejected`).toEqual(truth.rejected.filter((e) => e.workload === workload).map(strip));
    expect(o.source).toEqual({ engine: 'duckdb', records: truth.records, skippedWindows: truth.skippedWindows });
    expect(o.window).toEqual(truth.window);
  }
  const base = `examples/flow-logs/${env}/`;
  expect(obs.malformed.map((m) => ({ file: m.file.replace(base, ''), line: m.line }))).toEqual(
    [...truth.malformedLines].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line)),
  );
}

describe.each(EXAMPLE_ENVS)('example organisation, %s', (env) => {
  it('observes exactly the egress and rejections the generator intended, with their counts', async () => {
    await expectTruth(root, env);
  });
});

describe.each(['held-out-1', 'held-out-2', 'held-out-3'])('the example organisation drawn with seed %s', (seed) => {
  it('observes exactly what the generator intended, in every environment', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'leastpath-seeded-'));
    try {
      await cp(join(root, 'policies'), join(dir, 'policies'), { recursive: true });
      generateExamples(join(dir, 'examples', 'flow-logs'), seed);
      // Not the committed example again: other draws give other counts.
      expect(exampleTruth('prod', seed).egress).not.toEqual(exampleTruth('prod').egress);
      for (const env of EXAMPLE_ENVS) await expectTruth(dir, env, seed);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
