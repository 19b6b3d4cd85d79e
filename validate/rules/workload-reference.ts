/** workload-reference: `to: { workload: x }` names a workload of the same environment, with a file and a selector. */
import type { Finding } from '../../core/findings.js';
import { findingAt } from '../../core/yaml-source.js';
import { didYouMean } from '../../model/suggest.js';
import type { Rule, RuleContext } from '../rule.js';
import { denyRules, egressRules, workloadFile, workloadFileExists } from '../walk.js';

export const rule: Rule = {
  id: 'workload-reference',
  summary: 'a `workload` destination that is not a workload of the same environment',
  check: workloadReference,
};

function workloadReference(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const r of [...egressRules(ctx.repo), ...denyRules(ctx.repo)]) {
    if (r.rule.to.kind !== 'workload') continue;
    const target = r.rule.to.workload;
    const path = [...r.path, 'to', 'workload'];
    const hasFile = workloadFileExists(r.env, target);
    const hasSelector = Object.hasOwn(r.env.environment.value.workloads, target);
    if (!hasFile && !hasSelector) {
      const known = new Set([...r.env.workloads.keys(), ...Object.keys(r.env.environment.value.workloads)]);
      out.push(
        findingAt(
          r.src,
          path,
          rule.id,
          `no workload ${JSON.stringify(target)} in ${r.env.name}: a workload reference becomes its security group, so it must be defined here${didYouMean(target, known)}`,
        ),
      );
    } else if (!hasFile) {
      out.push(
        findingAt(
          r.src,
          path,
          rule.id,
          `workload ${JSON.stringify(target)} has a selector but no ${workloadFile(r.env, target)}: add that file (its security group is what this rule points at)`,
        ),
      );
    } else if (!hasSelector) {
      out.push(
        findingAt(
          r.src,
          path,
          rule.id,
          `workload ${JSON.stringify(target)} has no selector in policies/${r.env.name}/environment.yaml: add workloads.${target} there so its group can be attached`,
        ),
      );
    }
  }
  return out;
}
