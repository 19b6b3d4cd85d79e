/** guardrails-tighten-only: guardrails.yaml may make exceptions stricter than the contract's defaults, never looser. */
import type { Finding } from '../../core/findings.js';
import { findingAt } from '../../core/yaml-source.js';
import { DEFAULT_GUARDRAILS } from '../../model/normalise.js';
import type { Rule, RuleContext } from '../rule.js';
import { rawAt } from '../walk.js';

export const rule: Rule = {
  id: 'guardrails-tighten-only',
  summary:
    'a guardrails.yaml value that loosens a default (maxPrefix below /24 or /56, maxPorts above 1, maxDays above 180, allProtocols false)',
  check: guardrailsTightenOnly,
};

interface Limit {
  key: 'maxPrefixIPv4' | 'maxPrefixIPv6' | 'maxPorts' | 'maxDays' | 'allProtocols';
  loosens: (v: number | boolean) => boolean;
  advice: string;
}

const d = DEFAULT_GUARDRAILS.exceptions;
const LIMITS: Limit[] = [
  {
    key: 'maxPrefixIPv4',
    loosens: (v) => Number(v) < d.maxPrefixIPv4,
    advice: `use ${d.maxPrefixIPv4} or more (a longer prefix is stricter)`,
  },
  {
    key: 'maxPrefixIPv6',
    loosens: (v) => Number(v) < d.maxPrefixIPv6,
    advice: `use ${d.maxPrefixIPv6} or more (a longer prefix is stricter)`,
  },
  { key: 'maxPorts', loosens: (v) => Number(v) > d.maxPorts, advice: `use ${d.maxPorts}` },
  { key: 'maxDays', loosens: (v) => Number(v) > d.maxDays, advice: `use ${d.maxDays} or fewer` },
  { key: 'allProtocols', loosens: (v) => v === false, advice: 'remove it or write true: `all` protocols always needs an exception' },
];

function guardrailsTightenOnly(ctx: RuleContext): Finding[] {
  const src = ctx.repo.guardrailsSource;
  if (!src) return [];
  const out: Finding[] = [];
  // The model already holds the defaults in place of a loosened value; the file says what was written.
  for (const limit of LIMITS) {
    const path = ['exceptions', limit.key];
    const v = rawAt(src, path);
    if ((typeof v === 'number' || typeof v === 'boolean') && limit.loosens(v)) {
      out.push(
        findingAt(
          src,
          path,
          rule.id,
          `${String(v)} loosens the contract's default (${String(d[limit.key])}); guardrails may only tighten: ${limit.advice}`,
        ),
      );
    }
  }
  return out;
}
