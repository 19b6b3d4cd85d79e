/** workload-coverage: every workload file has a selector in environment.yaml, and every selector a file. */
import type { Finding } from '../../core/findings.js';
import { findingAt } from '../../core/yaml-source.js';
import { findingAtKey } from '../../model/positions.js';
import type { Rule, RuleContext } from '../rule.js';
import { environments, workloadFile, workloadFileExists } from '../walk.js';

export const rule: Rule = {
  id: 'workload-coverage',
  summary: 'a workload file without a selector, or a selector without a file or that matches nothing',
  check: workloadCoverage,
};

function workloadCoverage(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const env of environments(ctx.repo)) {
    const envSrc = env.environment.source;
    const selectors = env.environment.value.workloads;
    for (const [name, w] of env.workloads) {
      if (Object.hasOwn(selectors, name)) continue;
      out.push(
        findingAt(
          w.source,
          ['workload'],
          rule.id,
          `no selector for ${JSON.stringify(name)} in ${envSrc.file}: its flows can never be attributed or observed; add workloads.${name}: { cidrs | interfaces | instances | subnets }`,
        ),
      );
    }
    for (const [name, s] of Object.entries(selectors)) {
      if (!workloadFileExists(env, name)) {
        out.push(
          findingAtKey(
            envSrc,
            ['workloads', name],
            rule.id,
            `selector for ${JSON.stringify(name)} but no ${workloadFile(env, name)}: add the workload file or remove the selector`,
            'warning',
          ),
        );
      }
      if (s.cidrs.length + s.interfaces.length + s.instances.length + s.subnets.length === 0) {
        out.push(
          findingAtKey(
            envSrc,
            ['workloads', name],
            rule.id,
            `selector for ${JSON.stringify(name)} matches nothing: give it cidrs, interfaces, instances or subnets`,
            'warning',
          ),
        );
      }
    }
  }
  return out;
}
