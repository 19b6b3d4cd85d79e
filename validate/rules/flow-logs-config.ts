/** flow-logs-config: the flow-log source of an environment is complete and stays inside the repository. */
import { posix } from 'node:path';
import type { Finding } from '../../core/findings.js';
import { findingAt } from '../../core/yaml-source.js';
import type { Rule, RuleContext } from '../rule.js';
import { environments } from '../walk.js';

export const rule: Rule = {
  id: 'flow-logs-config',
  summary: 'an engine without its settings, a file pattern that leaves the repository, or an unsupported URL',
  check: flowLogsConfig,
};

function flowLogsConfig(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const env of environments(ctx.repo)) {
    const src = env.environment.source;
    const fl = env.environment.value.flowLogs;
    if (fl.engine === 'athena' && !fl.athena) {
      out.push(
        findingAt(
          src,
          ['flowLogs', 'athena'],
          rule.id,
          'engine athena needs an athena block: add athena: { database, table, workgroup, outputLocation: s3://... }',
        ),
      );
    }
    if (fl.engine === 'duckdb' && fl.files.length === 0) {
      out.push(
        findingAt(
          src,
          ['flowLogs', 'files'],
          rule.id,
          'engine duckdb needs files: add files: [<paths or globs relative to this file, or s3:// URLs>]',
        ),
      );
    }
    const base = posix.dirname(src.file);
    fl.files.forEach((pattern, j) => {
      const path = ['flowLogs', 'files', j];
      const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(pattern)?.[1];
      if (scheme !== undefined) {
        if (scheme.toLowerCase() !== 's3') {
          out.push(
            findingAt(
              src,
              path,
              rule.id,
              `${scheme}:// is not supported: write a local path or glob relative to ${src.file}, or an s3:// URL`,
            ),
          );
        }
        return;
      }
      if (pattern.startsWith('/') || pattern.startsWith('~') || /^[A-Za-z]:[\\/]/.test(pattern)) {
        out.push(
          findingAt(
            src,
            path,
            rule.id,
            `${pattern} is an absolute path: it only works on this machine; write it relative to ${src.file} or use an s3:// URL`,
            'warning',
          ),
        );
        return;
      }
      // Relative to environment.yaml; the repository root is the top.
      const resolved = posix.normalize(posix.join(base, pattern.replace(/\\/g, '/')));
      if (resolved === '..' || resolved.startsWith('../')) {
        out.push(
          findingAt(
            src,
            path,
            rule.id,
            `${pattern} leaves the repository (it resolves to ${resolved} from the root): keep flow logs inside it or use an s3:// URL`,
          ),
        );
      }
    });
  }
  return out;
}
