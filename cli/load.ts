/**
 * Loading, at the edge: the repository is read and validated here, and its environments resolved, once per command
 * (twice in `run`, whose observe rewrites observed/); the stages take what this hands them and load nothing.
 */
import { UsageError, ValidationFailed } from '../core/errors.js';
import { hasErrors, sortFindings, type Finding } from '../core/findings.js';
import { resolveEnvironment, type ResolveResult } from '../generators/resolve.js';
import { readRepo } from '../model/read-repo.js';
import type { EnvironmentPolicies, Repo } from '../model/types.js';
import { checkRepo } from '../validate/check-repo.js';

export interface LoadOptions {
  /** Today (YYYY-MM-DD, UTC): exceptions expire against it. */
  today: string;
  /** Only this environment (its policies and observed evidence): `--env`. */
  env?: string;
}

export interface LoadedRepository {
  repo: Repo;
  /** Sorted findings; from loadValidRepository, warnings only. */
  findings: Finding[];
  /** The environments validation resolved (rule synth-ready), by name: plan, synth and report take these. */
  resolutions: Map<string, ResolveResult>;
}

/**
 * Reads and fully validates a repository: YAML syntax, schemas, then every rule of validate/rules.
 * Files with syntax or schema errors are reported and left out of the model.
 */
export async function loadRepository(root: string, opts: LoadOptions): Promise<LoadedRepository> {
  const { repo, findings } = await readRepo(root, opts.env !== undefined ? { env: opts.env } : {});
  const resolutions = new Map<string, ResolveResult>();
  return { repo, findings: sortFindings([...findings, ...checkRepo(repo, opts.today, resolutions)]), resolutions };
}

/** loadRepository for the commands that go on with the model: ValidationFailed when any finding is an error. */
export async function loadValidRepository(root: string, opts: LoadOptions): Promise<LoadedRepository> {
  const loaded = await loadRepository(root, opts);
  if (hasErrors(loaded.findings)) throw new ValidationFailed(loaded.findings);
  return loaded;
}

/** Environment `environmentName` of a load (a UsageError when it could not be loaded). */
export function environmentIn(loaded: Pick<LoadedRepository, 'repo'>, environmentName: string): EnvironmentPolicies {
  const environment = loaded.repo.environments.get(environmentName);
  if (!environment) throw new UsageError(`environment ${JSON.stringify(environmentName)} could not be loaded`);
  return environment;
}

/** The resolution of an environment of a load: validation's, or (when validation's resolver threw) made now. */
export function resolutionIn(loaded: LoadedRepository, environmentName: string, today: string): ResolveResult {
  return (
    loaded.resolutions.get(environmentName) ??
    resolveEnvironment({ env: environmentIn(loaded, environmentName), guardrails: loaded.repo.guardrails, today })
  );
}

/** What a stage over one loaded environment takes from the CLI: the environment and validation's resolution of it. */
interface EnvironmentInput {
  root: string;
  today: string;
  environment: EnvironmentPolicies;
  resolution: ResolveResult;
}

/**
 * A stage over one environment as a command of `--env` (`env`, the environment's name): it loads and validates the
 * repository for that environment, hands the stage the environment and its resolution, and puts the load's warnings
 * before the stage's findings.
 */
export function withEnvironment<I extends EnvironmentInput, R extends { findings: Finding[] }>(stage: (input: I) => Promise<R>) {
  return async (opts: Omit<I, 'environment' | 'resolution'> & { env: string }): Promise<R> => {
    const { env: environmentName, ...input } = opts;
    const loaded = await loadValidRepository(opts.root, { today: opts.today, env: environmentName });
    const environment = environmentIn(loaded, environmentName);
    const resolution = resolutionIn(loaded, environmentName, opts.today);
    // Omit<I, K> with K added back is I, which TypeScript cannot see for a generic I.
    const result = await stage({ ...input, environment, resolution } as unknown as I);
    return { ...result, findings: [...loaded.findings, ...result.findings] };
  };
}
