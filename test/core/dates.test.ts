import { describe, expect, it } from 'vitest';
import { assertDate, windowEnd } from '../../core/dates.js';
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

describe('windowEnd', () => {
  it('is today by default, any day up to today, and never a day after it', () => {
    expect(windowEnd(undefined, '2026-11-23')).toBe('2026-11-23');
    expect(windowEnd('2026-11-23', '2026-11-23')).toBe('2026-11-23');
    expect(windowEnd('2025-01-31', '2026-11-23')).toBe('2025-01-31');
    expect(() => windowEnd('2026-11-24', '2026-11-23')).toThrow(
      '--to 2026-11-24 is after today (2026-11-23): no flow logs cover those days yet',
    );
    expect(() => windowEnd('2026-13-01', '2026-11-23')).toThrow('--to must be a date YYYY-MM-DD, got "2026-13-01"');
  });
});
