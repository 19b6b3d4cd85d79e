/**
 * Text for AWS description fields (security-group rules, groups, prefix-list entries): EC2 accepts at most 255
 * characters from `a-zA-Z0-9`, space and `._-:/()#,@[]+=&;{}!$*`, and rejects the whole call otherwise.
 * See "Security group rules" in the Amazon VPC user guide.
 */

/** The longest description EC2 accepts. */
export const DESCRIPTION_MAX = 255;

const ALLOWED = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]$/;

/**
 * Characters that have a close stand-in in the allowed set; everything else outside it becomes a space, so words
 * stay apart. Quotes are dropped: a stand-in would only add noise.
 */
const STAND_INS: Record<string, string> = {
  '\u2013': '-', // en dash
  '\u2014': '-', // em dash
  '\u2212': '-', // minus sign
  '\u2026': '...',
  '|': '/',
  '\\': '/',
  '<': '(',
  '>': ')',
  '~': '-',
  '%': ' percent',
  "'": '',
  '"': '',
  '`': '',
  '\u2018': '',
  '\u2019': '',
  '\u201c': '',
  '\u201d': '',
};

/**
 * `text` made acceptable to EC2: letters with accents lose them, a few characters get a stand-in, the rest become
 * spaces; runs of whitespace collapse, and the result is cut to 255 characters (at a word boundary when one is
 * near). Deterministic, so a re-run renders the same description.
 */
export function awsDescription(text: string): string {
  // "a -> b" is common in why texts; an arrow has no allowed rendering, a dash reads well enough.
  const arrowless = text.replace(/\s*(->|=>|\u2192)\s*/g, ' - ');
  let out = '';
  for (const ch of arrowless.normalize('NFKD')) {
    if (ALLOWED.test(ch)) out += ch;
    else if (/\p{M}/u.test(ch))
      continue; // a combining accent left by NFKD: é -> e
    else out += STAND_INS[ch] ?? ' ';
  }
  return cut(out.replace(/\s+/g, ' ').trim(), DESCRIPTION_MAX);
}

/** Cuts at the last space within the limit when that keeps most of the text, else hard at the limit. */
function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  const hard = s.slice(0, max);
  const space = hard.lastIndexOf(' ');
  return (space >= max - 20 ? hard.slice(0, space) : hard).trimEnd();
}

/** True when EC2 accepts `text` as a description. */
export function isAwsDescription(text: string): boolean {
  return text.length <= DESCRIPTION_MAX && [...text].every((ch) => ALLOWED.test(ch));
}
