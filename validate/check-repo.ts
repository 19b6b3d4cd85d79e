/** Step three of validation: every named rule over the normalised model. */
import type { Finding } from '../core/findings.js';
import { resolveEnvironment, type ResolveResult } from '../generators/resolve.js';
import type { EnvironmentPolicies, Repo } from '../model/types.js';
import { rules } from './rules/index.js';

/**
 * The findings of every rule (unsorted; callers sort once with everything else). `resolutions` receives each
 * environment a rule resolved (synth-ready resolves as plan does), so the stages after validation take those
 * instead of resolving again.
 */
export function checkRepo(repo: Repo, today: string, resolutions = new Map<string, ResolveResult>()): Finding[] {
  const resolve = (environment: EnvironmentPolicies): ResolveResult => {
    const known = resolutions.get(environment.name);
    if (known) return known;
    const resolution = resolveEnvironment({ env: environment, guardrails: repo.guardrails, today });
    resolutions.set(environment.name, resolution);
    return resolution;
  };
  return rules.flatMap((r) => r.check({ repo, today, resolve }));
}
