/**
 * A copy of the bundled example organisation for tests that run the CLI over it and may change it: the policies,
 * the flow logs and query logs they read, and (by default) the committed evidence.
 */
import { cp, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

/** Copies the example into `into`: policies/, both kinds of logs, and observed/ unless `observed` is false. */
export async function copyExample(into: string, opts: { observed?: boolean } = {}): Promise<void> {
  const parts = ['policies', ...(opts.observed === false ? [] : ['observed']), 'examples/flow-logs', 'examples/dns-logs'];
  for (const d of parts) await cp(join(root, d), join(into, d), { recursive: true });
}

/** A fresh temp folder holding a copy of the example (see copyExample). */
export async function exampleCopy(prefix = 'leastpath-example-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await copyExample(dir);
  return dir;
}

/** Every observed file of a repository by `env/file`, as bytes. */
export async function observedFiles(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const env of await readdir(join(dir, 'observed'))) {
    for (const f of await readdir(join(dir, 'observed', env))) out.set(`${env}/${f}`, await readFile(join(dir, 'observed', env, f)));
  }
  return out;
}
