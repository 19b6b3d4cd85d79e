/** observed-window-mixed: the observed files of one environment come from one observe run, so they share one window. */
import type { Finding } from '../../core/findings.js';
import { compareText } from '../../core/text.js';
import { findingAt } from '../../core/yaml-source.js';
import type { Rule, RuleContext } from '../rule.js';
import { environments } from '../walk.js';

export const rule: Rule = {
  id: 'observed-window-mixed',
  summary: 'observed files of one environment with different windows (a run killed between its writes, or two runs at once)',
  check: observedWindowMixed,
};

function observedWindowMixed(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const env of environments(ctx.repo)) {
    // Only the files observe writes (one per workload file): a retired workload's evidence keeps its last window.
    const files = [...env.observed].filter(([name]) => env.workloads.has(name)).map(([, o]) => o);
    if (files.length < 2) continue;
    const key = (w: { from: string; to: string }) => `${w.to} ${w.from}`;
    const newest = files.reduce((a, b) => {
      const c = compareText(key(a.value.window), key(b.value.window));
      return c > 0 || (c === 0 && compareText(a.source.file, b.source.file) <= 0) ? a : b;
    });
    const { from, to } = newest.value.window;
    for (const o of files) {
      const w = o.value.window;
      if (w.from === from && w.to === to) continue;
      out.push(
        findingAt(
          o.source,
          ['window'],
          rule.id,
          `window ${w.from}..${w.to} differs from ${newest.source.file} (${from}..${to}): the files of one environment come from one observe run, ` +
            `so a run was killed between its writes or two ran at once; run leastpath observe --env ${env.name} again`,
        ),
      );
    }
  }
  return out;
}
