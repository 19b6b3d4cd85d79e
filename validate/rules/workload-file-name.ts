/** workload-file-name: `workload:` in a workload file equals the file name. */
import type { Finding } from '../../core/findings.js';
import { findingAt } from '../../core/yaml-source.js';
import type { Rule, RuleContext } from '../rule.js';
import { workloads } from '../walk.js';

export const rule: Rule = {
  id: 'workload-file-name',
  summary: '`workload:` that differs from the file name',
  check: workloadFileName,
};

function workloadFileName(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const w of workloads(ctx.repo)) {
    if (w.intent.workload !== w.name) {
      out.push(
        findingAt(
          w.src,
          ['workload'],
          rule.id,
          `says ${JSON.stringify(w.intent.workload)} but the file is ${w.name}.yaml: write workload: ${w.name} (or rename the file)`,
        ),
      );
    }
  }
  return out;
}
