/**
 * Reference optimum of quota compaction by exhaustive search, for the tests and the bench's small cases. Written
 * apart from generators/compaction.ts on purpose (it shares only core/cidr.ts): it expands every input CIDR to
 * its addresses and tries every cover, so it is exponential and only fit for a handful of addresses.
 */
import { bits, compareCidr, formatCidr, parseCidr, size, type Cidr, type Family } from '../../core/cidr.js';
import { compareText } from '../../core/text.js';

export interface BruteClass {
  key: string;
  family: Family;
  cidrs: string[];
}

export interface BruteResult {
  /** By class key: the chosen CIDRs (canonical text, compareCidr order) and their extra addresses. */
  classes: Map<string, { cidrs: string[]; extra: bigint }>;
  units: number;
  extra: bigint;
}

/** One way to cover a class: its CIDRs in compareCidr order and the addresses they admit beyond the inputs. */
interface Cover {
  cidrs: Cidr[];
  extra: bigint;
}

/**
 * The width limit, as generators/compaction.ts takes it: a chosen CIDR of family f broader than minPrefix[f] is
 * allowed only when it is one of the class's input CIDRs, unchanged.
 */
export interface BruteOptions {
  minPrefix?: { 4?: number; 6?: number };
}

/** Whether a CIDR may be chosen: within the limit, or an input of the class (canonical text). */
type Allowed = (c: Cidr) => boolean;

/** How covers are enumerated: contiguous runs of the sorted addresses (up to ~14), or every CIDR (up to ~6). */
export type BruteMode = 'runs' | 'any-cidr';

