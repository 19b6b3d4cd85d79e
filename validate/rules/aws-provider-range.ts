/** aws-provider-range: environment.yaml `terraform.awsProvider` admits only AWS provider versions the stack can use. */
import type { Finding } from '../../core/findings.js';
import { admitsBelow, admitsFrom, isEmpty, parseVersionRange, type Version } from '../../core/version-range.js';
import { findingAt } from '../../core/yaml-source.js';
import type { Rule, RuleContext } from '../rule.js';
import { environments } from '../walk.js';

export const rule: Rule = {
  id: 'aws-provider-range',
  summary: 'an AWS provider range that admits no version, or one before 5.0 (error); one that admits 7.0 or later (warning)',
  check: awsProviderRange,
};

/** The first provider major the stack's resources and arguments are written for. */
const FIRST_MAJOR: Version = [5, 0, 0];
/** The first major nobody has validated the stack against: its breaking changes are not known yet. */
const UNKNOWN_MAJOR: Version = [7, 0, 0];

function awsProviderRange(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const env of environments(ctx.repo)) {
    const constraint = env.environment.value.terraform?.awsProvider;
    if (constraint === undefined) continue;
    const at = (message: string, severity: Finding['severity'] = 'error') =>
      findingAt(env.environment.source, ['terraform', 'awsProvider'], rule.id, message, severity);
    const range = parseVersionRange(constraint);
    if (!range) {
      out.push(at(`${JSON.stringify(constraint)} is not a Terraform version constraint: write e.g. ">= 5.100, < 7.0"`));
    } else if (isEmpty(range)) {
      out.push(at(`${JSON.stringify(constraint)} admits no version: terraform init would find no AWS provider`));
    } else if (admitsBelow(range, FIRST_MAJOR)) {
      out.push(
        at(
          `${JSON.stringify(constraint)} admits AWS provider versions before 5.0, which the generated resources are not written for: give a lower bound of 5.0 or later (e.g. ">= 5.100")`,
        ),
      );
    } else if (admitsFrom(range, UNKNOWN_MAJOR)) {
      out.push(
        at(
          `${JSON.stringify(constraint)} admits AWS provider 7.0 or later, whose breaking changes the stack has not been checked against: add an upper bound (e.g. "< 7.0")`,
          'warning',
        ),
      );
    }
  }
  return out;
}
