/**
 * Golden files: what a reviewer reads (Terraform JSON, plan and PR bodies), compared byte for byte. A change
 * fails the test; only `npm run golden:update` (LEASTPATH_UPDATE_GOLDEN=1) rewrites a file, and git shows the diff.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { expect } from 'vitest';

export const GOLDEN_ROOT = join(import.meta.dirname);
const UPDATE = process.env.LEASTPATH_UPDATE_GOLDEN === '1';

export async function expectGolden(rel: string, actual: string): Promise<void> {
  await expectGoldenFile(join(GOLDEN_ROOT, rel), actual);
}

/** expectGolden for a golden file anywhere under test/ (a scenario's expected/ files). */
export async function expectGoldenFile(file: string, actual: string): Promise<void> {
  const shown = relative(join(GOLDEN_ROOT, '..', '..'), file);
  const expected = await readFile(file, 'utf8').catch(() => undefined);
  if (UPDATE) {
    if (expected !== actual) {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, actual);
    }
    return;
  }
  expect(expected, `${shown} is missing: run npm run golden:update`).toBeDefined();
  expect(actual, `${shown} differs: review the change, then run npm run golden:update`).toBe(expected);
}
