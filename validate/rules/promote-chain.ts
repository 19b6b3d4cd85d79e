/** promote-chain: `promoteFrom` names another existing environment, and following it never comes back. */
import type { Finding } from '../../core/findings.js';
import { findingAt } from '../../core/yaml-source.js';
import { didYouMean } from '../../model/suggest.js';
import type { Rule, RuleContext } from '../rule.js';
import { environments } from '../walk.js';

export const rule: Rule = {
  id: 'promote-chain',
  summary: '`promoteFrom` naming a missing environment, itself, or closing a cycle',
  check: promoteChain,
};

function promoteChain(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  const { repo } = ctx;
  for (const env of environments(repo)) {
    const from = env.environment.value.promoteFrom;
    if (from === null) continue;
    const src = env.environment.source;
    if (from === env.name) {
      out.push(
        findingAt(
          src,
          ['promoteFrom'],
          rule.id,
          `${env.name} cannot be promoted from itself: name the environment upstream of it, or null`,
        ),
      );
      continue;
    }
    if (!repo.environmentNames.includes(from)) {
      out.push(
        findingAt(
          src,
          ['promoteFrom'],
          rule.id,
          `no environment ${JSON.stringify(from)} under policies/: name an existing one, or null${didYouMean(from, repo.environmentNames)}`,
        ),
      );
      continue;
    }
    // Follow the chain through every environment (loaded or not, under --env); a cycle is reported on each of its
    // members that is checked.
    const chain = [env.name];
    let cur: string | null | undefined = from;
    while (cur !== null && cur !== undefined && !chain.includes(cur)) {
      chain.push(cur);
      cur = repo.promoteFrom.get(cur);
    }
    if (cur === env.name) {
      out.push(
        findingAt(
          src,
          ['promoteFrom'],
          rule.id,
          `promotion cycle ${[...chain, env.name].join(' <- ')}: one environment of the chain must have promoteFrom: null`,
        ),
      );
    }
  }
  return out;
}
