/** What observe and report show while they read flow logs (core/progress.ts decides whether it is shown at all). */
import { athenaCost, decimalBytes, seconds, type Progress } from '../core/progress.js';

/**
 * The duckdb engine: files found, files and records counted so far (a file's lines less its header line; the count
 * runs beside DuckDB's read, so it stands for records read), and the elapsed time, kept moving by a timer while
 * DuckDB decides after the last file. Parquet and remote files are not counted by line.
 */
export function trackFiles(progress: Progress | undefined, label: string, clock: () => number = Date.now) {
  const started = clock();
  let files = 0;
  let counted = 0;
  let records = 0;
  const show = () =>
    progress?.update(`${label}: ${counted}/${files} files, ${records.toLocaleString('en-US')} records read, ${seconds(clock() - started)}`);
  const timer = progress ? setInterval(show, 1000) : undefined;
  timer?.unref();
  return {
    onFiles(n: number) {
      files = n;
      show();
    },
    onFileCounted(lines: number) {
      counted++;
      records += Math.max(0, lines - 1);
      show();
    },
    /** Stops the timer; on success, shows the totals. */
    finish(ok: boolean) {
      clearInterval(timer);
      if (ok) progress?.end(`${label}: ${files} files, ${records.toLocaleString('en-US')} records read in ${seconds(clock() - started)}`);
    },
  };
}

/** The athena engine: the query's state, bytes scanned and their cost at each poll; DataScannedInBytes at the end. */
export function trackAthena(progress: Progress | undefined, label: string) {
  let last = { state: 'QUEUED', bytesScanned: 0, elapsedMs: 0 };
  return {
    onPoll(s: { state: string; bytesScanned: number; elapsedMs: number }) {
      last = s;
      progress?.update(
        `${label}: Athena ${s.state}, ${decimalBytes(s.bytesScanned)} scanned (${athenaCost(s.bytesScanned)} at $5/TB), ${seconds(s.elapsedMs)}`,
      );
    },
    finish() {
      progress?.end(
        `${label}: Athena ${last.state}, DataScannedInBytes ${last.bytesScanned} (${decimalBytes(last.bytesScanned)}, ${athenaCost(last.bytesScanned)} at $5/TB), ${seconds(last.elapsedMs)}`,
      );
    },
  };
}
