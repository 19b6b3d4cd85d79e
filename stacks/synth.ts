/**
 * Synthesis: one CDK Terrain (cdktn) App with one stack per environment, written by cdktn itself into a directory.
 * This is the same code path a CDK CLI's `synth` runs through cdktf.json and cli/cdktf-app.ts, so both write the
 * same bytes.
 *
 * What cdktn writes, and why it is deterministic here:
 * - `manifest.json`: the cdktn version, and per stack its name, construct path and relative paths. Stable.
 * - `stacks/<env>/cdk.tf.json`: keys sorted by cdktn (safe-stable-stringify); our arrays are sorted by the
 *   renderer; cdktn's `"//"` metadata (construct paths and ids, backend kind, its version) is removed by the
 *   renderer's stack, which keeps only the generated-by marker.
 * - Varying, and pinned: the default local backend's path (process.cwd(), an absolute path of this machine:
 *   the renderer gives a relative one), and construct stack traces (absolute source paths: `stackTraces: false`).
 * - Never written: timestamps or random ids (cdktn 0.24 has none in the JSON output).
 */
import { App } from 'cdktn';
import type { ResolvedEnvironment } from '../generators/model.js';
import { StackError } from './guard-rails.js';
import { renderStack } from './render.js';

/** The files cdktn writes, relative to the output directory, with forward slashes. */
export const MANIFEST_FILE = 'manifest.json';

/** `stacks/<env>/cdk.tf.json`, cdktn's layout (as cdktf's). */
export function stackFile(environment: string): string {
  return `stacks/${environment}/cdk.tf.json`;
}

/** Builds the App: one stack per environment, in name order. */
function buildApp(envs: readonly ResolvedEnvironment[], outDir: string): App {
  const names = envs.map((e) => e.environment);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new StackError(`environment ${JSON.stringify(dup)} is given twice`);
  // JSON, not HCL: the artifact is Terraform JSON. cdktn lets SYNTH_HCL_OUTPUT=true in the environment override
  // this; runSynth then finds no cdk.tf.json and says so. The App creates `outDir` in its constructor.
  const app = new App({ outdir: outDir, stackTraces: false, hclOutput: false });
  for (const env of [...envs].sort((a, b) => (a.environment < b.environment ? -1 : 1))) renderStack(app, env);
  return app;
}

/**
 * Renders every environment and lets cdktn write `manifest.json` and `stacks/<env>/cdk.tf.json` into `outDir`.
 * Returns the files written, relative to `outDir`. Writes in place: `runSynth` calls it on a temp dir.
 */
export function synthesize(envs: readonly ResolvedEnvironment[], outDir: string): string[] {
  buildApp(envs, outDir).synth();
  return [MANIFEST_FILE, ...envs.map((e) => stackFile(e.environment)).sort()];
}
