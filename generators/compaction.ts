/**
 * Exact quota compaction: merges the observed destination CIDRs of a security group's address classes (one
 * protocol, port range and address family each) into at most `budget` CIDRs in total, over-allowing the fewest
 * addresses. Exact, not greedy: a dynamic programme over each class's path-compressed address trie gives the
 * cheapest cover for every CIDR count, and a knapsack over the classes shares the budget. Pure, no IO.
 *
 * A width limit per family (`minPrefix`) keeps merges from producing CIDRs broader than the guard rails allow;
 * the optimum is then the optimum among covers that respect it, still exact.
 *
 * Ties are broken so the output is byte-stable: equal extra addresses -> fewer CIDRs -> the lexicographically
 * smaller list (classes taken in key order, each class's CIDRs in compareCidr order). Neither the order of the
 * classes nor the order or duplication of their CIDRs changes the result.
 */
import { bits, compareCidr, contains, formatCidr, parseCidr, size, type Cidr, type Family } from '../core/cidr.js';
import { LeastpathError } from '../core/errors.js';
import { compareText } from '../core/text.js';

/** One (protocol, port or port range, address family) and the destinations observed for it. */
export interface AddressClass {
  key: string;
  family: 4 | 6;
  /** CIDRs or bare addresses of `family`; duplicates and nested CIDRs are allowed. */
  cidrs: string[];
}

export interface CompactionOptions {
  /**
   * The shortest prefix length a merge may produce, per family (none when absent): a chosen CIDR of family f
   * that is not an input CIDR left as it is has a prefix length of at least minPrefix[f].
   */
  minPrefix?: { 4?: number; 6?: number };
}

interface CompactedClass {
  key: string;
  /** The chosen CIDRs in compareCidr order; `covers`: the input CIDRs (canonical text, compareCidr order) each stands for. */
  cidrs: { cidr: string; covers: string[] }[];
  /** Addresses the chosen CIDRs admit that no input CIDR does. */
  extraAddresses: bigint;
}

export interface CompactionResult {
  /** In input order. */
  classes: CompactedClass[];
  /** Chosen CIDRs over all classes (at most the budget). */
  units: number;
  extraAddresses: bigint;
}

/**
 * The budget is smaller than the fewest CIDRs any cover needs: one per non-empty class without a width limit;
 * with one, each class needs a CIDR per block of the limit's width holding some of its inputs, plus one per
 * non-nested input CIDR broader than the limit.
 */
interface CompactionImpossible {
  impossible: true;
  minimumBudget: number;
}

/**
 * Covers every class's CIDRs with at most `budget` CIDRs in total, minimising the addresses admitted that were
 * never observed. With a budget of at least the number of distinct non-nested input CIDRs nothing is merged;
 * below it, merges that cost nothing (two halves into their CIDR) come first, as fewer CIDRs win ties. Nested and
 * duplicate inputs are folded into the CIDR that holds them. A class without CIDRs takes no units and comes back
 * empty. Extra addresses of IPv4 and IPv6 classes are added as they are, so the budget goes where IPv6 would
 * otherwise over-allow.
 *
 * `options.minPrefix` bounds how wide a merge may go: no chosen CIDR of family f has a prefix length below
 * minPrefix[f] unless it is an input CIDR kept as it is (an input broader than the limit came from elsewhere and
 * is not widened further, nor merged with anything). In the trie a node shorter than the limit cannot be chosen
 * as one CIDR, so a class may need several: its minimum is 1 at a node the limit allows and the sum of its
 * children's minima below one it does not. The minimum budget is the sum of the classes' minima, and no class
 * can use more than the budget less the other classes' minima.
 *
 * Cost: O(n * cap) for the tries and O(classes * budget * cap) for the knapsack, cap = the largest budget a class
 * can use (budget - (classes - 1) without a width limit), n = input CIDRs; parsing the inputs (core/cidr.ts)
 * usually dominates.
 */
