/** adopt-names: `adoptNames` where it can adopt nothing by name. */
import type { Finding } from '../../core/findings.js';
import { findingAt } from '../../core/yaml-source.js';
import type { Rule, RuleContext } from '../rule.js';
import { environments, workloads } from '../walk.js';

export const rule: Rule = {
  id: 'adopt-names',
  summary: '`adoptNames: true` on a workload that does not adopt, or in an environment without query logs',
  check: adoptNames,
};

function adoptNames(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const w of workloads(ctx.repo)) {
    if (w.intent.adoptNames !== true) continue;
    if (w.intent.observed !== 'adopt') {
      out.push(
        findingAt(
          w.src,
          ['adoptNames'],
          rule.id,
          `adoptNames has no effect with observed: ${w.intent.observed}: only an adopting workload adopts names`,
          'warning',
        ),
      );
    } else if (!w.env.environment.value.dnsLogs) {
      out.push(
        findingAt(
          w.src,
          ['adoptNames'],
          rule.id,
          `environment ${w.env.name} has no dnsLogs: without query logs no entry has names, so every address is adopted as before`,
          'warning',
        ),
      );
    }
  }
  for (const env of environments(ctx.repo)) {
    const config = env.environment.value;
    if (config.adoptNames === true && !config.dnsLogs) {
      out.push(
        findingAt(
          env.environment.source,
          ['adoptNames'],
          rule.id,
          'adoptNames without dnsLogs: without query logs no entry has names, so every address is adopted as before',
          'warning',
        ),
      );
    }
  }
  return out;
}
