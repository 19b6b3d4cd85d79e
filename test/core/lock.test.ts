/** The one-writer lock: who holds it is said plainly; a lock whose process is gone is taken over, others refuse. */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock, LockHeldError, processStart } from '../../core/lock.js';
import { errorLine } from '../observe/helpers.js';

async function repoWithLock(owner: object | string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'leastpath-lock-'));
  await mkdir(join(root, '.leastpath'));
  await writeFile(join(root, '.leastpath/lock'), typeof owner === 'string' ? owner : JSON.stringify(owner));
  return root;
}

const base = { host: hostname(), started: '2026-11-23T06:00:00.000Z', command: 'observe --env dev' };

describe('acquireLock', () => {
  it('writes who holds it, refuses a second taker naming the holder, and is free again once released', async () => {
    const root = await mkdtemp(join(tmpdir(), 'leastpath-lock-'));
    const held = await acquireLock(root, 'run', new Date('2026-11-23T07:00:00Z'));
    expect(JSON.parse(await readFile(join(root, '.leastpath/lock'), 'utf8'))).toMatchObject({
      pid: process.pid,
      host: hostname(),
      started: '2026-11-23T07:00:00.000Z',
      command: 'run',
    });
    const err = await acquireLock(root, 'synth').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockHeldError);
    expect(errorLine(err)).toBe(
      `.leastpath/lock:1:1: <root>: another leastpath run is writing this repository: "leastpath run" (pid ${process.pid} on ${hostname()}, ` +
        'started 2026-11-23T07:00:00.000Z); wait for it to finish and run again (one writer at a time keeps a newer window from being overwritten by an older one)',
    );
    await held.release();
    await (await acquireLock(root, 'synth')).release();
  });

  it('a lock of this host whose pid now belongs to a later process (its start differs) is stale', async () => {
    const root = await repoWithLock({ ...base, pid: process.pid, processStart: (processStart(process.pid) ?? 0) + 1 });
    const held = await acquireLock(root, 'synth');
    expect(held.owner.command).toBe('synth');
    await held.release();
  });

  it('a lock from another host is never taken over (it may still run): it says how to remove it', async () => {
    const root = await repoWithLock({ ...base, host: 'ci-runner-7', pid: 1, processStart: null });
    expect(errorLine(await acquireLock(root, 'synth').catch((e: unknown) => e))).toContain(
      '"leastpath observe --env dev" (pid 1 on ci-runner-7, started 2026-11-23T06:00:00.000Z); it was taken on another host, so leastpath cannot tell whether it still runs; if it does not, delete .leastpath/lock',
    );
  });

  it('a lock file leastpath did not write is not removed silently', async () => {
    const root = await repoWithLock('garbage');
    expect(errorLine(await acquireLock(root, 'synth').catch((e: unknown) => e))).toContain(
      'if no leastpath runs on this repository, delete .leastpath/lock',
    );
  });
});
