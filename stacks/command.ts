/**
 * `leastpath synth [--env E] [--out DIR]`: the edge of the synth stage. Loads the repository, resolves each
 * environment (through the resolver it is given), lets cdktn synthesize into a temp dir beside DIR, and only
 * then puts the files into DIR (core/atomic: temp files, renames last, unchanged files untouched), so that a
 * failure before that point leaves DIR as it was.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve as resolvePath, sep } from 'node:path';
import { explainFsError, writeFilesAtomic, type PlannedFile } from '../core/atomic.js';
import { journalPath, synthScratchPrefix } from '../core/writer.js';
import { LeastpathError, UsageError, ValidationFailed } from '../core/errors.js';
import { hasErrors, sortFindings, type Finding } from '../core/findings.js';
import { assertSafeName } from '../core/names.js';
import type { ResolvedEnvironment } from '../generators/model.js';
import type { LoadResult } from '../model/read-repo.js';
import { loadRepoOrThrow } from '../validate/load-repo.js';
import type { EnvironmentPolicies, Guardrails } from '../model/types.js';
import { MANIFEST_FILE, synthesize } from './synth.js';

/** Where `leastpath synth` writes when `--out` is not given (cdktn's own default, kept from cdktf). */
export const DEFAULT_OUT = 'cdktf.out';

interface SynthOptions {
  /** Repository root (absolute). */
  root: string;
  /** YYYY-MM-DD: exceptions expire against it. */
  today: string;
  /** Only this environment; without it, every environment, and the manifest too. */
  env?: string;
  /** Output directory, relative to the root or absolute; default `cdktf.out`. */
  out?: string;
  /** The repository as loaded and validated already from `root` for `env` (`run`'s load), instead of loading it again; its warnings are passed on. */
  loaded?: LoadResult;
}

/** What a resolver gets: the shape of generators/resolve.ts `resolveEnvironment`'s input. */
interface ResolveRequest {
  env: EnvironmentPolicies;
  guardrails: Guardrails;
  today: string;
}

/** What a resolver returns: the model, and findings (errors stop synth; warnings are passed on). */
interface ResolveOutcome {
  resolved: ResolvedEnvironment;
  findings: Finding[];
}

/** The lead's `resolveEnvironment` fits as is; tests pass fixtures. */
export type Resolver = (request: ResolveRequest) => ResolveOutcome | Promise<ResolveOutcome>;

interface SynthResult {
  /** The output directory as given (or the default), not made absolute: it is printed. */
  out: string;
  environments: string[];
  /** Files rewritten, relative to the repository root, with forward slashes. */
  written: string[];
  /** Files whose bytes were already right, left untouched. */
  unchanged: string[];
  /** Warnings of loading and resolving. */
  warnings: Finding[];
}

/** Runs synth for one environment or all of them; writes all files or none. */
export async function runSynth(opts: SynthOptions, resolve: Resolver): Promise<SynthResult> {
  const out = opts.out ?? DEFAULT_OUT;
  const outDir = resolvePath(opts.root, out);
  // Stacks written into the inputs would be read back as policies (or observed evidence) by every later command.
  for (const input of ['policies', 'observed']) {
    const inside = relative(join(opts.root, input), outDir);
    if (inside === '' || (!inside.startsWith('..') && !isAbsolute(inside))) {
      throw new UsageError(`--out ${out} is inside ${input}/, which leastpath reads as input: choose a folder outside policies/ and observed/`);
    }
  }
  const { envs, warnings } = await resolveAll(opts, resolve);
  const result = await writeSynthesized(envs, outDir, { manifest: opts.env === undefined, journal: journalPath(opts.root) });
  const rel = (p: string) => relative(opts.root, p).split(sep).join('/');
  return {
    out,
    environments: envs.map((e) => e.environment),
    written: result.written.map(rel),
    unchanged: result.unchanged.map(rel),
    warnings,
  };
}

/**
 * Loads the repository (validation errors stop here), unless given `opts.loaded`, and resolves `opts.env`, or every
 * environment in name order. Errors of any resolver stop everything: a partial set of stacks would look like
 * removed environments.
 */
export async function resolveAll(
  opts: Pick<SynthOptions, 'root' | 'today' | 'env' | 'loaded'>,
  resolve: Resolver,
): Promise<{ envs: ResolvedEnvironment[]; warnings: Finding[] }> {
  if (opts.env !== undefined) assertSafeName('environment', opts.env);
  const { repo, findings } = opts.loaded ?? (await loadRepoOrThrow(opts.root, { today: opts.today, ...(opts.env !== undefined ? { env: opts.env } : {}) }));
  const selected = opts.env !== undefined ? [opts.env] : [...repo.environments.keys()].sort();
  const envs: ResolvedEnvironment[] = [];
  const all: Finding[] = [...findings];
  for (const name of selected) {
    const policies = repo.environments.get(name);
    if (!policies) throw new UsageError(`environment ${JSON.stringify(name)} not found under policies/`);
    const r = await resolve({ env: policies, guardrails: repo.guardrails, today: opts.today });
    all.push(...r.findings);
    envs.push(r.resolved);
  }
  if (hasErrors(all)) throw new ValidationFailed(sortFindings(all));
  return { envs, warnings: sortFindings(all.filter((f) => f.severity !== 'error')) };
}

/**
 * Synthesizes `envs` into a fresh temp dir beside `outDir` (same filesystem), then writes the stack files (and
 * the manifest when `manifest`) into `outDir`: all of them or none, unchanged ones untouched. The temp dir is
 * removed whatever happens. Files of other environments already in `outDir` are left alone (a removed
 * environment's stack stays until deleted by hand). Returns absolute paths.
 */
async function writeSynthesized(
  envs: readonly ResolvedEnvironment[],
  outDir: string,
  opts: { manifest: boolean; journal: string },
): Promise<{ written: string[]; unchanged: string[] }> {
  await mkdir(dirname(outDir), { recursive: true });
  // The pid in the name lets the next writer tell a killed run's scratch folder from a live one's (core/writer.ts).
  const tmp = await mkdtemp(join(dirname(outDir), `${synthScratchPrefix(outDir)}${process.pid}-`));
  try {
    let synthesized: string[];
    try {
      synthesized = synthesize(envs, tmp);
    } catch (err) {
      // cdktf writes with Node's fs, whose ENOSPC names no path: name the scratch folder (beside --out).
      throw explainFsError(err, tmp);
    }
    const files = synthesized.filter((f) => opts.manifest || f !== MANIFEST_FILE);
    const planned: PlannedFile[] = [];
    for (const f of files) {
      const content = await readFile(join(tmp, f)).catch(() => undefined);
      if (content === undefined) {
        const hint = f === MANIFEST_FILE ? '' : ' (is SYNTH_HCL_OUTPUT=true set? leastpath writes Terraform JSON only)';
        throw new LeastpathError(`cdktn did not write ${f}${hint}`);
      }
      planned.push({ path: join(outDir, f), content });
    }
    return await writeFilesAtomic(planned, { journal: opts.journal });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** One line per file for the text output. */
export function formatSynthSummary(r: SynthResult): string {
  const lines = [`synth: ${r.environments.length} stack(s) in ${r.out}: ${r.written.length} written, ${r.unchanged.length} unchanged`];
  for (const f of r.written) lines.push(`  wrote ${f}`);
  return `${lines.join('\n')}\n`;
}