export function compact(
  classes: readonly AddressClass[],
  budget: number,
  options: CompactionOptions = {},
): CompactionResult | CompactionImpossible {
  if (!Number.isInteger(budget) || budget < 0) throw new LeastpathError(`compaction budget must be a whole number >= 0, not ${budget}`);
  const limits = widthLimits(options);
  const prepared = classes.map(prepareClass);
  const keys = new Set<string>();
  for (const c of prepared) {
    if (keys.has(c.key)) throw new LeastpathError(`compaction: class key ${c.key} appears twice`);
    keys.add(c.key);
  }

  const leafCount = prepared.reduce((n, c) => n + c.leaves.length, 0);
  if (budget >= leafCount) {
    // Everything fits as observed: merging now would over-allow (or merely regroup) for no quota gain.
    return assemble(prepared, new Map(prepared.map((c) => [c.key, c.leaves.map((_, i) => leafRange(c, i))])));
  }

  // Ties between classes go by key, not input order, so reordering the classes cannot change a class's result.
  const order = prepared.filter((c) => c.leaves.length > 0).sort((a, b) => compareText(a.key, b.key));
  const tries = order.map((c) => buildTrie(c.leaves, c.family, 0, c.leaves.length, limits[c.family]));
  const minimumBudget = tries.reduce((n, t) => n + t.min, 0);
  if (budget < minimumBudget) return { impossible: true, minimumBudget };

  // The other classes keep their minimum units at least, so no class can use more than what they leave.
  const solved = tries.map((t, i) => solveClass(t, order[i]!.family, budget - (minimumBudget - t.min)));
  const ks = shareBudget(solved, budget);

  const chosenByKey = new Map<string, Range[]>();
  order.forEach((c, i) => {
    const out: Range[] = [];
    collect(solved[i]!.root, ks[i]!, out);
    chosenByKey.set(c.key, out);
  });
  return assemble(prepared, chosenByKey);
}

/** The shortest prefix length a merge may produce, per family (0: any). */
function widthLimits(options: CompactionOptions): Record<Family, number> {
  const limits: Record<Family, number> = { 4: 0, 6: 0 };
  for (const family of [4, 6] as const) {
    const limit = options.minPrefix?.[family];
    if (limit === undefined) continue;
    if (!Number.isInteger(limit) || limit < 0 || limit > bits(family)) {
      throw new LeastpathError(`compaction: minPrefix for IPv${family} must be a whole number from 0 to ${bits(family)}, not ${limit}`);
    }
    limits[family] = limit;
  }
  return limits;
}

// ---------------------------------------------------------------------------------------------------------------
// Normalisation

/** A non-nested input CIDR and the distinct input CIDRs it stands for (itself first, then those nested in it). */
interface Leaf {
  cidr: Cidr;
  covers: Cidr[];
}

interface PreparedClass {
  key: string;
  family: Family;
  /** Disjoint, in address order. */
  leaves: Leaf[];
}

function prepareClass(c: AddressClass): PreparedClass {
  if (c.family !== 4 && c.family !== 6) throw new LeastpathError(`compaction: class ${c.key} has family ${String(c.family)}, not 4 or 6`);
  const parsed: Cidr[] = [];
  for (const text of c.cidrs) {
    const cidr = parseCidr(text);
    if (!cidr || cidr.family !== c.family) {
      throw new LeastpathError(`compaction: ${JSON.stringify(text)} in class ${c.key} is not an IPv${c.family} CIDR`);
    }
    parsed.push(cidr);
  }
  parsed.sort(compareCidr);
  // Sorted by network then prefix, a CIDR is nested in an earlier one exactly when it is nested in the last kept
  // one: kept CIDRs are disjoint, so any other candidate container would itself contain the last kept CIDR.
  const leaves: Leaf[] = [];
  for (const cidr of parsed) {
    const last = leaves[leaves.length - 1];
    if (last && contains(last.cidr, cidr)) {
      const prev = last.covers[last.covers.length - 1]!;
      if (prev.text !== cidr.text) last.covers.push(cidr);
    } else {
      leaves.push({ cidr, covers: [cidr] });
    }
  }
  return { key: c.key, family: c.family, leaves };
}

// ---------------------------------------------------------------------------------------------------------------
// Per class: the trie and f(node, k)

/** A chosen CIDR: a prefix and the leaves [lo, hi) of its class it covers. */
interface Range {
  network: bigint;
  prefix: number;
  lo: number;
  hi: number;
  covered: bigint;
}

/** A node of the path-compressed trie: its prefix is the longest common prefix of its leaves. */
interface TrieNode extends Range {
  left?: TrieNode;
  right?: TrieNode;
  /**
   * The fewest CIDRs that cover the subtree within the width limit: 1 at a leaf or where the node itself may be
   * chosen, else the children's sum. Exactly the counts min..leaves (up to the cap) are feasible: by induction,
   * the children's feasible counts are such ranges, so their sums are too, and a node the limit allows has
   * children it allows as well (minimum 1 each) so the sums start at 2.
   */
  min: number;
  /** split[k], k >= max(2, min): CIDRs the best k-CIDR cover gives the left child (set by solveNode). */
  split: Int32Array;
}

