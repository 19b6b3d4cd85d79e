/** `leastpath synth` (and cdktf's app): loads the repository, takes each environment's resolution, and synthesizes. */
import { UsageError, ValidationFailed } from '../../core/errors.js';
import { hasErrors, sortFindings, type Finding } from '../../core/findings.js';
import type { ResolvedEnvironment } from '../../generators/model.js';
import type { ResolveResult } from '../../generators/resolve.js';
import type { EnvironmentPolicies, Guardrails } from '../../model/types.js';
import { synthOutDir, synthStacks, type SynthResult } from '../../stacks/synth-command.js';
import { loadValidRepository, resolutionIn, type LoadedRepository } from '../load.js';

/** A resolver in place of validation's resolutions: the shape of generators/resolve.ts `resolveEnvironment` (tests pass fixtures). */
export type Resolver = (request: {
  env: EnvironmentPolicies;
  guardrails: Guardrails;
  today: string;
}) => ResolveResult | Promise<ResolveResult>;

/** The flags of `synth` (`env` is `--env`, the environment's name). */
export interface SynthOptions {
  root: string;
  today: string;
  env?: string;
  out?: string;
}

/**
 * The resolved environments to synthesize (`env`, or every environment in name order) with the warnings of the load
 * and the resolver. Errors of any resolution stop everything: a partial set of stacks would look like removed
 * environments.
 */
export async function resolveForSynth(
  loaded: LoadedRepository,
  opts: { today: string; env?: string },
  resolver?: Resolver,
): Promise<{ resolved: ResolvedEnvironment[]; warnings: Finding[] }> {
  const { repo } = loaded;
  const selected = opts.env !== undefined ? [opts.env] : [...repo.environments.keys()].sort();
  const resolved: ResolvedEnvironment[] = [];
  const all: Finding[] = [...loaded.findings];
  for (const name of selected) {
    const environment = repo.environments.get(name);
    if (!environment) throw new UsageError(`environment ${JSON.stringify(name)} not found under policies/`);
    const r = resolver
      ? await resolver({ env: environment, guardrails: repo.guardrails, today: opts.today })
      : resolutionIn(loaded, name, opts.today);
    all.push(...r.findings);
    resolved.push(r.resolved);
  }
  if (hasErrors(all)) throw new ValidationFailed(sortFindings(all));
  return { resolved, warnings: sortFindings(all.filter((f) => f.severity !== 'error')) };
}

/** Runs synth for one environment or all of them; writes all files or none. */
export async function runSynth(opts: SynthOptions, resolver?: Resolver): Promise<SynthResult & { warnings: Finding[] }> {
  // --out inside the inputs is refused before anything is read.
  synthOutDir(opts.root, opts.out);
  const loaded = await loadValidRepository(opts.root, { today: opts.today, ...(opts.env !== undefined ? { env: opts.env } : {}) });
  const { resolved, warnings } = await resolveForSynth(loaded, opts, resolver);
  const result = await synthStacks({
    root: opts.root,
    resolved,
    manifest: opts.env === undefined,
    ...(opts.out !== undefined ? { out: opts.out } : {}),
  });
  return { ...result, warnings };
}