/** Addresses of the class's CIDRs, distinct and sorted (each CIDR may hold at most `limit` addresses). */
export function expand(family: Family, cidrs: readonly string[], limit = 256): bigint[] {
  const set = new Set<bigint>();
  for (const text of cidrs) {
    const c = parseCidr(text);
    if (!c || c.family !== family) throw new Error(`not an IPv${family} CIDR: ${text}`);
    const n = size(c);
    if (n > BigInt(limit)) throw new Error(`brute force: ${text} has more than ${limit} addresses`);
    for (let i = 0n; i < n; i++) set.add(c.network + i);
  }
  return [...set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** parseCidr is slow (a library parse), and the search asks for the same few CIDRs over and over. */
const cidrCache = new Map<string, Cidr>();

function cidrOf(family: Family, network: bigint, prefix: number): Cidr {
  const key = `${family}/${network}/${prefix}`;
  let c = cidrCache.get(key);
  if (!c) {
    c = parseCidr(formatCidr(family, network, prefix))!;
    if (cidrCache.size > 100_000) cidrCache.clear();
    cidrCache.set(key, c);
  }
  return c;
}

function countInside(c: Cidr, addresses: readonly bigint[]): number {
  const shift = BigInt(bits(c.family) - c.prefix);
  return addresses.filter((a) => a >> shift === c.network >> shift).length;
}

/**
 * Every cover made of the smallest CIDR around each contiguous run of the sorted addresses (a CIDR admits a
 * contiguous range, so the addresses it covers are a run; a larger CIDR for the same run only adds addresses).
 */
function coversByRuns(family: Family, addresses: readonly bigint[], allowed: Allowed): Cover[] {
  const width = bits(family);
  const n = addresses.length;
  const out: Cover[] = [];
  for (let mask = 0; mask < 1 << (n - 1); mask++) {
    const cidrs: Cidr[] = [];
    let extra = 0n;
    let ok = true;
    let start = 0;
    for (let i = 0; i < n && ok; i++) {
      const endsHere = i === n - 1 || (mask & (1 << i)) !== 0;
      if (!endsHere) continue;
      const lo = addresses[start]!;
      const hi = addresses[i]!;
      let p = width;
      while (lo >> BigInt(width - p) !== hi >> BigInt(width - p)) p--;
      const shift = BigInt(width - p);
      const c = cidrOf(family, (lo >> shift) << shift, p);
      const inside = countInside(c, addresses);
      // The CIDR must hold exactly its run; otherwise it overlaps the CIDR of another run. A wider CIDR around
      // the same run would only add addresses, and could not be an input either (an input's addresses are all
      // in the run, so it lies inside this smallest CIDR).
      if (inside !== i - start + 1 || !allowed(c)) ok = false;
      cidrs.push(c);
      extra += size(c) - BigInt(inside);
      start = i + 1;
    }
    if (ok) out.push({ cidrs, extra });
  }
  return out;
}

/** Every set of disjoint CIDRs, of any prefix length, that covers the addresses (each CIDR holding one at least). */
function coversByAnyCidr(family: Family, addresses: readonly bigint[], allowed: Allowed): Cover[] {
  const width = bits(family);
  const out: Cover[] = [];
  const chosen: Cidr[] = [];
  function covered(a: bigint): boolean {
    return chosen.some((c) => a >> BigInt(width - c.prefix) === c.network >> BigInt(width - c.prefix));
  }
  function overlaps(c: Cidr): boolean {
    return chosen.some((d) => {
      const p = Math.min(c.prefix, d.prefix);
      return c.network >> BigInt(width - p) === d.network >> BigInt(width - p);
    });
  }
  function walk(): void {
    const next = addresses.find((a) => !covered(a));
    if (next === undefined) {
      const cidrs = [...chosen].sort(compareCidr);
      const extra = cidrs.reduce((e, c) => e + size(c) - BigInt(countInside(c, addresses)), 0n);
      out.push({ cidrs, extra });
      return;
    }
    for (let p = 0; p <= width; p++) {
      const shift = BigInt(width - p);
      const c = cidrOf(family, (next >> shift) << shift, p);
      if (overlaps(c) || !allowed(c)) continue;
      chosen.push(c);
      walk();
      chosen.pop();
    }
  }
  walk();
  return out;
}

/** Lexicographic order of CIDR lists by compareCidr (a proper prefix sorts first). */
export function compareLists(a: readonly Cidr[], b: readonly Cidr[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = compareCidr(a[i]!, b[i]!);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * The optimum over every combination of covers within the budget: fewest extra addresses, then fewest CIDRs,
 * then the lexicographically smallest list (classes in key order, each class's CIDRs in compareCidr order).
 * With a width limit, covers holding a CIDR broader than it (other than an input kept as it is) are dropped; the
 * minimum budget is then the fewest CIDRs of the covers left.
 */
export function bruteForce(
  classes: readonly BruteClass[],
  budget: number,
  mode: BruteMode = 'runs',
  limits: BruteOptions = {},
): BruteResult | { impossible: true; minimumBudget: number } {
  const sorted = [...classes].sort((a, b) => compareText(a.key, b.key));
  const options = sorted.map((c) => {
    const addresses = expand(c.family, c.cidrs);
    if (addresses.length === 0) return [{ cidrs: [], extra: 0n }];
    const limit = limits.minPrefix?.[c.family] ?? 0;
    const inputs = new Set(c.cidrs.map((t) => parseCidr(t)!.text));
    const allowed: Allowed = (x) => x.prefix >= limit || inputs.has(x.text);
    return mode === 'runs' ? coversByRuns(c.family, addresses, allowed) : coversByAnyCidr(c.family, addresses, allowed);
  });
  let best: { picks: Cover[]; units: number; extra: bigint; list: Cidr[] } | undefined;
  let fewest = Infinity;
  const picks: Cover[] = [];
  function walk(i: number, units: number, extra: bigint): void {
    if (i === options.length) {
      fewest = Math.min(fewest, units);
      if (units > budget) return;
      const list = picks.flatMap((p) => p.cidrs);
      if (
        !best ||
        extra < best.extra ||
        (extra === best.extra && (units < best.units || (units === best.units && compareLists(list, best.list) < 0)))
      ) {
        best = { picks: [...picks], units, extra, list };
      }
      return;
    }
    for (const o of options[i]!) {
      picks.push(o);
      walk(i + 1, units + o.cidrs.length, extra + o.extra);
      picks.pop();
    }
  }
  walk(0, 0, 0n);
  if (!best) return { impossible: true, minimumBudget: fewest };
  const found = best;
  return {
    classes: new Map(sorted.map((c, i) => [c.key, { cidrs: found.picks[i]!.cidrs.map((x) => x.text), extra: found.picks[i]!.extra }])),
    units: found.units,
    extra: found.extra,
  };
}