/**
 * Best covers of a subtree for k = min..table size: extra[k], and rank[k] = order of their lex keys (lower
 * first). Entries below min are infeasible and never read.
 */
interface Table {
  extra: bigint[];
  rank: Int32Array;
}

interface SolvedClass {
  root: TrieNode;
  /** cost[k]: the fewest extra addresses with exactly k CIDRs, k = root.min..min(leaves, cap). */
  cost: bigint[];
  /** rank[k]: the order of those covers' CIDR lists, lexicographically (lower first). */
  rank: Int32Array;
}

const NO_SPLIT = new Int32Array(0);

function solveClass(root: TrieNode, family: Family, cap: number): SolvedClass {
  const table = solveNode(root, family, cap);
  return { root, cost: table.extra, rank: table.rank };
}

function leafRange(c: PreparedClass, i: number): Range {
  const cidr = c.leaves[i]!.cidr;
  return { network: cidr.network, prefix: cidr.prefix, lo: i, hi: i + 1, covered: size(cidr) };
}

/**
 * Builds the subtree of leaves [lo, hi) and the fewest CIDRs covering it with no chosen node shorter than
 * `limit` (a leaf is an input and may always stay). Depth is bounded by the address width (32 or 128), so
 * recursion is safe.
 */
function buildTrie(leaves: readonly Leaf[], family: Family, lo: number, hi: number, limit: number): TrieNode {
  if (hi - lo === 1) {
    const cidr = leaves[lo]!.cidr;
    return { network: cidr.network, prefix: cidr.prefix, lo, hi, covered: size(cidr), min: 1, split: NO_SPLIT };
  }
  const width = bits(family);
  const first = leaves[lo]!.cidr.network;
  const last = leaves[hi - 1]!.cidr.network;
  // Leaves are disjoint and sorted, so the common prefix of the range is that of its first and last networks,
  // and it is shorter than every leaf's prefix (otherwise one leaf would contain another): an inner node is
  // never an input.
  const prefix = width - bitLength(first ^ last);
  const hostBits = BigInt(width - prefix);
  const network = (first >> hostBits) << hostBits;
  // The first leaf whose bit after the common prefix is 1 starts the right child.
  const bit = hostBits - 1n;
  let a = lo + 1;
  let b = hi - 1;
  while (a < b) {
    const m = (a + b) >> 1;
    if ((leaves[m]!.cidr.network >> bit) & 1n) b = m;
    else a = m + 1;
  }
  const left = buildTrie(leaves, family, lo, a, limit);
  const right = buildTrie(leaves, family, a, hi, limit);
  const min = prefix >= limit ? 1 : left.min + right.min;
  return { network, prefix, lo, hi, covered: left.covered + right.covered, left, right, min, split: NO_SPLIT };
}

/**
 * The table of a subtree for counts up to `cap`, recording the split choices in the nodes. Children's tables are
 * dropped once combined. Every node's minimum is at most the root's, which is at most the cap.
 */
function solveNode(node: TrieNode, family: Family, cap: number): Table {
  const { left, right } = node;
  if (!left || !right) return { extra: [0n, 0n], rank: new Int32Array(2) };
  const l = solveNode(left, family, cap);
  const r = solveNode(right, family, cap);
  const n = Math.min(node.hi - node.lo, cap);
  const extra: bigint[] = new Array<bigint>(n + 1).fill(0n);
  const split = new Int32Array(n + 1);
  // One CIDR is the node itself, when the width limit allows it (min 1 at an inner node means just that).
  if (node.min === 1) extra[1] = size({ family, prefix: node.prefix }) - node.covered;
  const le = l.extra;
  const lr = l.rank;
  const re = r.extra;
  const rr = r.rank;
  const na = le.length - 1;
  const nb = re.length - 1;
  // k >= 2 CIDRs cannot include this node, so they split between the children, each given a count it can
  // cover. Bounding i + j by n keeps the total work O(leaves * cap) (the usual tree-knapsack argument).
  for (let i = left.min; i <= na && i + right.min <= n; i++) {
    const ei = le[i]!;
    const ri = lr[i]!;
    const jMax = Math.min(nb, n - i);
    for (let j = right.min; j <= jMax; j++) {
      const k = i + j;
      const e = ei + re[j]!;
      const cur = split[k]!;
      if (cur === 0 || e < extra[k]! || (e === extra[k] && (ri < lr[cur]! || (ri === lr[cur] && rr[j]! < rr[k - cur]!)))) {
        extra[k] = e;
        split[k] = i;
      }
    }
  }
  node.split = split;
  return { extra, rank: rankCovers(split, lr, rr, node.min, n) };
}

