/**
 * Every temp folder the tests make (hundreds a run: organisations, repositories, DuckDB spill folders, child CLIs'
 * files) goes under one folder of this run, removed when the run ends, so that a test that fails half-way, or a
 * helper that leaves its folder, does not fill the machine's temp directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'leastpath-tests-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true });
  };
}
