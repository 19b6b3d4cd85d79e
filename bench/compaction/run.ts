/**
 * Compaction bench (not a test): exact compaction against the greedy baseline on deterministic inputs of
 * thousands of addresses, and against the brute force on small ones; then again under the guard rails' width
 * limits (/24 IPv4, /56 IPv6, as the resolver passes them). Each large case runs in its own process so that its
 * time is a cold start like the resolver's and its memory figures are its own.
 *
 * Usage: npm run bench:compaction            (every case, prints the tables)
 *        node --import tsx bench/compaction/run.ts --case <scenario> --budget <n> [--limited]   (one case, one JSON line)
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { parseCidr } from '../../core/cidr.js';
import { makeRng } from '../../examples/scenario.js';
import { compact, type AddressClass, type CompactionOptions } from '../../generators/compaction.js';
import { bruteForce } from './brute-force.js';
import { generate, type Scenario } from './generate.js';
import { greedy } from './greedy.js';

const SCENARIOS: Scenario[] = [
  { name: 'v4-1k-1c', addresses: 1_000, classes: 1, family: 4, clustered: 0.98 },
  { name: 'v4-5k-5c', addresses: 5_000, classes: 5, family: 4, clustered: 0.98 },
  { name: 'v4-20k-1c', addresses: 20_000, classes: 1, family: 4, clustered: 0.98 },
  { name: 'v4-20k-20c', addresses: 20_000, classes: 20, family: 4, clustered: 0.98 },
  { name: 'v6-1k-3c', addresses: 1_000, classes: 3, family: 6, clustered: 0.98 },
  { name: 'v6-20k-5c', addresses: 20_000, classes: 5, family: 6, clustered: 0.98 },
  { name: 'mixed-20k-20c', addresses: 20_000, classes: 20, family: 'mixed', clustered: 0.98 },
];
const BUDGETS = [60, 40, 20];
/** One larger budget to show the O(addresses * budget) term. */
const EXTRA_CASES: [string, number][] = [
  ['v4-20k-1c', 500],
  ['v6-20k-5c', 500],
];
/** The guard rails' default exception thresholds: what resolve's fitQuota passes. */
const LIMITS: CompactionOptions = { minPrefix: { 4: 24, 6: 56 } };
/** Under the limits, budgets relative to each scenario's minimum are run too (the fixed ones are often below it). */
const ABOVE_MINIMUM = [0, 40];

interface CaseResult {
  scenario: string;
  budget: number;
  /** Run under LIMITS; minimumBudget is the fewest units they allow (1 per class without them). */
  limited: boolean;
  minimumBudget: number;
  /** The budget is below minimumBudget (then units, extra and widest are '-'). */
  impossible: boolean;
  addresses: number;
  classes: number;
  /** First call in the process (what the resolver pays). */
  ms: number;
  /** Best of five further calls, and of five runs of just the parseCidr calls it makes. */
  warmMs: number;
  parseMs: number;
  units: number;
  extra: string;
  /** Shortest prefix chosen per family ('-' when none). */
  widest4: string;
  widest6: string;
  /** Without the limits at the same budget (limited runs only, '-' when there is none). */
  unlimitedExtra: string;
  /** Greedy has no width limit: limited runs leave these at 0 / '-'. */
  greedyMs: number;
  greedyUnits: number;
  greedyExtra: string;
  heapMiB: number;
  peakRssDeltaMiB: number;
}

function widest(classes: readonly AddressClass[], chosen: readonly { cidrs: { cidr: string }[] }[], family: 4 | 6): string {
  let best: number | undefined;
  chosen.forEach((c, i) => {
    if (classes[i]!.family !== family) return;
    for (const x of c.cidrs) best = Math.min(best ?? 999, Number(x.cidr.split('/')[1]));
  });
  return best === undefined ? '-' : `/${best}`;
}

