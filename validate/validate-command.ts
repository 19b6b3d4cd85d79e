/** `leastpath validate [--env E] [--format text|json|github]`: schema and semantic checks of policies/ and observed/. */
import { hasErrors, type Finding } from '../core/findings.js';
import type { Repo } from '../model/types.js';
import { renderFindings, type Rendered, type ValidateFormat } from './render.js';

export interface ValidateOutcome extends Rendered {
  /** Any finding is an error (the CLI exits 1); warnings alone pass. */
  failed: boolean;
}

/** The outcome of validate over a load (the CLI loaded it; validation ran there): the findings rendered for `format`. */
export function validateOutcome(
  loaded: { repo: Repo; findings: readonly Finding[] },
  opts: { environmentName?: string; format: ValidateFormat },
): ValidateOutcome {
  const count = loaded.repo.environments.size;
  const scope =
    opts.environmentName !== undefined ? `environment ${opts.environmentName}` : `${count} environment${count === 1 ? '' : 's'}`;
  return { ...renderFindings(loaded.findings, opts.format, scope), failed: hasErrors(loaded.findings) };
}
