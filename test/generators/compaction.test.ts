import { describe, expect, it } from 'vitest';
import { compareCidr, contains, parseCidr, size, type Cidr } from '../../core/cidr.js';
import { makeRng, type Rng } from '../../examples/scenario.js';
import { compact, type AddressClass, type CompactionOptions, type CompactionResult } from '../../generators/compaction.js';
import { bruteForce, type BruteMode } from '../../bench/compaction/brute-force.js';
import { greedy } from '../../bench/compaction/greedy.js';

function p(text: string): Cidr {
  const c = parseCidr(text);
  if (!c) throw new Error(`bad CIDR in test: ${text}`);
  return c;
}

function solved(r: ReturnType<typeof compact>): CompactionResult {
  if ('impossible' in r) throw new Error(`expected a result, got impossible (minimum ${r.minimumBudget})`);
  return r;
}

function chosen(r: CompactionResult): Record<string, string[]> {
  return Object.fromEntries(r.classes.map((c) => [c.key, c.cidrs.map((x) => x.cidr)]));
}

function distinct(cidrs: readonly string[]): Cidr[] {
  return [...new Map(cidrs.map((t) => p(t)).map((c) => [c.text, c])).values()];
}

/** Distinct non-nested input CIDRs of a class (quadratic: fine for test sizes). */
function outermost(cidrs: readonly string[]): Cidr[] {
  const all = distinct(cidrs);
  return all.filter((c) => !all.some((d) => d.text !== c.text && contains(d, c))).sort(compareCidr);
}

/**
 * Checks a result against its input without trusting the algorithm: chosen CIDRs of a class are disjoint, in
 * order, each input lies in exactly one, `covers` lists exactly the inputs inside, the extra addresses add up,
 * and the units respect the budget.
 */
function expectValid(input: readonly AddressClass[], r: CompactionResult, budget: number): void {
  expect(r.classes.map((c) => c.key)).toEqual(input.map((c) => c.key));
  let units = 0;
  let total = 0n;
  input.forEach((cls, i) => {
    const out = r.classes[i]!;
    const picked = out.cidrs.map((x) => p(x.cidr));
    expect(picked.map((c) => c.text)).toEqual(out.cidrs.map((x) => x.cidr));
    expect([...picked].sort(compareCidr)).toEqual(picked);
    for (let a = 0; a < picked.length; a++) {
      for (let b = a + 1; b < picked.length; b++) {
        expect(contains(picked[a]!, picked[b]!) || contains(picked[b]!, picked[a]!), `${picked[a]!.text} overlaps ${picked[b]!.text}`).toBe(
          false,
        );
      }
    }
    const inputs = distinct(cls.cidrs).sort(compareCidr);
    for (const c of inputs)
      expect(
        picked.filter((x) => contains(x, c)),
        `${c.text} covered once`,
      ).toHaveLength(1);
    const leaves = outermost(cls.cidrs);
    let extra = 0n;
    out.cidrs.forEach((x, j) => {
      expect(x.covers).toEqual(inputs.filter((c) => contains(picked[j]!, c)).map((c) => c.text));
      expect(x.covers.length).toBeGreaterThan(0);
      const covered = leaves.filter((c) => contains(picked[j]!, c)).reduce((n, c) => n + size(c), 0n);
      extra += size(picked[j]!) - covered;
    });
    expect(out.extraAddresses).toBe(extra);
    units += picked.length;
    total += extra;
  });
  expect(r.units).toBe(units);
  expect(r.extraAddresses).toBe(total);
  expect(units).toBeLessThanOrEqual(budget);
}

/** Compares with the brute force: same optimum, same CIDRs (so the same tie-breaks), and a valid cover. */
function expectOptimal(input: readonly AddressClass[], budget: number, mode: BruteMode = 'runs', options: CompactionOptions = {}): void {
  const r = compact(input, budget, options);
  const b = bruteForce(input, budget, mode, options);
  if ('impossible' in b) {
    expect(r).toEqual(b);
    return;
  }
  const got = solved(r);
  expectValid(input, got, budget);
  expectWithinLimit(input, got, options);
  expect(got.extraAddresses).toBe(b.extra);
  expect(got.units).toBe(b.units);
  for (const c of got.classes) {
    expect(
      c.cidrs.map((x) => x.cidr),
      c.key,
    ).toEqual(b.classes.get(c.key)!.cidrs);
    expect(c.extraAddresses).toBe(b.classes.get(c.key)!.extra);
  }
}

