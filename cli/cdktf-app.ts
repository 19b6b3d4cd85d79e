/**
 * The CDK app of cdktf.json (`node dist/cli/cdktf-app.js`; cdktn kept cdktf's file names), a process entry like
 * bin/leastpath.js: what a CDK Terrain CLI's `synth` runs. It loads the repository in the working directory as `leastpath
 * synth` does, and lets cdktn write into CDKTF_OUTDIR (set by the CLI; `cdktf.out` otherwise). `leastpath synth`
 * runs the same synthesize() into a temp dir and moves the result into place; both write the same bytes.
 */
import { formatFinding } from '../core/findings.js';
import { DEFAULT_OUT } from '../stacks/synth-command.js';
import { synthesize } from '../stacks/synth.js';
import { resolveForSynth } from './commands/synth.js';
import { makeContext } from './context.js';
import { reportError } from './exit-codes.js';
import { loadValidRepository } from './load.js';

/** Synthesizes every environment into CDKTF_OUTDIR; returns the exit code. */
async function cdktfApp(): Promise<number> {
  const io = { stdout: (t: string) => process.stdout.write(t), stderr: (l: string) => process.stderr.write(`${l}\n`) };
  // The clock is read here, at the edge, as the CLI does (LEASTPATH_TODAY pins it).
  const ctx = makeContext(undefined, io, process.env, new Date());
  try {
    const loaded = await loadValidRepository(ctx.root, { today: ctx.today });
    const { resolved, warnings } = await resolveForSynth(loaded, { today: ctx.today });
    for (const w of warnings) ctx.stderr(formatFinding(w));
    synthesize(resolved, ctx.processEnv.CDKTF_OUTDIR ?? DEFAULT_OUT);
    return 0;
  } catch (err) {
    return reportError(err, ctx.stderr);
  }
}

process.exitCode = await cdktfApp();
