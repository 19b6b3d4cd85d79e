/** What every command gets: where the repository is, how to print, and the clock (injected for tests). */
import { resolve } from 'node:path';
import { assertDate } from '../core/dates.js';

export interface Io {
  stdout: (text: string) => void;
  stderr: (line: string) => void;
}

export interface Context extends Io {
  root: string;
  /** Today's date (UTC, YYYY-MM-DD); LEASTPATH_TODAY overrides it for reproducible runs. */
  today: string;
  env: NodeJS.ProcessEnv;
}

export function makeContext(rootOption: string | undefined, io: Io, env: NodeJS.ProcessEnv, now: Date): Context {
  const today = env.LEASTPATH_TODAY !== undefined ? assertDate('LEASTPATH_TODAY', env.LEASTPATH_TODAY) : now.toISOString().slice(0, 10);
  return { ...io, root: resolve(rootOption ?? '.'), today, env };
}
