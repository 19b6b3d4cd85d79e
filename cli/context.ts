/** What every command gets: where the repository is, how to print, and the clock (injected for tests). */
import { resolve } from 'node:path';
import { assertDate } from '../core/dates.js';
import { makeProgress, type Progress } from '../core/progress.js';

export interface Io {
  stdout: (text: string) => void;
  stderr: (line: string) => void;
}

export interface Context extends Io {
  root: string;
  /** Today's date (UTC, YYYY-MM-DD); LEASTPATH_TODAY overrides it for reproducible runs. */
  today: string;
  /** The process environment (LEASTPATH_*, GitHub and AWS settings), injected for tests. */
  processEnv: NodeJS.ProcessEnv;
  /** Progress of long steps on stderr (a terminal's, or forced by LEASTPATH_PROGRESS=1). */
  progress: Progress;
}

/** `terminal`: the process's stderr when the CLI prints to it (absent when `io` is a test's). */
export function makeContext(
  rootOption: string | undefined,
  io: Io,
  processEnv: NodeJS.ProcessEnv,
  now: Date,
  terminal?: { isTTY?: boolean; write: (text: string) => unknown },
): Context {
  const today =
    processEnv.LEASTPATH_TODAY !== undefined ? assertDate('LEASTPATH_TODAY', processEnv.LEASTPATH_TODAY) : now.toISOString().slice(0, 10);
  const progress = makeProgress({ isTTY: terminal?.isTTY === true, write: (t) => void terminal?.write(t), line: io.stderr }, processEnv);
  return { ...io, root: resolve(rootOption ?? '.'), today, processEnv, progress };
}
