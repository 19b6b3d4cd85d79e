/** name-format: names that become paths and AWS resource names use lower-case letters, digits and hyphens. */
import type { Finding } from '../../core/findings.js';
import { isSafeName, NAME_MAX } from '../../core/names.js';
import { findingAt } from '../../core/yaml-source.js';
import { findingAtFile, findingAtKey } from '../../model/positions.js';
import type { Rule, RuleContext } from '../rule.js';
import { environments } from '../walk.js';

export const rule: Rule = {
  id: 'name-format',
  summary: 'an environment, workload or prefix-list name outside [a-z0-9][a-z0-9-]*',
  check: nameFormat,
};

const FORMAT = `[a-z0-9][a-z0-9-]* (at most ${NAME_MAX} characters)`;

function nameFormat(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const env of environments(ctx.repo)) {
    const envSrc = env.environment.source;
    if (!isSafeName(env.name)) {
      out.push(
        findingAtFile(envSrc.file, rule.id, `environment folder name ${JSON.stringify(env.name)} must match ${FORMAT}: rename the folder`),
      );
    }
    for (const name of Object.keys(env.environment.value.workloads)) {
      if (!isSafeName(name)) {
        out.push(findingAtKey(envSrc, ['workloads', name], rule.id, `workload name ${JSON.stringify(name)} must match ${FORMAT}`));
      }
    }
    for (const [file, w] of env.workloads) {
      if (!isSafeName(file)) {
        out.push(
          findingAt(
            w.source,
            ['workload'],
            rule.id,
            `workload file name ${JSON.stringify(`${file}.yaml`)} must be a name that matches ${FORMAT}, then .yaml: rename the file`,
          ),
        );
      }
    }
    const plSrc = env.prefixListsSource;
    if (plSrc) {
      for (const name of Object.keys(env.prefixLists)) {
        if (!isSafeName(name)) {
          out.push(findingAtKey(plSrc, ['prefixLists', name], rule.id, `prefix list name ${JSON.stringify(name)} must match ${FORMAT}`));
        }
      }
    }
  }
  return out;
}
