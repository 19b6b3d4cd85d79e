/**
 * The baseline the exact compaction is measured against: greedy pair merging. While the classes hold more CIDRs
 * than the budget, merge the pair of CIDRs (of one class) whose merge adds the fewest addresses; the merged CIDR
 * is the smallest one holding both and absorbs every CIDR inside it. Uses only core/cidr.ts.
 *
 * Merging two adjacent CIDRs yields the lowest common ancestor of the two in the class's address trie (and any
 * pair yields the same CIDR as some adjacent pair), so the candidates are the trie nodes above the current cut.
 * A merge changes the cost only of its ancestors (at most 32 or 128), which keeps this O(n * width * log n).
 */
import { bits, compareCidr, contains, formatCidr, parseCidr, size, type Cidr, type Family } from '../../core/cidr.js';

export interface GreedyClass {
  key: string;
  family: Family;
  cidrs: string[];
}

export interface GreedyResult {
  /** By class key: chosen CIDRs (canonical text, compareCidr order). */
  classes: Map<string, string[]>;
  units: number;
  extra: bigint;
}

interface Node {
  cls: number;
  network: bigint;
  prefix: number;
  /** Addresses of the input CIDRs below. */
  covered: bigint;
  parent?: Node;
  left?: Node;
  right?: Node;
  /** Current cut: this node is chosen (true), or the cut lies below it (false), or above it (dead). */
  state: 'below' | 'chosen' | 'dead';
  /** Cut nodes below (1 when chosen). */
  units: number;
  /** Extra addresses of the cut nodes below. */
  extra: bigint;
  version: number;
}

interface Candidate {
  node: Node;
  added: bigint;
  saves: number;
  version: number;
}

function before(a: Candidate, b: Candidate): boolean {
  if (a.added !== b.added) return a.added < b.added;
  if (a.saves !== b.saves) return a.saves > b.saves;
  if (a.node.cls !== b.node.cls) return a.node.cls < b.node.cls;
  if (a.node.network !== b.node.network) return a.node.network < b.node.network;
  return a.node.prefix < b.node.prefix;
}

/** A binary min-heap of candidates. */
class Heap {
  private items: Candidate[] = [];
  get length(): number {
    return this.items.length;
  }
  push(c: Candidate): void {
    const a = this.items;
    a.push(c);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Candidate | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function build(cls: number, family: Family, leaves: readonly Cidr[], lo: number, hi: number): Node {
  if (hi - lo === 1) {
    const c = leaves[lo]!;
    return { cls, network: c.network, prefix: c.prefix, covered: size(c), state: 'chosen', units: 1, extra: 0n, version: 0 };
  }
  const width = bits(family);
  const x = leaves[lo]!.network ^ leaves[hi - 1]!.network;
  const prefix = width - x.toString(2).length;
  const shift = BigInt(width - prefix);
  let mid = lo + 1;
  while (((leaves[mid]!.network >> (shift - 1n)) & 1n) === 0n) mid++;
  const left = build(cls, family, leaves, lo, mid);
  const right = build(cls, family, leaves, mid, hi);
  const node: Node = {
    cls,
    network: (leaves[lo]!.network >> shift) << shift,
    prefix,
    covered: left.covered + right.covered,
    left,
    right,
    state: 'below',
    units: left.units + right.units,
    extra: 0n,
    version: 0,
  };
  left.parent = node;
  right.parent = node;
  return node;
}

/** Greedy merging within `budget` CIDRs in total; undefined when the budget is below the number of classes. */
export function greedy(classes: readonly GreedyClass[], budget: number): GreedyResult | undefined {
  const roots: (Node | undefined)[] = [];
  const families: Family[] = [];
  classes.forEach((c, i) => {
    const parsed = c.cidrs.map((t) => parseCidr(t)!).sort(compareCidr);
    const leaves: Cidr[] = [];
    for (const p of parsed) if (!leaves.length || !contains(leaves[leaves.length - 1]!, p)) leaves.push(p);
    roots.push(leaves.length ? build(i, c.family, leaves, 0, leaves.length) : undefined);
    families.push(c.family);
  });
  if (budget < roots.filter(Boolean).length) return undefined;
  let units = roots.reduce((n, r) => n + (r?.units ?? 0), 0);
  const heap = new Heap();
  const candidate = (n: Node): Candidate => {
    const own = size({ family: families[n.cls]!, prefix: n.prefix }) - n.covered;
    return { node: n, added: own - n.extra, saves: n.units - 1, version: n.version };
  };
  const internal = (n: Node | undefined, out: Node[]): Node[] => {
    if (n?.left && n.right) {
      out.push(n);
      internal(n.left, out);
      internal(n.right, out);
    }
    return out;
  };
  for (const r of roots) for (const n of internal(r, [])) heap.push(candidate(n));
  const kill = (n: Node | undefined): void => {
    if (!n || n.state === 'dead') return;
    n.state = 'dead';
    kill(n.left);
    kill(n.right);
  };
  while (units > budget && heap.length > 0) {
    const c = heap.pop()!;
    const n = c.node;
    if (n.state !== 'below' || c.version !== n.version) continue;
    units -= c.saves;
    kill(n.left);
    kill(n.right);
    n.state = 'chosen';
    const dUnits = c.saves;
    const dExtra = c.added;
    n.units = 1;
    n.extra += dExtra;
    for (let a = n.parent; a; a = a.parent) {
      a.units -= dUnits;
      a.extra += dExtra;
      a.version++;
      heap.push(candidate(a));
    }
  }
  const out = new Map<string, string[]>();
  let extra = 0n;
  const cut = (n: Node | undefined, acc: string[]): string[] => {
    if (!n) return acc;
    if (n.state === 'chosen') {
      acc.push(formatCidr(families[n.cls]!, n.network, n.prefix));
      extra += size({ family: families[n.cls]!, prefix: n.prefix }) - n.covered;
      return acc;
    }
    cut(n.left, acc);
    cut(n.right, acc);
    return acc;
  };
  classes.forEach((c, i) => out.set(c.key, cut(roots[i], [])));
  return { classes: out, units, extra };
}
