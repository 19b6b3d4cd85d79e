/** `leastpath observe`: loads the repository, picks the environment for observe, observes it and writes its files. */
import {
  environmentForObserve,
  observeEnvironment,
  writeObserved,
  type ObserveInput,
  type ObserveResult,
} from '../../observe/observe-command.js';
import { loadRepository } from '../load.js';

export type { ObserveResult };

/** The observe stage's input without what the CLI loads; `env` is `--env`, the environment's name. */
export type ObserveOptions = Omit<ObserveInput, 'environment' | 'replaced'> & { env: string };

/** Runs observe for one environment and writes its observed files (all of them, or none). */
export async function runObserve(opts: ObserveOptions): Promise<ObserveResult> {
  const { env: environmentName, ...input } = opts;
  // Not loadValidRepository: errors in the environment's own observed files are observe's to rewrite.
  const loaded = await loadRepository(opts.root, { today: opts.today, env: environmentName });
  const observed = await observeEnvironment({ ...input, ...environmentForObserve(loaded, environmentName) });
  const [result] = await writeObserved(opts.root, [observed]);
  return result!;
}
