/** prefix-list-valid: a prefix list holds one address family, no repeated entry, and fits its maxEntries. */
import { parseCidr } from '../../core/cidr.js';
import type { Finding } from '../../core/findings.js';
import { findingAt } from '../../core/yaml-source.js';
import type { Rule, RuleContext } from '../rule.js';
import { environments } from '../walk.js';

export const rule: Rule = {
  id: 'prefix-list-valid',
  summary: 'a prefix list mixing IPv4 and IPv6, repeating an entry, or with more entries than maxEntries',
  check: prefixListValid,
};

function prefixListValid(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const env of environments(ctx.repo)) {
    const src = env.prefixListsSource;
    if (!src) continue;
    for (const list of Object.values(env.prefixLists)) {
      const base = ['prefixLists', list.name];
      const seen = new Map<string, number>();
      let family: 4 | 6 | undefined;
      list.cidrs.forEach((text, j) => {
        const c = parseCidr(text);
        if (!c) return;
        const first = seen.get(c.text);
        if (first !== undefined) {
          out.push(findingAt(src, [...base, 'cidrs', j], rule.id, `${c.text} is already cidrs[${first}]: remove the duplicate`));
        }
        seen.set(c.text, j);
        family ??= c.family;
        if (c.family !== family) {
          out.push(
            findingAt(
              src,
              [...base, 'cidrs', j],
              rule.id,
              `${c.text} is IPv${c.family} but the list began with IPv${family}: an AWS prefix list has one address family; split it into two lists`,
            ),
          );
        }
      });
      if (list.maxEntries < list.cidrs.length) {
        out.push(
          findingAt(
            src,
            [...base, 'maxEntries'],
            rule.id,
            `maxEntries ${list.maxEntries} is less than the ${list.cidrs.length} entries: raise it to at least ${list.cidrs.length}`,
          ),
        );
      }
    }
  }
  return out;
}
