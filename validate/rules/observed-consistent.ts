/** observed-consistent: observed/<env>/<workload>.yaml belongs to its folder and file name, and is sorted without duplicates. */
import type { Finding } from '../../core/findings.js';
import { daysBetween } from '../../core/dates.js';
import { findingAt } from '../../core/yaml-source.js';
import { compareObservedKeys, observedKey, type ObservedKey } from '../../model/observed-order.js';
import type { ObservedFile, Sourced } from '../../model/types.js';
import type { Rule, RuleContext } from '../rule.js';
import { environments, workloadFile, workloadFileExists } from '../walk.js';

export const rule: Rule = {
  id: 'observed-consistent',
  summary:
    'an observed file whose workload or environment does not match its path, whose entries are unsorted or repeated, or a tcp/udp egress entry without a port',
  check: observedConsistent,
};

function observedConsistent(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const env of environments(ctx.repo)) {
    for (const [name, o] of env.observed) {
      const { value, source } = o;
      if (value.workload !== name) {
        out.push(
          findingAt(
            source,
            ['workload'],
            rule.id,
            `says ${JSON.stringify(value.workload)} but the file is ${name}.yaml: re-run leastpath observe --env ${env.name} instead of editing evidence`,
          ),
        );
      } else if (!workloadFileExists(env, name)) {
        out.push(
          findingAt(
            source,
            ['workload'],
            rule.id,
            `evidence for a workload without ${workloadFile(env, name)}: delete this file or add the workload`,
            'warning',
          ),
        );
      }
      if (value.environment !== env.name) {
        out.push(
          findingAt(
            source,
            ['environment'],
            rule.id,
            `says ${JSON.stringify(value.environment)} but the folder is observed/${env.name}: re-run leastpath observe --env ${env.name}`,
          ),
        );
      }
      if (value.window.from > value.window.to) {
        out.push(
          findingAt(
            source,
            ['window', 'from'],
            rule.id,
            `window runs backwards (${value.window.from} > ${value.window.to}): re-run leastpath observe`,
          ),
        );
      }
      checkCoverage(out, o);
      value.egress.forEach((e, i) => {
        // A record is input, not truth: a tcp/udp entry without a port would become a rule for every port.
        if ((e.protocol === 'tcp' || e.protocol === 'udp') && (e.port === undefined || e.port < 1)) {
          out.push(
            findingAt(
              source,
              ['egress', i, ...(e.port === undefined ? [] : ['port'])],
              rule.id,
              `a ${e.protocol} entry ${e.port === undefined ? 'without a port' : `with port ${e.port}`} would allow every port: no flow log records that; re-run leastpath observe`,
            ),
          );
        }
      });
      checkOrder(out, o, 'egress', value.egress);
      checkOrder(out, o, 'rejected', value.rejected);
    }
  }
  return out;
}

/** coverage agrees with its window: `days` its length, `gaps` sorted days inside it, `covered` the days not in `gaps`. */
function checkCoverage(out: Finding[], o: Sourced<ObservedFile>): void {
  const { coverage: c, window } = o.value;
  if (!c || window.from > window.to) return;
  const length = daysBetween(window.from, window.to) + 1;
  const fix = 're-run leastpath observe instead of editing evidence';
  if (c.days !== length)
    out.push(
      findingAt(
        o.source,
        ['coverage', 'days'],
        rule.id,
        `is ${c.days} but the window ${window.from} .. ${window.to} has ${length} days: ${fix}`,
      ),
    );
  const bad = c.gaps.findIndex((d, i) => d < window.from || d > window.to || (i > 0 && c.gaps[i - 1]! >= d));
  if (bad >= 0)
    out.push(
      findingAt(
        o.source,
        ['coverage', 'gaps', bad],
        rule.id,
        `${c.gaps[bad]} is outside the window or out of order: gaps are sorted days of the window; ${fix}`,
      ),
    );
  else if (c.covered + c.gaps.length !== c.days) {
    out.push(
      findingAt(
        o.source,
        ['coverage', 'covered'],
        rule.id,
        `${c.covered} covered and ${c.gaps.length} gaps do not make the window's ${c.days} days: ${fix}`,
      ),
    );
  }
}

function checkOrder(out: Finding[], o: Sourced<ObservedFile>, list: 'egress' | 'rejected', entries: readonly ObservedKey[]): void {
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    const key = observedKey(e);
    const first = seen.get(key);
    if (first !== undefined) {
      out.push(
        findingAt(
          o.source,
          [list, i],
          rule.id,
          `same destination, protocol and port as ${list}[${first}]: observed entries are unique; re-run leastpath observe`,
        ),
      );
      return;
    }
    seen.set(key, i);
    if (i > 0 && compareObservedKeys(entries[i - 1]!, e) > 0) {
      out.push(
        findingAt(
          o.source,
          [list, i],
          rule.id,
          `out of order after ${list}[${i - 1}]: entries are sorted by destination, protocol, port; re-run leastpath observe`,
        ),
      );
    }
  });
}
