/**
 * One writer per repository, and a write set that survives a kill: real child processes of the CLI, a real
 * `kill -9` between two renames, then the next run settles what the killed one left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { acquireLock } from '../../core/lock.js';
import { loadRepository as loadRepo } from '../../cli/load.js';
import { at, exchange, loggedDaily, observeOrg, T0, TODAY, writeOrg } from '../observe/helpers.js';

const CHILD = join(import.meta.dirname, 'cli-child.ts');

interface Child {
  proc: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** `leastpath ARGS` in a child process (the CLI from source), with its own temp directory. */
function cli(root: string, args: string[], env: Record<string, string> = {}): Child {
  const proc = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), CHILD, '--root', root, ...args], {
    env: { ...process.env, LEASTPATH_TODAY: TODAY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  proc.stdout!.resume();
  const exit = new Promise<number | null>((done) => proc.on('exit', (code) => done(code)));
  return { proc, stderr: () => err, exit };
}

async function until(what: () => boolean, ms = 50_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Two workloads, logged every day of both windows; each has traffic inside both and a destination seen only on 2026-11-21. */
function twoWorkloads(): Promise<string> {
  const late = at('2026-11-21T10:00:00Z');
  return writeOrg({
    workloads: { api: { cidrs: ['10.0.2.0/24'] }, web: { cidrs: ['10.0.1.0/24'] } },
    logs: [
      {
        name: 'a.log.gz',
        records: [
          ...exchange({ eni: 'eni-0web', src: '10.0.1.10', sport: 51514, dst: '203.0.113.10', dport: 443, start: T0, flags: [2, 18] }),
          ...exchange({ eni: 'eni-0api', src: '10.0.2.10', sport: 51515, dst: '203.0.113.20', dport: 443, start: T0, flags: [2, 18] }),
          ...exchange({ eni: 'eni-0web', src: '10.0.1.10', sport: 51516, dst: '198.51.100.1', dport: 443, start: late, flags: [2, 18] }),
          ...exchange({ eni: 'eni-0api', src: '10.0.2.10', sport: 51517, dst: '198.51.100.2', dport: 443, start: late, flags: [2, 18] }),
          ...loggedDaily('eni-0web', '2026-11-07', 15),
          ...loggedDaily('eni-0api', '2026-11-07', 15),
        ],
      },
    ],
  });
}

async function windowTo(root: string, workload: string): Promise<string> {
  return (parse(await readFile(join(root, 'observed/dev', `${workload}.yaml`), 'utf8')) as { window: { to: string } }).window.to;
}

async function deadPid(): Promise<number> {
  const p = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => p.on('exit', r));
  return p.pid!;
}

describe('one writer per repository; a killed write is completed by the next run', () => {
  it('a second observe is refused naming the holder; after kill -9 between renames the next run completes the set, and the older window never replaces the newer', async () => {
    const root = await twoWorkloads();
    await observeOrg(root, { to: '2026-11-20' });
    expect([await windowTo(root, 'api'), await windowTo(root, 'web')]).toEqual(['2026-11-20', '2026-11-20']);
    const temp = await mkdtemp(join(tmpdir(), 'leastpath-child-tmp-'));

    // The scheduled job: the newer window, stopped after the first of its two renames.
    const first = cli(root, ['observe', '--env', 'dev', '--to', '2026-11-21'], { LEASTPATH_TEST_PAUSE_AFTER_RENAMES: '1', TMPDIR: temp });
    await until(() => first.stderr().includes('paused after 1 rename'));
    expect([await windowTo(root, 'api'), await windowTo(root, 'web')]).toEqual(['2026-11-21', '2026-11-20']);

    // A person, meanwhile, with an older window: refused, naming the holder; nothing written.
    const second = cli(root, ['observe', '--env', 'dev', '--to', '2026-11-20'], { TMPDIR: temp });
    expect(await second.exit).toBe(2);
    expect(second.stderr()).toContain(
      '.leastpath/lock:1:1: <root>: another leastpath run is writing this repository: "leastpath observe --env dev"',
    );
    expect(second.stderr()).toContain(`(pid ${first.proc.pid} on `);
    expect(await windowTo(root, 'web')).toBe('2026-11-20');

    first.proc.kill('SIGKILL');
    await first.exit;
    // What the kill left: a mixed set, which validate refuses.
    const mixed = await loadRepo(root, { today: TODAY });
    expect(mixed.findings.filter((f) => f.rule === 'observed-window-mixed').map((f) => f.file)).toEqual(['observed/dev/web.yaml']);

    // Leftovers of killed runs under the temp directory: a dead process's DuckDB spill folder goes, a live one's stays.
    const dead = join(temp, `leastpath-duckdb-${await deadPid()}-AbCdEf`);
    const live = join(temp, `leastpath-duckdb-${process.pid}-AbCdEf`);
    await mkdir(join(dead, 'spill'), { recursive: true });
    await mkdir(live);

    // The next run (the older window again): takes over the stale lock, completes the killed write, then refuses
    // to move the window back.
    const third = cli(root, ['observe', '--env', 'dev', '--to', '2026-11-20'], { TMPDIR: temp });
    expect(await third.exit).toBe(2);
    expect(third.stderr()).toContain(
      'leastpath: completed the write a killed run left half-done (all new now): observed/dev/api.yaml, observed/dev/web.yaml',
    );
    expect(third.stderr()).toContain('--to 2026-11-20 is before the end of the committed window');
    expect([await windowTo(root, 'api'), await windowTo(root, 'web')]).toEqual(['2026-11-21', '2026-11-21']);
    expect(await readFile(join(root, 'observed/dev/web.yaml'), 'utf8')).toContain('198.51.100.1/32');
    expect((await readdir(join(root, 'observed/dev'))).sort()).toEqual(['api.yaml', 'web.yaml']);
    await expect(stat(join(root, '.leastpath'))).rejects.toThrow('ENOENT');
    await expect(stat(dead)).rejects.toThrow('ENOENT');
    expect((await stat(live)).isDirectory()).toBe(true);
    expect((await loadRepo(root, { today: TODAY })).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  it('a live lock refuses synth and run too; a lock whose process is gone is taken over', async () => {
    const root = await twoWorkloads();
    await observeOrg(root);
    const held = await acquireLock(root, 'observe --env dev');
    for (const args of [['synth'], ['run', '--to', '2026-11-21']]) {
      const c = cli(root, args);
      expect(await c.exit).toBe(2);
      expect(c.stderr()).toContain(
        `another leastpath run is writing this repository: "leastpath observe --env dev" (pid ${process.pid} on `,
      );
    }
    await expect(stat(join(root, 'cdktf.out'))).rejects.toThrow('ENOENT');
    await held.release();

    const lock = { pid: await deadPid(), host: hostname(), started: '2026-11-23T00:00:00.000Z', processStart: null, command: 'run' };
    await mkdir(join(root, '.leastpath'));
    await writeFile(join(root, '.leastpath/lock'), JSON.stringify(lock));
    // What that killed synth left: its scratch folder beside the output, and a temp file in the output.
    const scratch = join(root, `.cdktf.out.synth-${lock.pid}-AbCdEf`);
    await mkdir(join(scratch, 'stacks'), { recursive: true });
    await mkdir(join(root, 'cdktf.out'));
    await writeFile(join(root, `cdktf.out/manifest.json.tmp-${lock.pid}-0123abcd`), '{');
    const c = cli(root, ['synth']);
    expect(await c.exit).toBe(0);
    expect(c.stderr()).toContain('leastpath: removed 2 temp file(s) or folder(s) that a killed run left');
    await expect(stat(scratch)).rejects.toThrow('ENOENT');
    expect((await readdir(join(root, 'cdktf.out'))).sort()).toEqual(['manifest.json', 'stacks']);
    expect((await stat(join(root, 'cdktf.out/stacks/dev/cdk.tf.json'))).isFile()).toBe(true);
    await expect(stat(join(root, '.leastpath'))).rejects.toThrow('ENOENT');
  });

  it('observe rewrites files of mixed windows with its window and keeps their evidence (they are valid, only of another run)', async () => {
    const root = await writeOrg({
      workloads: { api: { cidrs: ['10.0.2.0/24'] }, web: { cidrs: ['10.0.1.0/24'] } },
      logs: [
        {
          name: 'a.log.gz',
          records: [
            ...exchange({
              eni: 'eni-0web',
              src: '10.0.1.10',
              sport: 51514,
              dst: '192.0.2.7',
              dport: 443,
              start: at('2026-11-07T12:00:00Z'),
              flags: [2, 18],
            }),
            ...exchange({ eni: 'eni-0api', src: '10.0.2.10', sport: 51515, dst: '203.0.113.20', dport: 443, start: T0, flags: [2, 18] }),
          ],
        },
      ],
    });
    await observeOrg(root, { to: '2026-11-20' });
    const api = join(root, 'observed/dev/api.yaml');
    // api as the newer run left it, web still of the older run.
    await writeFile(
      api,
      (await readFile(api, 'utf8'))
        .replace('window: { from: 2026-11-07, to: 2026-11-20 }', 'window: { from: 2026-11-08, to: 2026-11-21 }')
        .replace(/^coverage: .*$/m, 'coverage: { days: 14, covered: 14, gaps: [], skippedWindows: 0 }'),
    );
    expect((await loadRepo(root, { today: TODAY })).findings.map((f) => `${f.file} ${f.rule}`)).toEqual([
      'observed/dev/web.yaml observed-window-mixed',
    ]);
    const r = await observeOrg(root);
    expect(r.replaced).toEqual([]);
    const web = await readFile(join(root, 'observed/dev/web.yaml'), 'utf8');
    expect(web).toContain('window: { from: 2026-11-08, to: 2026-11-21 }');
    expect(web, web).toContain('192.0.2.7/32');
    expect((await loadRepo(root, { today: TODAY })).findings).toEqual([]);
  });
});
