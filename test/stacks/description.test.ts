import { describe, expect, it } from 'vitest';
import { awsDescription, DESCRIPTION_MAX, isAwsDescription } from '../../stacks/description.js';

describe('awsDescription: the why cut to the EC2 description character set and 255 characters', () => {
  it('keeps text that is already acceptable', () => {
    const ok = 'observed: 120 flows 2026-11-08..2026-11-21 (initiator by tcp-flags) #1 [a,b] {c} a+b=c & d; e! $f *g @h';
    expect(awsDescription(ok)).toBe(ok);
  });

  it.each([
    ['accents lose their marks', 'déploiement à Zürich', 'deploiement a Zurich'],
    ['quotes are dropped', `the "card" partner's API \u201cv2\u201d`, 'the card partners API v2'],
    ['arrows become a dash', 'web -> api => db \u2192 cache', 'web - api - db - cache'],
    ['dashes and ellipsis get ASCII stand-ins', 'a \u2013 b \u2014 c\u2026', 'a - b - c...'],
    ['angle brackets become parentheses', 'x <fast> y', 'x (fast) y'],
    ['percent is spelled out', '50% of traffic', '50 percent of traffic'],
    ['other characters become spaces, whitespace collapses', 'line one\nline\ttwo ? ^ | \\ ~', 'line one line two / / -'],
    ['emoji and CJK disappear', 'pay 💳 決済 now', 'pay now'],
    ['empty stays empty', '   ', ''],
  ])('%s', (_what, input, expected) => {
    expect(awsDescription(input)).toBe(expected);
    expect(isAwsDescription(awsDescription(input))).toBe(true);
  });

  it('cuts to 255 characters at a word boundary when one is near', () => {
    const long = `${'word '.repeat(60)}end`;
    const out = awsDescription(long);
    expect(out.length).toBeLessThanOrEqual(DESCRIPTION_MAX);
    expect(out.endsWith('word')).toBe(true);
  });

  it('cuts hard when there is no space near the limit', () => {
    const out = awsDescription('x'.repeat(400));
    expect(out).toBe('x'.repeat(DESCRIPTION_MAX));
  });

  it('always yields an acceptable description, whatever the input (seeded random text)', () => {
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    for (let i = 0; i < 500; i++) {
      const len = next() % 400;
      let s = '';
      for (let j = 0; j < len; j++) s += String.fromCodePoint(next() % 3 === 0 ? 0x20 + (next() % 95) : next() % 0x3000);
      const out = awsDescription(s);
      expect(isAwsDescription(out), JSON.stringify(s)).toBe(true);
      expect(awsDescription(out)).toBe(out);
    }
  });

  it('isAwsDescription refuses what EC2 refuses', () => {
    expect(isAwsDescription('a "quoted" word')).toBe(false);
    expect(isAwsDescription('x'.repeat(256))).toBe(false);
    expect(isAwsDescription('ok: a-z (0-9)')).toBe(true);
  });
});
