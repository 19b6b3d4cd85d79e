/** why-required: every egress rule, deny rule and prefix list says why it exists. */
import type { Finding } from '../../core/findings.js';
import { findingAt, type PathSegment, type YamlSource } from '../../core/yaml-source.js';
import type { Rule, RuleContext } from '../rule.js';
import { isPlaceholder } from '../text.js';
import { denyRules, egressRules, environments } from '../walk.js';

export const rule: Rule = {
  id: 'why-required',
  summary: 'an egress rule, deny rule or prefix list without a real `why`',
  check: whyRequired,
};

function whyRequired(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const r of egressRules(ctx.repo)) check(out, r.src, r.path, r.rule.why, 'egress rule', 'what breaks without this egress');
  for (const r of denyRules(ctx.repo)) check(out, r.src, r.path, r.rule.why, 'deny rule', 'why this destination must never be adopted');
  for (const env of environments(ctx.repo)) {
    const src = env.prefixListsSource;
    if (!src) continue;
    for (const list of Object.values(env.prefixLists))
      check(out, src, ['prefixLists', list.name], list.why, 'prefix list', 'whose addresses these are');
  }
  return out;
}

function check(out: Finding[], src: YamlSource, path: PathSegment[], why: string, what: string, hint: string): void {
  if (why.trim() === '') {
    out.push(findingAt(src, [...path, 'why'], rule.id, `every ${what} needs a why: add why: "<${hint}>"`));
  } else if (isPlaceholder(why)) {
    out.push(findingAt(src, [...path, 'why'], rule.id, `${JSON.stringify(why)} is a placeholder: say ${hint}`));
  }
}
