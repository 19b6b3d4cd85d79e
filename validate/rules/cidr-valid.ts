/** cidr-valid: every CIDR parses and is canonical (no host bits set, a prefix length written). */
import { parseCidr } from '../../core/cidr.js';
import type { Finding } from '../../core/findings.js';
import { findingAt, type PathSegment, type YamlSource } from '../../core/yaml-source.js';
import type { Rule, RuleContext } from '../rule.js';
import { denyRules, egressRules, environments } from '../walk.js';

export const rule: Rule = {
  id: 'cidr-valid',
  summary: 'a CIDR that does not parse, has host bits set, or lacks its prefix length',
  check: cidrValid,
};

function cidrValid(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  const checkList = (src: YamlSource, path: PathSegment[], cidrs: readonly string[]) =>
    cidrs.forEach((c, j) => checkOne(out, src, [...path, j], c));

  for (const env of environments(ctx.repo)) {
    const src = env.environment.source;
    const cfg = env.environment.value;
    checkList(src, ['vpcCidrs'], cfg.vpcCidrs);
    for (const [name, s] of Object.entries(cfg.workloads)) checkList(src, ['workloads', name, 'cidrs'], s.cidrs);
    cfg.quarantine.forEach((q, k) => checkList(src, ['quarantine', k, 'allow'], q.allow));
    const plSrc = env.prefixListsSource;
    if (plSrc) for (const list of Object.values(env.prefixLists)) checkList(plSrc, ['prefixLists', list.name, 'cidrs'], list.cidrs);
    for (const o of env.observed.values()) {
      o.value.egress.forEach((e, i) => checkOne(out, o.source, ['egress', i, 'destination'], e.destination));
      o.value.rejected.forEach((e, i) => checkOne(out, o.source, ['rejected', i, 'destination'], e.destination));
    }
  }
  for (const r of [...egressRules(ctx.repo), ...denyRules(ctx.repo)]) {
    if (r.rule.to.kind === 'cidrs') checkList(r.src, [...r.path, 'to', 'cidrs'], r.rule.to.cidrs);
  }
  return out;
}

function checkOne(out: Finding[], src: YamlSource, path: PathSegment[], text: string): void {
  const c = parseCidr(text);
  if (!c) {
    out.push(
      findingAt(
        src,
        path,
        rule.id,
        `${JSON.stringify(text)} is not a CIDR: write an IPv4 or IPv6 network with its prefix length, like 10.0.0.0/24 or 2001:db8::/56`,
      ),
    );
  } else if (!text.includes('/')) {
    out.push(findingAt(src, path, rule.id, `${JSON.stringify(text)} has no prefix length: did you mean ${c.text}?`));
  } else if (c.hostBitsSet) {
    out.push(findingAt(src, path, rule.id, `${text} has host bits set: did you mean ${c.text}?`));
  }
}