/** No chosen CIDR is broader than its family's limit, unless it is one of its class's inputs (canonical text). */
function expectWithinLimit(input: readonly AddressClass[], r: CompactionResult, options: CompactionOptions): void {
  input.forEach((cls, i) => {
    const limit = options.minPrefix?.[cls.family] ?? 0;
    const inputs = new Set(cls.cidrs.map((t) => p(t).text));
    for (const x of r.classes[i]!.cidrs) {
      const c = p(x.cidr);
      if (c.prefix < limit) expect(inputs.has(c.text), `${c.text} is broader than /${limit} and not an input`).toBe(true);
      if (c.prefix < limit) expect(x.covers[0], `${c.text} kept as it is`).toBe(c.text);
    }
  });
}

/**
 * 1-2 UDP classes of 1-10 IPv6 hosts near the bottom of a few far-apart /64s, so merges cost 2^64 and more. Group 4
 * = 0 or 1 share a /56, ff00 is another; the third group picks one of four /48s.
 */
function classes6(rng: Rng): AddressClass[] {
  const m = rng.int(1, 2);
  return Array.from({ length: m }, (_, i) => {
    const set = new Set<string>();
    const n = rng.int(1, Math.floor(10 / m));
    while (set.size < n) set.add(`2001:db8:${rng.int(0, 3).toString(16)}:${rng.pick(['0', '1', 'ff00'])}::${rng.int(1, 40).toString(16)}`);
    return { key: `udp|${53 + i}`, family: 6 as const, cidrs: [...set] };
  });
}

function distinctLeaves(input: readonly AddressClass[]): number {
  return input.reduce((n, c) => n + outermost(c.cidrs).length, 0);
}

function shuffle<T>(rng: Rng, items: readonly T[]): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function hosts4(rng: Rng, n: number, space: number): string[] {
  const set = new Set<number>();
  while (set.size < n) set.add(rng.int(0, space - 1));
  return [...set].map((v) => `10.0.${v >> 8}.${v & 255}`);
}

/** About `n` hosts of 10.0.0.0/26 in a few runs of consecutive addresses. */
function runs4(rng: Rng, n: number): string[] {
  const set = new Set<number>();
  while (set.size < n) {
    const start = rng.int(0, 63);
    for (let a = start; a < Math.min(start + rng.int(1, 4), 64) && set.size < n; a++) set.add(a);
  }
  return [...set].map((v) => `10.0.0.${v}`);
}

/** `n` hosts: the first of a /30 or /29 of 10.0.0.0/26 (all of it when n allows), the rest over 10.0.0.64-255. */
function blockAndHosts(rng: Rng, n: number): string[] {
  const block = rng.pick([4, 8]);
  const start = Math.floor(rng.int(0, 63) / block) * block;
  const filled = Array.from({ length: Math.min(n, block) }, (_, i) => `10.0.0.${start + i}`);
  return [...filled, ...hosts4(rng, n - filled.length, 192).map((h) => h.replace(/\.(\d+)$/, (_, v: string) => `.${64 + Number(v)}`))];
}

