/**
 * Reading a repository and validating it: model's reader (YAML syntax, schemas, normalise), then every rule of
 * validate/rules over the model. The commands that go on with the model load through here.
 */
import { ValidationFailed } from '../core/errors.js';
import { hasErrors, sortFindings } from '../core/findings.js';
import { environmentOf, readRepo, type LoadedEnvironment, type LoadOptions, type LoadResult } from '../model/read-repo.js';
import { checkRepo } from './check-repo.js';

/**
 * Reads and fully validates a repository: YAML syntax, schemas, then every rule of validate/rules.
 * Files with syntax or schema errors are reported and left out of the model.
 */
export async function loadRepo(root: string, opts: LoadOptions): Promise<LoadResult> {
  const { repo, findings } = await readRepo(root, opts);
  return { repo, findings: sortFindings([...findings, ...checkRepo(repo, opts.today)]) };
}

/** loadRepo for the commands that go on with the model: throws ValidationFailed when any finding is an error. */
export async function loadRepoOrThrow(root: string, opts: LoadOptions): Promise<LoadResult> {
  const result = await loadRepo(root, opts);
  if (hasErrors(result.findings)) throw new ValidationFailed(result.findings);
  return result;
}

/** loadRepoOrThrow for one environment, which it returns too (a UsageError when it could not be loaded). */
export async function loadEnvironmentOrThrow(root: string, env: string, today: string): Promise<LoadedEnvironment> {
  return environmentOf(await loadRepoOrThrow(root, { today, env }), env);
}