function runCase(name: string, budget: number, limited: boolean): CaseResult {
  const scenario = SCENARIOS.find((s) => s.name === name);
  if (!scenario) throw new Error(`unknown scenario ${name}`);
  const classes = generate(scenario);
  const options = limited ? LIMITS : {};
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const result = compact(classes, budget, options);
  const ms = performance.now() - t0;
  const heapMiB = getHeapStatistics().total_heap_size / 2 ** 20;
  const peakRssDeltaMiB = (process.resourceUsage().maxRSS * 1024 - rssBefore) / 2 ** 20;
  if (!limited && 'impossible' in result) throw new Error(`${name} budget ${budget}: impossible`);
  const warmMs = bestOf(5, () => compact(classes, budget, options));
  const parseMs = bestOf(5, () => {
    for (const c of classes) for (const x of c.cidrs) parseCidr(x);
  });
  const base = {
    scenario: name,
    budget,
    limited,
    addresses: classes.reduce((n, c) => n + c.cidrs.length, 0),
    classes: classes.length,
    ms,
    warmMs,
    parseMs,
    heapMiB,
    peakRssDeltaMiB,
  };
  if ('impossible' in result) {
    const unlimited = compact(classes, budget);
    return {
      ...base,
      minimumBudget: result.minimumBudget,
      impossible: true,
      units: 0,
      extra: '-',
      widest4: '-',
      widest6: '-',
      unlimitedExtra: 'impossible' in unlimited ? '-' : unlimited.extraAddresses.toString(),
      greedyMs: 0,
      greedyUnits: 0,
      greedyExtra: '-',
    };
  }
  const minimum = compact(classes, 0, options);
  const minimumBudget = 'impossible' in minimum ? minimum.minimumBudget : 0;
  const common = {
    ...base,
    minimumBudget,
    impossible: false,
    units: result.units,
    extra: result.extraAddresses.toString(),
    widest4: widest(classes, result.classes, 4),
    widest6: widest(classes, result.classes, 6),
  };
  if (limited) {
    const unlimited = compact(classes, budget);
    if ('impossible' in unlimited) throw new Error(`${name} budget ${budget}: impossible without limits`);
    return { ...common, unlimitedExtra: unlimited.extraAddresses.toString(), greedyMs: 0, greedyUnits: 0, greedyExtra: '-' };
  }
  const t2 = performance.now();
  const g = greedy(classes, budget);
  const greedyMs = performance.now() - t2;
  if (!g) throw new Error('greedy: impossible');
  return { ...common, unlimitedExtra: '-', greedyMs, greedyUnits: g.units, greedyExtra: g.extra.toString() };
}