describe('compact against the brute force', () => {
  it('finds the optimum of random IPv4 host sets (1-12 addresses, 1-3 classes, every kind of budget)', () => {
    const rng = makeRng('compaction-test/ipv4');
    let compared = 0;
    for (let t = 0; t < 300; t++) {
      const m = rng.int(1, 3);
      const input: AddressClass[] = Array.from({ length: m }, (_, i) => ({
        key: `tcp|${443 + i}`,
        family: 4 as const,
        cidrs: hosts4(rng, rng.int(1, Math.floor(12 / m)), rng.pick([16, 64, 512])),
      }));
      const n = distinctLeaves(input);
      const budget = rng.int(0, n + 1);
      if (budget >= n) {
        expect(chosen(solved(compact(input, budget)))).toEqual(
          Object.fromEntries(input.map((c) => [c.key, outermost(c.cidrs).map((x) => x.text)])),
        );
        continue;
      }
      expectOptimal(input, budget);
      compared++;
    }
    expect(compared).toBeGreaterThan(150);
  });

  it('loses nothing by choosing only tight CIDRs: equal to a brute force over every CIDR of every length', () => {
    const rng = makeRng('compaction-test/any-cidr');
    for (let t = 0; t < 60; t++) {
      const input: AddressClass[] = [{ key: 'k', family: 4, cidrs: hosts4(rng, rng.int(2, 5), 16) }];
      const budget = rng.int(1, input[0]!.cidrs.length - 1);
      expectOptimal(input, budget, 'any-cidr');
    }
  });

  it('finds the optimum for IPv6, where extra addresses only fit in a bigint', () => {
    const rng = makeRng('compaction-test/ipv6');
    for (let t = 0; t < 120; t++) {
      const input = classes6(rng);
      const m = input.length;
      const n = distinctLeaves(input);
      if (n <= m) continue;
      expectOptimal(input, rng.int(m, n - 1));
    }
  });

  it('finds the optimum with nested and duplicate inputs (brute force over their addresses)', () => {
    const rng = makeRng('compaction-test/nested');
    let compared = 0;
    for (let t = 0; compared < 100 && t < 2000; t++) {
      const cidrs: string[] = [];
      const addresses = new Set<number>();
      const k = rng.int(2, 7);
      for (let i = 0; i < k; i++) {
        const prefix = rng.pick([29, 30, 31, 32, 32, 32]);
        const block = 2 ** (32 - prefix);
        const base = Math.floor(rng.int(0, 63) / block) * block;
        cidrs.push(`10.1.0.${base}/${prefix}`);
        for (let a = base; a < base + block; a++) addresses.add(a);
      }
      // A duplicate, and a bare address of something already covered.
      cidrs.push(cidrs[0]!, `10.1.0.${[...addresses][0]!}`);
      // The brute force tries 2^(addresses - 1) covers.
      if (addresses.size > 13) continue;
      const input: AddressClass[] = [{ key: 'k', family: 4, cidrs: shuffle(rng, cidrs) }];
      const n = distinctLeaves(input);
      if (n < 2) continue;
      expectOptimal(input, rng.int(1, n - 1));
      compared++;
    }
    expect(compared).toBe(100);
  });
});

