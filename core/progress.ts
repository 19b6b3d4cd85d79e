/**
 * Progress of a long step on stderr, for a person at a terminal: one line rewritten in place. Off when stderr is
 * not a terminal (CI, pipes, tests) so logs and `--format json` stay clean, unless LEASTPATH_PROGRESS=1 forces it
 * (then each update is a line of its own, at most one a second); LEASTPATH_PROGRESS=0 turns it off at a terminal.
 */

export interface Progress {
  /** Shows `text` as the current state (throttled). */
  update(text: string): void;
  /** Shows the final state, always, and ends the line. */
  end(text: string): void;
}

export interface ProgressTarget {
  /** Whether stderr is a terminal. */
  isTTY: boolean;
  /** Raw writes to the terminal (with \r to rewrite the line). */
  write: (text: string) => void;
  /** One whole line (where a forced, non-terminal progress goes). */
  line: (text: string) => void;
}

const SILENT: Progress = { update: () => undefined, end: () => undefined };

export function makeProgress(target: ProgressTarget, env: NodeJS.ProcessEnv, clock: () => number = Date.now): Progress {
  const forced = env.LEASTPATH_PROGRESS === '1';
  if (env.LEASTPATH_PROGRESS === '0' || (!forced && !target.isTTY)) return SILENT;
  const tty = target.isTTY;
  const interval = tty ? 100 : 1000;
  let last = -Infinity;
  let shown = false;
  return {
    update(text) {
      const now = clock();
      if (now - last < interval) return;
      last = now;
      if (tty) {
        target.write(`\r\x1b[K${text}`);
        shown = true;
      } else {
        target.line(text);
      }
    },
    end(text) {
      if (tty) target.write(`${shown ? '\r\x1b[K' : ''}${text}\n`);
      else target.line(text);
      shown = false;
      last = -Infinity;
    },
  };
}

/** Seconds with one decimal: `7.4 s`. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Athena's price: $5 per TB scanned (decimal TB, as AWS bills). */
export function athenaCost(bytes: number): string {
  const dollars = (bytes / 1e12) * 5;
  return `$${dollars < 0.01 && dollars > 0 ? dollars.toFixed(4) : dollars.toFixed(2)}`;
}

/** `1.23 GB` (decimal units, as the price is). */
export function decimalBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(2)} ${units[u]}`;
}