/** The shortest of `n` timed runs (ms): the machine is shared, so the minimum is the least noisy figure. */
function bestOf(n: number, f: () => unknown): number {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    f();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

/** a / b to three places, for bigints of any size; 'n/a' when b is 0 (then a is 0 too for an optimum). */
function ratio(a: bigint, b: bigint): string {
  if (b === 0n) return a === 0n ? '1.000' : 'inf';
  return (Number((a * 1000n) / b) / 1000).toFixed(3);
}

/** Extra addresses in a short form: exact below 1e9, else a power of two. */
function short(x: bigint): string {
  if (x < 1_000_000_000n) return x.toString();
  return `2^${Math.log2(Number(x)).toFixed(1)}`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** The small cases' limits: the guard rails' /24 and /56 never bind inside one /24 or /56, these do. */
const SMALL_LIMITS: CompactionOptions = { minPrefix: { 4: 28, 6: 124 } };

function smallCases(): string {
  const rng = makeRng('leastpath-bench-compaction/small');
  const cases: { family: 4 | 6; classes: AddressClass[]; budget: number }[] = [
    // The greedy trap of the tests: the cheapest first merge (.8 + .11) is the wrong one.
    {
      family: 4,
      budget: 3,
      classes: [{ key: 'c0', family: 4, cidrs: ['192.0.2.8', '192.0.2.11', '192.0.2.16', '192.0.2.19', '192.0.2.21', '192.0.2.23'] }],
    },
  ];
  while (cases.length < 16) {
    const m = rng.int(1, 2);
    const family = rng.chance(0.5) ? 4 : 6;
    const classes: AddressClass[] = [];
    for (let c = 0; c < m; c++) {
      const set = new Set<string>();
      const n = rng.int(Math.floor(8 / m), Math.floor(12 / m));
      while (set.size < n) {
        const v = rng.int(0, 63);
        set.add(family === 4 ? `192.0.2.${v}/32` : `2001:db8::${v.toString(16)}/128`);
      }
      classes.push({ key: `c${c}`, family, cidrs: [...set] });
    }
    const leaves = classes.reduce((n, c) => n + c.cidrs.length, 0);
    cases.push({ family, classes, budget: rng.int(m, leaves - 1) });
  }
  const rows = cases.map(({ family, classes, budget }, i) => {
    const exact = compact(classes, budget);
    const brute = bruteForce(classes, budget);
    const g = greedy(classes, budget)!;
    if ('impossible' in exact || 'impossible' in brute) throw new Error('small case impossible');
    const limited = compact(classes, budget, SMALL_LIMITS);
    const limitedBrute = bruteForce(classes, budget, 'runs', SMALL_LIMITS);
    let lim: string[];
    if ('impossible' in limited || 'impossible' in limitedBrute) {
      if (!('impossible' in limited && 'impossible' in limitedBrute && limited.minimumBudget === limitedBrute.minimumBudget)) {
        throw new Error(`small case ${i}: the limited result and the brute force disagree on feasibility`);
      }
      lim = [String(limited.minimumBudget), '-', 'impossible', 'impossible', '-'];
    } else {
      const same = limited.classes.every(
        (c) => JSON.stringify(c.cidrs.map((x) => x.cidr)) === JSON.stringify(limitedBrute.classes.get(c.key)!.cidrs),
      );
      if (!same) throw new Error(`small case ${i}: the limited result and the brute force chose different CIDRs`);
      const minimum = compact(classes, 0, SMALL_LIMITS);
      lim = [
        String('impossible' in minimum ? minimum.minimumBudget : 0),
        String(limited.units),
        short(limited.extraAddresses),
        short(limitedBrute.extra),
        ratio(limited.extraAddresses, limitedBrute.extra),
      ];
    }
    return [
      String(i),
      `IPv${family}`,
      String(classes.length),
      String(classes.reduce((n, c) => n + c.cidrs.length, 0)),
      String(budget),
      String(exact.units),
      short(exact.extraAddresses),
      short(brute.extra),
      ratio(exact.extraAddresses, brute.extra),
      short(g.extra),
      ratio(g.extra, brute.extra),
      ...lim,
    ];
  });
  return table(
    [
      'case',
      'family',
      'classes',
      'addresses',
      'budget',
      'units',
      'extra',
      'brute extra',
      'exact/brute',
      'greedy extra',
      'greedy/brute',
      'lim minimum',
      'lim units',
      'lim extra',
      'lim brute extra',
      'lim exact/brute',
    ],
    rows,
  );
}

function runChild(self: string, name: string, budget: number, limited: boolean): CaseResult {
  const args = ['--expose-gc', '--import', 'tsx', self, '--case', name, '--budget', String(budget), ...(limited ? ['--limited'] : [])];
  const r = JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })) as CaseResult;
  console.error(
    `${name} budget ${budget}${limited ? ' limited' : ''}: ${r.ms.toFixed(0)} ms${r.impossible ? ` (impossible, needs ${r.minimumBudget})` : ''}`,
  );
  return r;
}

