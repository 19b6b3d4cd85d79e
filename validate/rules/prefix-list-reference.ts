/** prefix-list-reference: `to: { prefixList: x }` names a list in the environment's prefix-lists.yaml. */
import type { Finding } from '../../core/findings.js';
import { findingAt } from '../../core/yaml-source.js';
import { didYouMean } from '../../model/suggest.js';
import type { Rule, RuleContext } from '../rule.js';
import { denyRules, egressRules } from '../walk.js';

export const rule: Rule = {
  id: 'prefix-list-reference',
  summary: 'a `prefixList` destination that prefix-lists.yaml does not define',
  check: prefixListReference,
};

function prefixListReference(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const r of [...egressRules(ctx.repo), ...denyRules(ctx.repo)]) {
    if (r.rule.to.kind !== 'prefixList') continue;
    const name = r.rule.to.prefixList;
    if (Object.hasOwn(r.env.prefixLists, name)) continue;
    const file = `policies/${r.env.name}/prefix-lists.yaml`;
    // A prefix-lists.yaml with errors of its own is reported there; what it defines is unknown.
    if (r.env.unloaded.includes(file)) continue;
    const path = [...r.path, 'to', 'prefixList'];
    const message = r.env.prefixListsSource
      ? `no prefix list ${JSON.stringify(name)} in ${file}: define it there with its cidrs and why${didYouMean(name, Object.keys(r.env.prefixLists))}`
      : `no prefix list ${JSON.stringify(name)}: there is no ${file}; create it with prefixLists.${name}: { cidrs: [...], why: ... }`;
    out.push(findingAt(r.src, path, rule.id, message));
  }
  return out;
}
