/** environment-name: `environment:` in environment.yaml equals its folder name. */
import type { Finding } from '../../core/findings.js';
import { findingAt } from '../../core/yaml-source.js';
import type { Rule, RuleContext } from '../rule.js';
import { environments } from '../walk.js';

export const rule: Rule = {
  id: 'environment-name',
  summary: '`environment:` that differs from the folder name',
  check: environmentName,
};

function environmentName(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const env of environments(ctx.repo)) {
    const declared = env.environment.value.environment;
    if (declared !== env.name) {
      out.push(
        findingAt(
          env.environment.source,
          ['environment'],
          rule.id,
          `says ${JSON.stringify(declared)} but the folder is ${JSON.stringify(env.name)}: write environment: ${env.name} (or rename the folder)`,
        ),
      );
    }
  }
  return out;
}
