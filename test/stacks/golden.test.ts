/**
 * The synthesized Terraform JSON of the rich fixture, compared byte for byte with test/golden/stacks/. A change
 * fails here; `npm run golden:update` (LEASTPATH_UPDATE_GOLDEN=1) rewrites the file, and git shows the diff.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTemps, richEnv, synthText } from './fixtures.js';

afterAll(removeTemps);

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden', 'stacks');
const UPDATE = process.env.LEASTPATH_UPDATE_GOLDEN === '1';

async function golden(name: string, actual: string): Promise<void> {
  const file = join(GOLDEN, name);
  const expected = await readFile(file, 'utf8').catch(() => undefined);
  if (UPDATE) {
    if (expected !== actual) {
      await mkdir(GOLDEN, { recursive: true });
      await writeFile(file, actual);
    }
    return;
  }
  expect(expected, `${file} is missing: run npm run golden:update`).toBeDefined();
  // Byte for byte, but a failure shows a readable diff of the JSON text.
  expect(actual, `${file} differs: review the change, then run npm run golden:update`).toBe(expected);
}

describe('golden Terraform JSON', () => {
  it('rich: every resource kind, created and adopted groups, endpoints, quarantine', async () => {
    await golden('rich.tf.json', (await synthText([richEnv()])).text);
  });

  it('audit: the same model in audit mode', async () => {
    await golden('audit.tf.json', (await synthText([{ ...richEnv(), mode: 'audit' }])).text);
  });
});
