import { compact as oldCompact } from './_old.js';
import { compact as newCompact } from '../../generators/compaction.js';
import { generate } from './generate.js';
const show = (r: unknown) => JSON.stringify(r, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
const scen = [
  { name: 'v4-20k-1c', addresses: 20_000, classes: 1, family: 4 as const, clustered: 0.98 },
  { name: 'v4-20k-20c', addresses: 20_000, classes: 20, family: 4 as const, clustered: 0.98 },
  { name: 'v6-20k-5c', addresses: 20_000, classes: 5, family: 6 as const, clustered: 0.98 },
  { name: 'mixed-20k-20c', addresses: 20_000, classes: 20, family: 'mixed' as const, clustered: 0.98 },
];
function best(n: number, f: () => unknown) { let b = Infinity; for (let i = 0; i < n; i++) { const t = performance.now(); f(); b = Math.min(b, performance.now() - t); } return b; }
for (const s of scen) {
  const classes = generate(s);
  for (const budget of [500, 500, 500]) {
    const a = oldCompact(classes, budget), b = newCompact(classes, budget);
    const same = show(a) === show(b);
    // interleave to share noise
    let to = Infinity, tn = Infinity;
    for (let r = 0; r < 6; r++) { to = Math.min(to, best(1, () => oldCompact(classes, budget))); tn = Math.min(tn, best(1, () => newCompact(classes, budget))); }
    console.log(s.name, budget, same ? 'identical' : 'DIFFERENT', 'old', to.toFixed(0), 'new', tn.toFixed(0));
  }
}