/** Shows a result as bytes (bigints as decimal text). */
function show(r: ReturnType<typeof compact>): string {
  return JSON.stringify(r, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/**
 * Fewest CIDRs that cover a class under a width limit, counted without a trie: one per block of the limit's width
 * holding inputs no wider than it, plus one per wider outermost input.
 */
function minimumUnits(cls: AddressClass, limit: number): number {
  const width = cls.family === 4 ? 32 : 128;
  const blocks = new Set<string>();
  for (const c of outermost(cls.cidrs)) blocks.add(c.prefix < limit ? c.text : String(c.network >> BigInt(width - limit)));
  return blocks.size;
}

describe('compact with a width limit', () => {
  it('finds the optimum under random IPv4 limits (/26../31 in a /24 or less, some inputs broader than the limit)', () => {
    const rng = makeRng('compaction-test/limit-ipv4');
    let compared = 0;
    let impossible = 0;
    let constrained = 0;
    let broadInputKept = 0;
    for (let t = 0; t < 600; t++) {
      const m = rng.int(1, 3);
      const input: AddressClass[] = Array.from({ length: m }, (_, i) => {
        // Now and then an input block of 4 or 8 addresses (broader than a /30 or /31 limit, it may only stay as
        // it is); the brute force tries 2^(addresses - 1) covers a class, so the hosts make up the rest of 12.
        const room = Math.floor(12 / m);
        const broad = rng.chance(0.3) ? rng.pick([29, 30]) : undefined;
        const n = rng.int(1, Math.max(1, room - (broad === undefined ? 0 : 2 ** (32 - broad))));
        // Runs of consecutive hosts and full blocks make merging across a limit's boundary cheap, so the limit
        // changes results that stay feasible, not only the minimum budget.
        const shape = rng.pick([0, 1, 2, 2]);
        const cidrs = shape === 0 ? hosts4(rng, n, rng.pick([16, 64, 256])) : shape === 1 ? runs4(rng, n) : blockAndHosts(rng, n);
        if (broad !== undefined) {
          const block = 2 ** (32 - broad);
          cidrs.push(`10.0.0.${Math.floor(rng.int(0, 63) / block) * block}/${broad}`);
        }
        return { key: `tcp|${443 + i}`, family: 4 as const, cidrs };
      });
      const limit = rng.pick([26, 27, 28, 29, 30, 30, 31, 31]);
      const options: CompactionOptions = { minPrefix: { 4: limit } };
      const n = distinctLeaves(input);
      const minimum = input.reduce((u, c) => u + minimumUnits(c, limit), 0);
      const budget = rng.chance(0.25) ? rng.int(0, n + 1) : rng.int(minimum, n);
      const r = compact(input, budget, options);
      if (budget < minimum) {
        expect(r).toEqual({ impossible: true, minimumBudget: minimum });
        impossible++;
      }
      if (budget >= n) {
        expect(chosen(solved(r))).toEqual(Object.fromEntries(input.map((c) => [c.key, outermost(c.cidrs).map((x) => x.text)])));
        continue;
      }
      expectOptimal(input, budget, 'runs', options);
      compared++;
      if (!('impossible' in r)) {
        if (show(r) !== show(compact(input, budget))) constrained++;
        if (r.classes.some((c) => c.cidrs.some((x) => p(x.cidr).prefix < limit))) broadInputKept++;
        // Shuffled, duplicated and reordered input: the same bytes, class by class.
        const shuffled = shuffle(
          rng,
          input.map((c) => ({ ...c, cidrs: shuffle(rng, [...c.cidrs, ...c.cidrs.slice(0, 2)]) })),
        );
        const again = solved(compact(shuffled, budget, options));
        const byKey = new Map(again.classes.map((c) => [c.key, c]));
        expect(r.classes.map((c) => byKey.get(c.key))).toEqual(r.classes);
      }
    }
    expect(compared).toBeGreaterThan(250);
    expect(impossible).toBeGreaterThan(30);
    expect(constrained).toBeGreaterThan(15);
    expect(broadInputKept).toBeGreaterThan(15);
  });

  it('equals a brute force over every CIDR of every length under the limit', () => {
    const rng = makeRng('compaction-test/limit-any-cidr');
    for (let t = 0; t < 60; t++) {
      const input: AddressClass[] = [{ key: 'k', family: 4, cidrs: hosts4(rng, rng.int(2, 5), 16) }];
      const budget = rng.int(0, input[0]!.cidrs.length - 1);
      expectOptimal(input, budget, 'any-cidr', { minPrefix: { 4: rng.int(28, 31) } });
    }
  });

  it('finds the optimum for IPv6 under a /56-style limit', () => {
    const rng = makeRng('compaction-test/limit-ipv6');
    let impossible = 0;
    for (let t = 0; t < 150; t++) {
      const input = classes6(rng);
      const m = input.length;
      // An IPv4 limit must not touch IPv6 classes.
      const limit = rng.pick([48, 56, 56, 56, 60, 64, 120]);
      const options: CompactionOptions = { minPrefix: { 4: 32, 6: limit } };
      const n = distinctLeaves(input);
      if (n <= m) continue;
      const minimum = input.reduce((u, c) => u + minimumUnits(c, limit), 0);
      const budget = rng.int(0, n - 1);
      if (budget < minimum) impossible++;
      expectOptimal(input, budget, 'runs', options);
      if (budget < minimum) expect(compact(input, budget, options)).toEqual({ impossible: true, minimumBudget: minimum });
    }
    expect(impossible).toBeGreaterThan(20);
  });

  it('reports the minimum budget the limit imposes, and gives each class the budget the others leave it', () => {
    const input: AddressClass[] = [
      // /24 blocks 10.0.0 (two hosts), 10.0.1, 10.0.4, and a /23 input that may only stay: 4 CIDRs at least.
      { key: 'a', family: 4, cidrs: ['10.0.0.1', '10.0.0.2', '10.0.1.1', '10.0.2.0/23', '10.0.2.9', '10.0.4.5'] },
      // Two /56s: 2 at least.
      { key: 'b', family: 6, cidrs: ['2001:db8:0:1::1', '2001:db8:0:2::1', '2001:db8:0:100::1'] },
      { key: 'c', family: 4, cidrs: [] },
    ];
    const limits: CompactionOptions = { minPrefix: { 4: 24, 6: 56 } };
    expect(compact(input, 5, limits)).toEqual({ impossible: true, minimumBudget: 6 });
    expect(compact(input, 0, limits)).toEqual({ impossible: true, minimumBudget: 6 });
    // Without the limit one CIDR per class would do: 10.0.0.0/21 and 2001:db8::/55.
    expect(chosen(solved(compact(input, 2)))).toEqual({ a: ['10.0.0.0/21'], b: ['2001:db8::/55'], c: [] });
    const six = solved(compact(input, 6, limits));
    expectValid(input, six, 6);
    expectWithinLimit(input, six, limits);
    expect(chosen(six)).toEqual({
      a: ['10.0.0.0/30', '10.0.1.1/32', '10.0.2.0/23', '10.0.4.5/32'],
      b: ['2001:db8::/62', '2001:db8:0:100::1/128'],
      c: [],
    });
    expect(six.classes[0]!.cidrs[2]).toEqual({ cidr: '10.0.2.0/23', covers: ['10.0.2.0/23', '10.0.2.9/32'] });
    expect(six.extraAddresses).toBe(2n + (2n ** 66n - 2n));
    // One more unit: b splits its /62 (saving 2^66 - 2), not a its /30 (saving 2). b may use 3 = 7 - 4 units.
    const seven = solved(compact(input, 7, limits));
    expect(chosen(seven)).toEqual({
      a: ['10.0.0.0/30', '10.0.1.1/32', '10.0.2.0/23', '10.0.4.5/32'],
      b: ['2001:db8:0:1::1/128', '2001:db8:0:2::1/128', '2001:db8:0:100::1/128'],
      c: [],
    });
    expect(seven.extraAddresses).toBe(2n);
    // A class whose minimum exceeds one: its cap leaves room for the other's minimum and no more.
    const capped: AddressClass[] = [
      { key: 'x', family: 4, cidrs: ['10.0.0.1', '10.0.0.3', '10.0.1.1', '10.0.1.3', '10.0.2.1', '10.0.2.3'] },
      { key: 'y', family: 4, cidrs: ['10.1.0.0', '10.1.0.8', '10.1.0.16', '10.1.0.24'] },
    ];
    for (let budget = 0; budget <= 10; budget++) expectOptimal(capped, budget, 'runs', limits);
    expect(compact(capped, 3, limits)).toEqual({ impossible: true, minimumBudget: 4 });
    expect(chosen(solved(compact(capped, 4, limits)))).toEqual({ x: ['10.0.0.0/30', '10.0.1.0/30', '10.0.2.0/30'], y: ['10.1.0.0/27'] });
  });

  it('never chooses a CIDR broader than the limit on larger inputs; the limit never helps; more budget never hurts', () => {
    const rng = makeRng('compaction-test/limit-large');
    const input: AddressClass[] = [
      ...Array.from({ length: 3 }, (_, i) => ({
        key: `k${i}`,
        family: 4 as const,
        cidrs: Array.from({ length: 250 }, () => `${rng.pick([3, 13, 52, 104])}.0.${rng.int(0, 15)}.${rng.int(0, 255)}`),
      })),
      {
        key: 'k6',
        family: 6 as const,
        cidrs: Array.from(
          { length: 120 },
          () =>
            `2001:db8:${rng.int(0, 3).toString(16)}:${(rng.int(0, 3) * 256 + rng.int(0, 255)).toString(16)}::${rng.int(1, 255).toString(16)}`,
        ),
      },
    ];
    const limits: CompactionOptions = { minPrefix: { 4: 24, 6: 56 } };
    const minimum = input.reduce((u, c) => u + minimumUnits(c, c.family === 4 ? 24 : 56), 0);
    expect(minimum).toBeGreaterThan(100);
    expect(compact(input, minimum - 1, limits)).toEqual({ impossible: true, minimumBudget: minimum });
    let previous: bigint | undefined;
    for (const budget of [minimum, minimum + 1, minimum + 10, minimum + 60, distinctLeaves(input) - 1]) {
      const r = solved(compact(input, budget, limits));
      expectValid(input, r, budget);
      expectWithinLimit(input, r, limits);
      expect(r.extraAddresses).toBeGreaterThanOrEqual(solved(compact(input, budget)).extraAddresses);
      if (previous !== undefined) expect(r.extraAddresses).toBeLessThanOrEqual(previous);
      previous = r.extraAddresses;
    }
  });

  it('takes no limit, an empty one and a limit of 0 alike; a full-length limit merges nothing', () => {
    const rng = makeRng('compaction-test/limit-none');
    const input: AddressClass[] = [
      { key: 'a', family: 4, cidrs: hosts4(rng, 20, 256) },
      { key: 'b', family: 6, cidrs: ['2001:db8::1', '2001:db8::2', '2001:db8:1::/48'] },
    ];
    for (const budget of [2, 5, 12]) {
      const base = show(compact(input, budget));
      expect(show(compact(input, budget, {}))).toBe(base);
      expect(show(compact(input, budget, { minPrefix: {} }))).toBe(base);
      expect(show(compact(input, budget, { minPrefix: { 4: 0, 6: 0 } }))).toBe(base);
    }
    expect(compact(input, 22, { minPrefix: { 4: 32, 6: 128 } })).toEqual({ impossible: true, minimumBudget: 23 });
    expect(solved(compact(input, 23, { minPrefix: { 4: 32, 6: 128 } })).extraAddresses).toBe(0n);
  });

  it('refuses a limit that is not a prefix length of its family', () => {
    const input: AddressClass[] = [{ key: 'a', family: 4, cidrs: ['10.0.0.1'] }];
    expect(() => compact(input, 1, { minPrefix: { 4: 33 } })).toThrow(/minPrefix for IPv4/);
    expect(() => compact(input, 1, { minPrefix: { 6: 129 } })).toThrow(/minPrefix for IPv6/);
    expect(() => compact(input, 1, { minPrefix: { 4: -1 } })).toThrow(/minPrefix/);
    expect(() => compact(input, 1, { minPrefix: { 4: 24.5 } })).toThrow(/minPrefix/);
  });
});

describe('compact', () => {
  it('beats greedy pair merging where the cheapest first merge is the wrong one', () => {
    // Greedy merges .8 + .11 (adds 2), then .16 + .19 (adds 2), then folds .21 and .23 into 10.0.0.16/29 (adds 2):
    // 6 extra addresses. The optimum pays 4 once, for 10.0.0.16/29 holding four hosts, and keeps .8 and .11.
    const input: AddressClass[] = [
      { key: 'tcp|443', family: 4, cidrs: ['10.0.0.8', '10.0.0.11', '10.0.0.16', '10.0.0.19', '10.0.0.21', '10.0.0.23'] },
    ];
    const g = greedy(input, 3)!;
    expect(g.extra).toBe(6n);
    const r = solved(compact(input, 3));
    expect(chosen(r)).toEqual({ 'tcp|443': ['10.0.0.8/32', '10.0.0.11/32', '10.0.0.16/29'] });
    expect(r.extraAddresses).toBe(4n);
    expect(r.classes[0]!.cidrs[2]!.covers).toEqual(['10.0.0.16/32', '10.0.0.19/32', '10.0.0.21/32', '10.0.0.23/32']);
    expectOptimal(input, 3);
  });

  it('leaves the inputs untouched when the budget is at least the number of distinct non-nested CIDRs', () => {
    // 10.0.0.0 and 10.0.0.1 would merge into a /31 for free, but nothing asked for fewer rules. 192.0.2.9/24 is
    // 192.0.2.0/24 spelt with host bits: one input.
    const input: AddressClass[] = [
      { key: 'a', family: 4, cidrs: ['10.0.0.1', '10.0.0.0', '10.0.0.0/32', '192.0.2.9/24', '192.0.2.0/24', '192.0.2.7'] },
      { key: 'b', family: 6, cidrs: ['2001:db8::1', '2001:db8::/127'] },
    ];
    for (const budget of [4, 5, 60]) {
      const r = solved(compact(input, budget));
      expectValid(input, r, budget);
      expect(r.units).toBe(4);
      expect(r.extraAddresses).toBe(0n);
      expect(r.classes).toEqual([
        {
          key: 'a',
          extraAddresses: 0n,
          cidrs: [
            { cidr: '10.0.0.0/32', covers: ['10.0.0.0/32'] },
            { cidr: '10.0.0.1/32', covers: ['10.0.0.1/32'] },
            { cidr: '192.0.2.0/24', covers: ['192.0.2.0/24', '192.0.2.7/32'] },
          ],
        },
        { key: 'b', extraAddresses: 0n, cidrs: [{ cidr: '2001:db8::/127', covers: ['2001:db8::/127', '2001:db8::1/128'] }] },
      ]);
    }
  });

  it('merges for free first once it has to merge, and prefers fewer CIDRs on equal extra addresses', () => {
    const input: AddressClass[] = [{ key: 'a', family: 4, cidrs: ['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.9'] }];
    // Budget 4 < 5: the exact /30 costs nothing and takes one CIDR instead of four.
    expect(chosen(solved(compact(input, 4)))).toEqual({ a: ['10.0.0.0/30', '10.0.0.9/32'] });
    // .0 .3 .4 .7 with 2 CIDRs: 10.0.0.0/30 + 10.0.0.4/30 and 10.0.0.0/29 both admit 4 extra: one CIDR wins.
    const spread: AddressClass[] = [{ key: 'a', family: 4, cidrs: ['10.0.0.0', '10.0.0.3', '10.0.0.4', '10.0.0.7'] }];
    expect(chosen(solved(compact(spread, 2)))).toEqual({ a: ['10.0.0.0/29'] });
    // With 3: {0/30, .4, .7} and {.0, .3, 4/30} both admit 2; the first list is smaller (10.0.0.0/30 sorts
    // before 10.0.0.0/32).
    expect(chosen(solved(compact(spread, 3)))).toEqual({ a: ['10.0.0.0/30', '10.0.0.4/32', '10.0.0.7/32'] });
  });

  it('counts IPv6 extra addresses exactly', () => {
    const input: AddressClass[] = [{ key: 'v6', family: 6, cidrs: ['2001:db8::1', '2001:db8:0:1::1', '2001:db8:ffff::/48'] }];
    const r = solved(compact(input, 2));
    expectValid(input, r, 2);
    expect(chosen(r)).toEqual({ v6: ['2001:db8::/63', '2001:db8:ffff::/48'] });
    expect(r.extraAddresses).toBe(2n ** 65n - 2n);
    const one = solved(compact(input, 1));
    expect(chosen(one)).toEqual({ v6: ['2001:db8::/32'] });
    expect(one.extraAddresses).toBe(2n ** 96n - 2n - 2n ** 80n);
  });

  it('shares the budget between classes of both families', () => {
    const input: AddressClass[] = [
      { key: 'tcp|443|4', family: 4, cidrs: ['198.51.100.1', '198.51.100.2', '203.0.113.9'] },
      { key: 'tcp|443|6', family: 6, cidrs: ['2001:db8::1', '2001:db8::2', '2001:db8:1::1'] },
      { key: 'udp|53|4', family: 4, cidrs: [] },
    ];
    // Each class can save one CIDR for 2 extra addresses; to save a second, the IPv4 class pays 2^28 - 3 for
    // 192.0.0.0/4 and the IPv6 class 2^81 - 3: the IPv4 class gives in. (The totals add addresses of both
    // families as they are, so IPv6 weighs far more.)
    const r = solved(compact(input, 3));
    expectValid(input, r, 3);
    expect(r.extraAddresses).toBe(2n ** 28n - 3n + 2n);
    expect(chosen(r)).toEqual({
      'tcp|443|4': ['192.0.0.0/4'],
      'tcp|443|6': ['2001:db8::/126', '2001:db8:1::1/128'],
      'udp|53|4': [],
    });
    expectOptimal(input, 3);
    expectOptimal(input, 4);
  });

  it('reports an impossible budget with the minimum it needs (one per non-empty class)', () => {
    const input: AddressClass[] = [
      { key: 'a', family: 4, cidrs: ['10.0.0.1'] },
      { key: 'b', family: 4, cidrs: ['10.0.0.2', '10.0.0.3'] },
      { key: 'c', family: 6, cidrs: ['2001:db8::1'] },
      { key: 'd', family: 6, cidrs: [] },
    ];
    expect(compact(input, 2)).toEqual({ impossible: true, minimumBudget: 3 });
    expect(compact(input, 0)).toEqual({ impossible: true, minimumBudget: 3 });
    expect(chosen(solved(compact(input, 3)))).toEqual({ a: ['10.0.0.1/32'], b: ['10.0.0.2/31'], c: ['2001:db8::1/128'], d: [] });
    expect(compact([], 0)).toEqual({ classes: [], units: 0, extraAddresses: 0n });
    expect(compact([{ key: 'd', family: 4, cidrs: [] }], 0)).toEqual({
      classes: [{ key: 'd', cidrs: [], extraAddresses: 0n }],
      units: 0,
      extraAddresses: 0n,
    });
  });

  it('is deterministic: shuffled, duplicated or reordered input gives the same bytes', () => {
    const rng = makeRng('compaction-test/determinism');
    for (let t = 0; t < 40; t++) {
      const input: AddressClass[] = Array.from({ length: rng.int(1, 4) }, (_, i) => ({
        key: `k${i}`,
        family: 4 as const,
        cidrs: hosts4(rng, rng.int(1, 30), 256),
      }));
      const budget = rng.int(input.length, distinctLeaves(input));
      const base = compact(input, budget);
      const shuffled = input.map((c) => ({ ...c, cidrs: shuffle(rng, [...c.cidrs, ...c.cidrs.slice(0, 3)]) }));
      expect(show(compact(shuffled, budget))).toBe(show(base));
      // Reordering the classes reorders the output, nothing else.
      const reordered = solved(compact(shuffle(rng, shuffled), budget));
      const byKey = Object.fromEntries(reordered.classes.map((c) => [c.key, c]));
      expect(solved(base).classes.map((c) => byKey[c.key])).toEqual(solved(base).classes);
    }
  });

  it('breaks a tie between two classes by key, not by their order', () => {
    // Identical shapes: one of the two must give up a CIDR at the same cost; the smaller key does.
    const a: AddressClass = { key: 'tcp|443', family: 4, cidrs: ['10.0.0.0', '10.0.0.2'] };
    const b: AddressClass = { key: 'tcp|80', family: 4, cidrs: ['10.0.1.0', '10.0.1.2'] };
    const forward = chosen(solved(compact([a, b], 3)));
    const backward = chosen(solved(compact([b, a], 3)));
    expect(forward).toEqual(backward);
    expect(forward).toEqual({ 'tcp|443': ['10.0.0.0/30'], 'tcp|80': ['10.0.1.0/32', '10.0.1.2/32'] });
    expectOptimal([a, b], 3);
  });

  it('does better than or as well as greedy on a larger input, and never worse with more budget', () => {
    const rng = makeRng('compaction-test/large');
    const input: AddressClass[] = Array.from({ length: 4 }, (_, i) => ({
      key: `k${i}`,
      family: 4 as const,
      cidrs: Array.from({ length: 250 }, () => `${rng.pick([3, 13, 52, 104])}.${rng.int(0, 3)}.${rng.int(0, 255)}.${rng.int(0, 255)}`),
    }));
    let previous: bigint | undefined;
    for (const budget of [8, 20, 40, 60, 200]) {
      const r = solved(compact(input, budget));
      expectValid(input, r, budget);
      expect(r.extraAddresses).toBeLessThanOrEqual(greedy(input, budget)!.extra);
      if (previous !== undefined) expect(r.extraAddresses).toBeLessThanOrEqual(previous);
      previous = r.extraAddresses;
    }
  });

  it('refuses what it cannot compute', () => {
    expect(() => compact([{ key: 'a', family: 4, cidrs: ['2001:db8::1'] }], 1)).toThrow(/not an IPv4 CIDR/);
    expect(() => compact([{ key: 'a', family: 4, cidrs: ['10.0.0.300'] }], 1)).toThrow(/not an IPv4 CIDR/);
    expect(() =>
      compact(
        [
          { key: 'a', family: 4, cidrs: [] },
          { key: 'a', family: 4, cidrs: [] },
        ],
        1,
      ),
    ).toThrow(/twice/);
    expect(() => compact([], -1)).toThrow(/budget/);
    expect(() => compact([], 1.5)).toThrow(/budget/);
  });
});