function main(): void {
  const args = process.argv.slice(2);
  const at = args.indexOf('--case');
  if (at >= 0) {
    const budget = Number(args[args.indexOf('--budget') + 1]);
    process.stdout.write(`${JSON.stringify(runCase(args[at + 1]!, budget, args.includes('--limited')))}\n`);
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const cases: [string, number][] = [...SCENARIOS.flatMap((s) => BUDGETS.map((b): [string, number] => [s.name, b])), ...EXTRA_CASES];
  const rows: string[][] = [];
  for (const [name, budget] of cases) {
    const r = runChild(self, name, budget, false);
    const extra = BigInt(r.extra);
    const gExtra = BigInt(r.greedyExtra);
    rows.push([
      r.scenario,
      String(r.addresses),
      String(r.classes),
      String(r.budget),
      r.ms.toFixed(0),
      r.warmMs.toFixed(0),
      r.parseMs.toFixed(0),
      (r.warmMs - r.parseMs).toFixed(0),
      String(r.units),
      short(extra),
      r.widest4,
      r.widest6,
      '1.000',
      r.greedyMs.toFixed(0),
      String(r.greedyUnits),
      short(gExtra),
      ratio(gExtra, extra),
      r.heapMiB.toFixed(1),
      r.peakRssDeltaMiB.toFixed(1),
    ]);
  }

  // Under the limits: the fixed budgets first (they report each scenario's minimum), then budgets above it.
  const limitedRows: string[][] = [];
  const seen = new Set<string>();
  const limitedCases: [string, number][] = [...cases];
  for (let i = 0; i < limitedCases.length; i++) {
    const [name, budget] = limitedCases[i]!;
    const r = runChild(self, name, budget, true);
    if (!seen.has(name)) {
      seen.add(name);
      for (const above of ABOVE_MINIMUM) limitedCases.push([name, r.minimumBudget + above]);
    }
    limitedRows.push([
      r.scenario,
      String(r.addresses),
      String(r.classes),
      String(r.budget),
      String(r.minimumBudget),
      r.ms.toFixed(0),
      r.warmMs.toFixed(0),
      r.parseMs.toFixed(0),
      (r.warmMs - r.parseMs).toFixed(0),
      r.impossible ? '-' : String(r.units),
      r.impossible ? 'impossible' : short(BigInt(r.extra)),
      r.widest4,
      r.widest6,
      r.unlimitedExtra === '-' ? '-' : short(BigInt(r.unlimitedExtra)),
      r.impossible || r.unlimitedExtra === '-' ? '-' : ratio(BigInt(r.extra), BigInt(r.unlimitedExtra)),
      r.heapMiB.toFixed(1),
      r.peakRssDeltaMiB.toFixed(1),
    ]);
  }

  console.log('Exact compaction vs greedy pair merging. Each row is a fresh process: cold ms = the first call of compact;');
  console.log('warm ms = best of five more; parse ms = best of five runs of the parseCidr calls compact makes; trie+DP ms =');
  console.log('warm - parse. ratio = extra addresses / the exact optimum. heap = committed V8 heap after the first call;');
  console.log('peak dRSS = growth of the peak resident set during it. widest = the shortest prefix chosen per family.\n');
  console.log(
    table(
      [
        'scenario',
        'addresses',
        'classes',
        'budget',
        'cold ms',
        'warm ms',
        'parse ms',
        'trie+DP ms',
        'units',
        'extra',
        'widest v4',
        'widest v6',
        'exact/opt',
        'greedy ms',
        'greedy units',
        'greedy extra',
        'greedy/opt',
        'heap MiB',
        'peak dRSS MiB',
      ],
      rows,
    ),
  );
  console.log('\nUnder the guard-rail width limits (no merge broader than /24 IPv4 or /56 IPv6), as resolve passes them. minimum =');
  console.log('the fewest units the limits allow; below it compact reports impossible (cold ms is then the time to find that out).');
  console.log('Budgets min+N are relative to that minimum. unlimited extra = the optimum at the same budget without the limits.\n');
  console.log(
    table(
      [
        'scenario',
        'addresses',
        'classes',
        'budget',
        'minimum',
        'cold ms',
        'warm ms',
        'parse ms',
        'trie+DP ms',
        'units',
        'extra',
        'widest v4',
        'widest v6',
        'unlimited extra',
        'extra/unlimited',
        'heap MiB',
        'peak dRSS MiB',
      ],
      limitedRows,
    ),
  );
  console.log('\nSmall cases against the brute force (every cover enumerated; exact/brute must be 1.000). lim = under width limits of');
  console.log('/28 (IPv4) and /124 (IPv6), which bind inside these 64-address ranges where /24 and /56 cannot; the brute force');
  console.log('enumerates only covers within them, and must agree on the minimum and the CIDRs chosen.\n');
  console.log(smallCases());
}

main();
