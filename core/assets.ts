/**
 * Files shipped with leastpath (JSON Schemas, curated data) are found from the package root, so the same code
 * works from the TypeScript sources (tests) and from the compiled dist/ (the bin).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'leastpath';

let cachedRoot: string | undefined;

/** The directory holding leastpath's own package.json (not the user's repository). */
export function packageRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && readName(manifest) === PACKAGE_NAME) {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package root above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** Absolute path of a file shipped with leastpath, `rel` being relative to the package root (`schemas/x.json`). */
export function assetPath(rel: string): string {
  return join(packageRoot(), rel);
}

function readName(manifest: string): string | undefined {
  try {
    const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown };
    return typeof parsed.name === 'string' ? parsed.name : undefined;
  } catch {
    // A broken package.json on the way up is not ours; keep walking.
    return undefined;
  }
}
