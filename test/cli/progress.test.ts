/**
 * Progress on stderr: shown at a terminal (one line rewritten in place), never in a pipe or CI unless
 * LEASTPATH_PROGRESS=1 forces it, and never on stdout (--format json stays one JSON document).
 */
import { AthenaClient, GetQueryExecutionCommand } from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { makeProgress } from '../../core/progress.js';
import type { ObserveResult } from '../../observe/observe-command.js';
import { athenaOverDuckDb } from '../athena-over-duckdb.js';
import { exchange, observeOrg, T0, V5, writeOrg } from '../observe/helpers.js';

const root = join(import.meta.dirname, '..', '..');

describe('makeProgress', () => {
  /** A clock that moves `step` ms on every reading. */
  const ticking = (step: number) => {
    let t = 0;
    return () => (t += step);
  };

  it('at a terminal, rewrites one line in place and ends it with a newline', () => {
    const raw: string[] = [];
    const lines: string[] = [];
    const p = makeProgress({ isTTY: true, write: (t) => raw.push(t), line: (l) => lines.push(l) }, {}, ticking(500));
    p.update('1 file');
    p.update('2 files');
    p.end('2 files in 1.0 s');
    expect(raw.join('')).toBe('\r\x1b[K1 file\r\x1b[K2 files\r\x1b[K2 files in 1.0 s\n');
    expect(lines).toEqual([]);
  });

  it('is silent when stderr is not a terminal, and at a terminal with LEASTPATH_PROGRESS=0', () => {
    for (const [isTTY, env] of [
      [false, {}],
      [true, { LEASTPATH_PROGRESS: '0' }],
    ] as const) {
      const out: string[] = [];
      const p = makeProgress({ isTTY, write: (t) => out.push(t), line: (l) => out.push(l) }, env, ticking(5000));
      p.update('x');
      p.end('y');
      expect(out, `isTTY ${isTTY}`).toEqual([]);
    }
  });

  it('forced without a terminal: whole lines, at most one update a second, the end always', () => {
    const lines: string[] = [];
    const p = makeProgress({ isTTY: false, write: () => undefined, line: (l) => lines.push(l) }, { LEASTPATH_PROGRESS: '1' }, ticking(400));
    for (const n of [1, 2, 3, 4, 5, 6]) p.update(`${n}`);
    p.end('done');
    // Clock readings 400, 800 ... 2400: shown at 400, 1600 (first a second or more later), and the end.
    expect(lines).toEqual(['1', '4', 'done']);
  });
});

describe('observe progress (duckdb engine), through the CLI', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'leastpath-progress-'));
    for (const d of ['policies', 'observed', 'examples']) await cp(join(root, d), join(dir, d), { recursive: true });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function observe(env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string[] }> {
    let stdout = '';
    const stderr: string[] = [];
    const code = await main(
      ['--root', dir, 'observe', '--env', 'dev', '--to', '2026-11-21', '--format', 'json'],
      { stdout: (s) => (stdout += s), stderr: (l) => stderr.push(l) },
      { LEASTPATH_TODAY: '2026-11-23', ...env },
    );
    return { code, stdout, stderr };
  }

  it('forced: files, records read and elapsed on stderr; stdout is still the JSON document alone', async () => {
    const r = await observe({ LEASTPATH_PROGRESS: '1' });
    expect(r.code, r.stderr.join('\n')).toBe(0);
    const doc = JSON.parse(r.stdout) as ObserveResult;
    const progress = r.stderr.filter((l) => l.startsWith('observe dev: '));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)).toMatch(new RegExp(`^observe dev: ${doc.files} files, [\\d,]+ records read in \\d+\\.\\d s$`));
    const read = Number(/ ([\d,]+) records/.exec(progress.at(-1)!)![1]!.replace(/,/g, ''));
    // Every record of every file: the lines of the example's dev files less one header line each.
    const logs = (await readdir(join(dir, 'examples', 'flow-logs', 'dev'), { recursive: true })).filter((f) => f.endsWith('.log.gz'));
    expect(logs).toHaveLength(doc.files);
    let records = 0;
    for (const f of logs)
      records +=
        gunzipSync(await readFile(join(dir, 'examples', 'flow-logs', 'dev', f)))
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== '').length - 1;
    expect(read).toBe(records);
    expect(read).toBeGreaterThanOrEqual(doc.records);
    expect(progress[0]).toMatch(/^observe dev: \d+\/\d+ files, [\d,]+ records read, \d+\.\d s$/);
  });

  it('report too: forced, its progress is on stderr and its JSON alone on stdout', async () => {
    let stdout = '';
    const stderr: string[] = [];
    const code = await main(
      ['--root', dir, 'report', '--env', 'dev', '--to', '2026-11-21', '--format', 'json'],
      { stdout: (s) => (stdout += s), stderr: (l) => stderr.push(l) },
      { LEASTPATH_TODAY: '2026-11-23', LEASTPATH_PROGRESS: '1' },
    );
    expect(code, stderr.join('\n')).toBeLessThanOrEqual(1);
    expect(JSON.parse(stdout)).toHaveProperty('environment', 'dev');
    expect(stderr.filter((l) => l.startsWith('report dev: ')).at(-1)).toMatch(/^report dev: \d+ files, [\d,]+ records read in \d+\.\d s$/);
  });

  it('not a terminal and not forced (CI, tests, pipes): no progress at all', async () => {
    const r = await observe({});
    expect(r.code).toBe(0);
    expect(r.stderr.filter((l) => l.startsWith('observe dev: '))).toEqual([]);
    JSON.parse(r.stdout);
  });
});

describe('observe progress (athena engine)', () => {
  const athena = mockClient(AthenaClient);
  afterEach(() => athena.reset());

  it("shows the query's state, bytes scanned and cost while polling, and DataScannedInBytes at the end", async () => {
    const org = await writeOrg({
      athena: true,
      engine: 'athena',
      logs: [
        {
          name: 'a.log.gz',
          fields: V5,
          records: exchange({
            eni: 'eni-0a1b2c3d',
            src: '10.0.1.5',
            sport: 40000,
            dst: '203.0.113.10',
            dport: 443,
            start: T0,
            flags: [2, 18],
          }),
        },
      ],
    });
    try {
      athenaOverDuckDb(athena, join(org, 'logs'));
      athena
        .on(GetQueryExecutionCommand)
        .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' }, Statistics: { DataScannedInBytes: 150_000_000_000 } } })
        .resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 400_000_000_000 } } });
      const lines: string[] = [];
      let t = 0;
      const progress = makeProgress(
        { isTTY: false, write: () => undefined, line: (l) => lines.push(l) },
        { LEASTPATH_PROGRESS: '1' },
        () => (t += 1000),
      );
      const r = await observeOrg(org, { athenaClient: new AthenaClient({ region: 'eu-west-1' }), progress });
      expect(r.engine).toBe('athena');
      expect(lines[0]).toMatch(/^observe dev: Athena RUNNING, 150\.00 GB scanned \(\$0\.75 at \$5\/TB\), \d+\.\d s$/);
      expect(lines.at(-1)).toMatch(
        /^observe dev: Athena SUCCEEDED, DataScannedInBytes 400000000000 \(400\.00 GB, \$2\.00 at \$5\/TB\), \d+\.\d s$/,
      );
    } finally {
      await rm(org, { recursive: true, force: true });
    }
  });
});
