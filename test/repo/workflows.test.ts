import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { registerCommands } from '../../cli/commands.js';

const root = join(import.meta.dirname, '..', '..');

/** Every `leastpath <command>` (or `node bin/leastpath.js <command>`) a workflow step runs. */
function commandsIn(run: string): string[] {
  return [...run.matchAll(/(?:leastpath|bin\/leastpath\.js)\s+([a-z][a-z-]*)/g)].map((m) => m[1]!);
}

describe('.github/workflows', () => {
  it('parse, and every leastpath command they run exists in the CLI with the options they pass', async () => {
    const program = new Command('leastpath');
    registerCommands(program, () => { throw new Error('not run'); }, () => undefined);
    const known = new Map(program.commands.map((c) => [c.name(), new Set(c.options.map((o) => o.long))]));
    const files = (await readdir(join(root, '.github', 'workflows'))).filter((f) => f.endsWith('.yml'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    const used: string[] = [];
    for (const f of files) {
      const wf = parse(await readFile(join(root, '.github', 'workflows', f), 'utf8')) as { on: unknown; jobs: Record<string, { steps: { run?: string }[] }> };
      expect(wf.on, f).toBeDefined();
      for (const job of Object.values(wf.jobs)) {
        for (const step of job.steps) {
          if (!step.run) continue;
          for (const cmd of commandsIn(step.run)) {
            used.push(cmd);
            expect(known.has(cmd), `${f}: leastpath ${cmd}`).toBe(true);
            for (const opt of step.run.match(/--[a-z-]+/g) ?? []) {
              expect(known.get(cmd)!.has(opt), `${f}: leastpath ${cmd} ${opt}`).toBe(true);
            }
          }
        }
      }
    }
    expect(used).toContain('observe');
  });

  it('the CI script installs from the lock file and runs the README test command', async () => {
    const ci = await readFile(join(root, '.ci', 'run'), 'utf8');
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    expect(ci).toMatch(/^npm ci\b/m);
    expect(ci).toMatch(/^npm test\b/m);
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });
});
