import { describe, expect, it } from 'vitest';
import { assertDate } from '../../core/dates.js';
import { UsageError } from '../../core/errors.js';

describe('assertDate', () => {
  it('returns a date YYYY-MM-DD as it is', () => {
    expect(assertDate('--to', '2026-11-21')).toBe('2026-11-21');
    expect(assertDate('--to', '2028-02-29')).toBe('2028-02-29');
  });
  it('refuses other text with a UsageError naming the option and the value', () => {
    for (const bad of ['21.11.2026', '2026-11-21T00:00:00Z', '2026-1-21', '2026-13-01', '2026-11-32', '2026-02-30', '2026-11-31', '']) {
      expect(() => assertDate('--to', bad), bad).toThrow(UsageError);
      expect(() => assertDate('--to', bad), bad).toThrow(`--to must be a date YYYY-MM-DD, got ${JSON.stringify(bad)}`);
    }
  });
});
