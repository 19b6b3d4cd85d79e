/**
 * `leastpath synth [--env E] [--out DIR]`: the synth stage over the environments the CLI loaded and resolved. It lets
 * cdktn synthesize into a temp dir beside DIR, and only then puts the files into DIR (core/atomic: temp files, renames
 * last, unchanged files untouched), so that a failure before that point leaves DIR as it was.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve as resolvePath, sep } from 'node:path';
import { explainFsError, writeFilesAtomic, type PlannedFile } from '../core/atomic.js';
import { journalPath, synthScratchPrefix } from '../core/writer.js';
import { LeastpathError, UsageError } from '../core/errors.js';
import type { ResolvedEnvironment } from '../generators/model.js';
import { MANIFEST_FILE, synthesize } from './synth.js';

/** Where `leastpath synth` writes when `--out` is not given (cdktn's own default, kept from cdktf). */
export const DEFAULT_OUT = 'cdktf.out';

export interface SynthInput {
  /** Repository root (absolute). */
  root: string;
  /** The environments to synthesize, resolved by the CLI (their errors refused there), in name order. */
  resolved: readonly ResolvedEnvironment[];
  /** Write the manifest too: every environment is synthesized (synth without --env). */
  manifest: boolean;
  /** Output directory, relative to the root or absolute; default `cdktf.out`. */
  out?: string;
}

export interface SynthResult {
  /** The output directory as given (or the default), not made absolute: it is printed. */
  out: string;
  environments: string[];
  /** Files rewritten, relative to the repository root, with forward slashes. */
  written: string[];
  /** Files whose bytes were already right, left untouched. */
  unchanged: string[];
}

/**
 * The output directory `out` (default `cdktf.out`) made absolute; a UsageError when it is inside the inputs, which
 * the CLI checks before it loads anything.
 */
export function synthOutDir(root: string, out: string = DEFAULT_OUT): string {
  const outDir = resolvePath(root, out);
  // Stacks written into the inputs would be read back as policies (or observed evidence) by every later command.
  for (const input of ['policies', 'observed']) {
    const inside = relative(join(root, input), outDir);
    if (inside === '' || (!inside.startsWith('..') && !isAbsolute(inside))) {
      throw new UsageError(
        `--out ${out} is inside ${input}/, which leastpath reads as input: choose a folder outside policies/ and observed/`,
      );
    }
  }
  return outDir;
}

/** Synthesizes the resolved environments and writes their stacks: all files or none. */
export async function synthStacks(opts: SynthInput): Promise<SynthResult> {
  const out = opts.out ?? DEFAULT_OUT;
  const outDir = synthOutDir(opts.root, out);
  const result = await writeSynthesized(opts.resolved, outDir, { manifest: opts.manifest, journal: journalPath(opts.root) });
  const rel = (p: string) => relative(opts.root, p).split(sep).join('/');
  return {
    out,
    environments: opts.resolved.map((e) => e.environment),
    written: result.written.map(rel),
    unchanged: result.unchanged.map(rel),
  };
}

/**
 * Synthesizes `resolved` into a fresh temp dir beside `outDir` (same filesystem), then writes the stack files (and
 * the manifest when `manifest`) into `outDir`: all of them or none, unchanged ones untouched. The temp dir is
 * removed whatever happens. Files of other environments already in `outDir` are left alone (a removed
 * environment's stack stays until deleted by hand). Returns absolute paths.
 */
async function writeSynthesized(
  resolved: readonly ResolvedEnvironment[],
  outDir: string,
  opts: { manifest: boolean; journal: string },
): Promise<{ written: string[]; unchanged: string[] }> {
  await mkdir(dirname(outDir), { recursive: true });
  // The pid in the name lets the next writer tell a killed run's scratch folder from a live one's (core/writer.ts).
  const tmp = await mkdtemp(join(dirname(outDir), `${synthScratchPrefix(outDir)}${process.pid}-`));
  try {
    let synthesized: string[];
    try {
      synthesized = synthesize(resolved, tmp);
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
