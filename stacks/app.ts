/**
 * The CDK app entry: what a CDK Terrain CLI's `synth` runs through cdktf.json (`node dist/stacks/app.js`; cdktn
 * kept cdktf's file names). It reads the repository in the working directory, resolves every environment, and
 * lets cdktn write into CDKTF_OUTDIR (set by the CLI; `cdktf.out` otherwise). `leastpath synth` runs the same synthesize() into a temp dir and
 * moves the result into place; both write the same bytes.
 */
import { makeContext } from '../cli/context.js';
import { reportError } from '../cli/exit-codes.js';
import { formatFinding } from '../core/findings.js';
import { resolveEnvironment } from '../generators/resolve.js';
import { DEFAULT_OUT, resolveAll, type Resolver } from './synth-command.js';
import { synthesize } from './synth.js';

// The lead's resolver; its input and result are the shapes runSynth's Resolver names, so it plugs in as is.
const resolver: Resolver = resolveEnvironment;

async function main(): Promise<number> {
  const io = { stdout: (t: string) => process.stdout.write(t), stderr: (l: string) => process.stderr.write(`${l}\n`) };
  // The clock is read here, at the edge, as the CLI does (LEASTPATH_TODAY pins it).
  const ctx = makeContext(undefined, io, process.env, new Date());
  try {
    const { envs, warnings } = await resolveAll({ root: ctx.root, today: ctx.today }, resolver);
    for (const w of warnings) ctx.stderr(formatFinding(w));
    synthesize(envs, process.env.CDKTF_OUTDIR ?? DEFAULT_OUT);
    return 0;
  } catch (err) {
    return reportError(err, ctx.stderr);
  }
}

process.exitCode = await main();
