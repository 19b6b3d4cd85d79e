/**
 * One writer per repository: the commands that write `observed/` or the synth output hold `.leastpath/lock` while
 * they run. The lock file is created whole or not at all (written under a temp name, then hard-linked into place,
 * which fails when it exists) and says who holds it: pid, host, the process's start, the command. A lock whose
 * process is gone (same host, no such pid, or the pid now belongs to a later process) is stale and taken over; a
 * live one, or one from another host, refuses the second writer with a message naming the holder.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { LeastpathError } from './errors.js';

/** The folder of a repository's run state (lock and write journal), relative to the root; never committed. */
export const STATE_DIR = '.leastpath';
export const LOCK_FILE = `${STATE_DIR}/lock`;

/** What a lock file holds. */
export interface LockOwner {
  pid: number;
  host: string;
  /** When the command started (ISO, UTC). */
  started: string;
  /** The process's start in the kernel's clock ticks since boot (Linux), telling a reused pid from its owner. */
  processStart: number | null;
  command: string;
}

/** Another live writer holds the repository's lock (exit 2). */
export class LockHeldError extends LeastpathError {
  constructor(
    readonly owner: LockOwner | null,
    readonly reason: 'live' | 'other-host' | 'unreadable',
  ) {
    const who = owner
      ? `"leastpath ${owner.command}" (pid ${owner.pid} on ${owner.host}, started ${owner.started})`
      : 'a process this lock file does not name (it cannot be read)';
    const what =
      reason === 'other-host'
        ? `it was taken on another host, so leastpath cannot tell whether it still runs; if it does not, delete ${LOCK_FILE}`
        : reason === 'live'
          ? 'wait for it to finish and run again (one writer at a time keeps a newer window from being overwritten by an older one)'
          : `if no leastpath runs on this repository, delete ${LOCK_FILE}`;
    super(`another leastpath run is writing this repository: ${who}; ${what}`, { file: LOCK_FILE, line: 1, col: 1 });
  }
}

/** The start of process `pid` in clock ticks since boot, from /proc (Linux); null where there is no /proc. */
export function processStart(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

/** Whether process `pid` of this host runs (a process of another user counts: the kernel says EPERM). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the owner of a lock of this host is gone: no such process, or the pid belongs to a process started later. */
function ownerGone(owner: Pick<LockOwner, 'pid' | 'processStart'>): boolean {
  if (!processAlive(owner.pid)) return true;
  if (owner.processStart === null) return false;
  const now = processStart(owner.pid);
  return now !== null && now !== owner.processStart;
}

function parseOwner(text: string): LockOwner | null {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid !== 'number' || typeof o.host !== 'string' || typeof o.started !== 'string' || typeof o.command !== 'string')
      return null;
    return {
      pid: o.pid,
      host: o.host,
      started: o.started,
      processStart: typeof o.processStart === 'number' ? o.processStart : null,
      command: o.command,
    };
  } catch {
    return null;
  }
}

/** Creates `path` holding `text` only if it does not exist, never half-written: a temp file hard-linked into place. */
async function createExclusive(path: string, text: string): Promise<boolean> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  // The folder goes when a run releases the lock: make it again if another run removed it just now.
  for (let i = 0; ; i++) {
    await mkdir(dirname(path), { recursive: true });
    const made = await writeFile(tmp, text).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT' || i > 2) throw err;
        return false;
      },
    );
    if (made) break;
  }
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
}

export interface HeldLock {
  owner: LockOwner;
  release(): Promise<void>;
}

/**
 * Takes the repository's lock for `command` or throws LockHeldError naming the holder. A stale lock (its process
 * gone) is taken over; two takers of one stale lock are kept apart by a second exclusive file, `lock.break`.
 */
export async function acquireLock(root: string, command: string, now: Date = new Date()): Promise<HeldLock> {
  const path = join(root, LOCK_FILE);
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    started: now.toISOString(),
    processStart: processStart(process.pid),
    command,
  };
  const text = `${JSON.stringify(owner, null, 2)}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await createExclusive(path, text)) return { owner, release: () => release(path) };
    const current = parseOwner(await readFile(path, 'utf8').catch(() => ''));
    if (current === null) {
      // Gone between our link and our read: try again; otherwise a file leastpath did not write whole.
      if (await exists(path)) throw new LockHeldError(null, 'unreadable');
      continue;
    }
    if (current.host !== owner.host) throw new LockHeldError(current, 'other-host');
    if (!ownerGone(current)) throw new LockHeldError(current, 'live');
    await breakStale(path, current);
  }
  const last = parseOwner(await readFile(path, 'utf8').catch(() => ''));
  throw new LockHeldError(last, last ? 'live' : 'unreadable');
}

/** Removes a stale lock, unless another process broke it first and holds a new one. */
async function breakStale(path: string, stale: LockOwner): Promise<void> {
  const breaker = `${path}.break`;
  const mine = JSON.stringify({ pid: process.pid, processStart: processStart(process.pid) });
  if (!(await createExclusive(breaker, mine))) {
    const other = JSON.parse(await readFile(breaker, 'utf8').catch(() => '{}')) as { pid?: number; processStart?: number | null };
    // A breaker killed half-way leaves its file: remove it when its process is gone, then let the caller retry.
    if (typeof other.pid === 'number' && ownerGone({ pid: other.pid, processStart: other.processStart ?? null }))
      await rm(breaker, { force: true });
    return;
  }
  try {
    const again = parseOwner(await readFile(path, 'utf8').catch(() => ''));
    if (again && again.pid === stale.pid && again.started === stale.started) await rm(path, { force: true });
  } finally {
    await rm(breaker, { force: true });
  }
}

/** Removes the lock, and its folder when nothing else is in it, so a repository between runs holds no trace. */
async function release(path: string): Promise<void> {
  await rm(path, { force: true });
  await rmdir(dirname(path)).catch(() => undefined);
}

async function exists(path: string): Promise<boolean> {
  return readFile(path).then(
    () => true,
    () => false,
  );
}

/** Runs `fn` holding the repository's lock; the lock is released however `fn` ends (a killed process leaves it stale). */
export async function withLock<T>(root: string, command: string, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(root, command);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