/**
 * Orders the node's best covers (one per feasible k) lexicographically by CIDR list. Two covers of the same
 * leaves first differ where they cover the same leaf with different ancestors of it, and the wider one sorts
 * first under compareCidr; so a cover's list compares like the vector of prefix lengths it gives the leaves in
 * address order. That vector is the left child's followed by the right child's, of fixed lengths, so comparing
 * (left rank, right rank) is exact. The node alone (k = 1, when allowed) gives every leaf the shortest prefix
 * and comes first.
 */
function rankCovers(split: Int32Array, lr: Int32Array, rr: Int32Array, min: number, n: number): Int32Array {
  const ks: number[] = [];
  for (let k = Math.max(2, min); k <= n; k++) ks.push(k);
  ks.sort((x, y) => lr[split[x]!]! - lr[split[y]!]! || rr[x - split[x]!]! - rr[y - split[y]!]!);
  const rank = new Int32Array(n + 1);
  ks.forEach((k, i) => {
    rank[k] = i + 1;
  });
  return rank;
}

function collect(node: TrieNode, k: number, out: Range[]): void {
  if (k === 1) {
    out.push(node);
    return;
  }
  const i = node.split[k]!;
  collect(node.left!, i, out);
  collect(node.right!, k - i, out);
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

// ---------------------------------------------------------------------------------------------------------------
// Across classes: the knapsack

/**
 * CIDRs per class (in the order given) using at most `budget` in total: the fewest extra addresses, then the
 * fewest CIDRs, then the lexicographically smallest lists, class by class. best[c][u] is the fewest extra addresses
 * of classes c.. with exactly u CIDRs, so the choice can be made front to back with the classes after c still
 * able to reach the optimum. Counts below a class's minimum are infeasible (their table entries are placeholders)
 * and skipped. O(classes * budget * cap).
 */
function shareBudget(solved: readonly SolvedClass[], budget: number): number[] {
  const m = solved.length;
  const best: (bigint | undefined)[][] = Array.from({ length: m + 1 }, () => new Array<bigint | undefined>(budget + 1));
  best[m]![0] = 0n;
  for (let c = m - 1; c >= 0; c--) {
    const { root, cost } = solved[c]!;
    const next = best[c + 1]!;
    const row = best[c]!;
    for (let u = root.min; u <= budget; u++) {
      let min: bigint | undefined;
      for (let k = root.min; k < cost.length && k <= u; k++) {
        const rest = next[u - k];
        if (rest === undefined) continue;
        const e = cost[k]! + rest;
        if (min === undefined || e < min) min = e;
      }
      row[u] = min;
    }
  }
  let units = -1;
  for (let u = 0; u <= budget; u++) {
    const e = best[0]![u];
    if (e !== undefined && (units < 0 || e < best[0]![units]!)) units = u;
  }
  const ks: number[] = [];
  for (let c = 0; c < m; c++) {
    const { root, cost, rank } = solved[c]!;
    const target = best[c]![units]!;
    let pick = 0;
    for (let k = root.min; k < cost.length && k <= units; k++) {
      const rest = best[c + 1]![units - k];
      if (rest === undefined || cost[k]! + rest !== target) continue;
      if (pick === 0 || rank[k]! < rank[pick]!) pick = k;
    }
    ks.push(pick);
    units -= pick;
  }
  return ks;
}

// ---------------------------------------------------------------------------------------------------------------
// Output

function assemble(classes: readonly PreparedClass[], chosen: ReadonlyMap<string, readonly Range[]>): CompactionResult {
  let units = 0;
  let extraAddresses = 0n;
  const out = classes.map((c): CompactedClass => {
    let extra = 0n;
    const cidrs = (chosen.get(c.key) ?? []).map((r) => {
      extra += size({ family: c.family, prefix: r.prefix }) - r.covered;
      // Leaves are in address order and each lists itself before what is nested in it: compareCidr order.
      const covers = c.leaves.slice(r.lo, r.hi).flatMap((leaf) => leaf.covers.map((x) => x.text));
      return { cidr: formatCidr(c.family, r.network, r.prefix), covers };
    });
    units += cidrs.length;
    extraAddresses += extra;
    return { key: c.key, cidrs, extraAddresses: extra };
  });
  return { classes: out, units, extraAddresses };
}
