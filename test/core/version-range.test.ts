/** Terraform version constraints as intervals: what validate's aws-provider-range rule judges a range by. */
import { describe, expect, it } from 'vitest';
import { admitsBelow, admitsFrom, isEmpty, parseVersionRange } from '../../core/version-range.js';

const FIVE = [5, 0, 0] as const;
const SEVEN = [7, 0, 0] as const;

describe('parseVersionRange', () => {
  it.each([
    // constraint, admits < 5.0, admits >= 7.0, empty
    ['>= 5.100, < 7.0', false, false, false],
    ['~> 6.29', false, false, false],
    ['~> 6.29.1', false, false, false],
    ['~> 6', false, true, false],
    ['5.100.0', false, false, false],
    ['= 4.67.0', true, false, false],
    ['>= 4.0', true, true, false],
    ['< 7.0', true, false, false],
    ['<= 7.0', true, true, false],
    ['> 6.99, < 7', false, false, false],
    ['>= 6.0, < 5.100', false, false, true],
    ['> 6.0, < 6.0', false, false, true],
  ] as const)('%s', (constraint, below, from, empty) => {
    const r = parseVersionRange(constraint)!;
    expect(r).toBeDefined();
    expect([admitsBelow(r, FIVE), admitsFrom(r, SEVEN), isEmpty(r)]).toEqual([below, from, empty]);
  });

  it('refuses text Terraform would not read', () => {
    for (const bad of ['latest', '>= 5.100,', '=> 5.0', '5.x', '']) expect(parseVersionRange(bad), bad).toBeUndefined();
  });
});
