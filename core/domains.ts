/**
 * DNS names as leastpath compares them: lowercase, no trailing dot; `*.x.y` matches any name below x.y at any depth
 * and not x.y itself, as Route 53 Resolver DNS Firewall matches. The registrable domain is the public suffix plus
 * one label, from a short built-in list of multi-label suffixes (no public-suffix list is bundled).
 */

/** Public suffixes of more than one label that are common enough to matter; every other suffix is one label. */
const MULTI_LABEL_SUFFIXES = new Set([
  'co.uk',
  'org.uk',
  'ac.uk',
  'gov.uk',
  'com.au',
  'net.au',
  'org.au',
  'co.nz',
  'co.jp',
  'ne.jp',
  'co.za',
  'com.br',
  'com.cn',
  'com.mx',
  'co.in',
  'co.kr',
  'com.sg',
  'com.tr',
  'com.tw',
  'com.hk',
  // Hosting suffixes where every customer owns a label (as the public-suffix list has them).
  'amazonaws.com',
  'cloudfront.net',
  'elb.amazonaws.com',
  'herokuapp.com',
  'azurewebsites.net',
  'appspot.com',
  'blob.core.windows.net',
  'cloudapp.net',
  'github.io',
  'netlify.app',
  'vercel.app',
  'pages.dev',
  'workers.dev',
]);

/** A name as compared: lowercase, without the trailing dot. */
export function normaliseName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** The public suffix of a name: the longest known multi-label suffix, else its last label. */
export function publicSuffix(name: string): string {
  const labels = normaliseName(name).split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const tail = labels.slice(i).join('.');
    if (MULTI_LABEL_SUFFIXES.has(tail)) return tail;
  }
  return labels[labels.length - 1] ?? '';
}

/** The registrable domain (public suffix plus one label); the name itself when it is a suffix or shorter. */
export function registrableDomain(name: string): string {
  const n = normaliseName(name).replace(/^\*\./, '');
  const suffix = publicSuffix(n);
  if (n === suffix) return n;
  const rest = n.slice(0, n.length - suffix.length - 1).split('.');
  return `${rest[rest.length - 1]}.${suffix}`;
}

/** Whether `pattern` (a name, or `*.x.y`) matches `name`. */
export function nameMatches(pattern: string, name: string): boolean {
  const p = normaliseName(pattern);
  const n = normaliseName(name);
  if (p.startsWith('*.')) return n.endsWith(p.slice(1)) && n.length > p.length - 1;
  return p === n;
}

/** Whether any of `patterns` matches `name`. */
export function anyNameMatches(patterns: readonly string[], name: string): boolean {
  return patterns.some((p) => nameMatches(p, name));
}

/**
 * Whether a wildcard reaches above a registrable domain: `*.com`, `*.co.uk`, `*.amazonaws.com` stand for names of
 * every owner under that suffix, as broad as a /0, so they need an exception; `*.githubusercontent.com` (one label
 * below the registrable domain githubusercontent.com, and deeper) does not. False for a name without a wildcard.
 */
export function isBroadWildcard(pattern: string): boolean {
  const p = normaliseName(pattern);
  if (!p.startsWith('*.')) return false;
  const base = p.slice(2);
  return base === publicSuffix(base);
}
