/** ask and sql check over the Route 53 Resolver query-log table (`--logs dns`): its schema, the same rules, a real run. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPrompt } from '../../ask/prompt.js';
import { openReadOnlySession } from '../../ask/run.js';
import { DNS_LOG_COLUMNS, DNS_TABLE } from '../../ask/schema.js';
import { checkSql } from '../../ask/sql-guard.js';
import { exampleDnsTruth } from '../../examples/dns-scenario.js';
import { runCli } from '../validate/org.js';

const root = join(import.meta.dirname, '..', '..');
const policy = {
  table: DNS_TABLE,
  columns: DNS_LOG_COLUMNS.map((c) => c.name),
  partitionColumn: 'day',
  maxLimit: 1000,
  logs: 'dns' as const,
};

describe('sql check --logs dns', () => {
  it('accepts a query over resolver_query_logs with a day filter and refuses the rules it breaks', async () => {
    const ok = await runCli([
      '--root',
      root,
      'sql',
      'check',
      '--logs',
      'dns',
      "SELECT query_name, count(*) AS n FROM resolver_query_logs WHERE day >= '2026/11/08' AND rcode = 'NXDOMAIN' GROUP BY query_name",
    ]);
    expect(ok.code, ok.stderr.join('\n')).toBe(0);
    expect(ok.stdout).toContain('LIMIT 1000');
    const noDay = await runCli(['--root', root, 'sql', 'check', '--logs', 'dns', 'SELECT query_name FROM resolver_query_logs']);
    expect(noDay.code).toBe(1);
    expect(noDay.stderr.join('\n')).toContain('no filter on the partition column "day" of resolver_query_logs');
    expect(checkSql("SELECT dstaddr FROM resolver_query_logs WHERE day >= '2026/11/08'", policy)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('column "dstaddr" is not in resolver_query_logs'),
    });
    expect(checkSql("SELECT query_name FROM vpc_flow_logs WHERE day >= '2026/11/08'", policy)).toMatchObject({ ok: false });
  });

  it('gives the model the query-log schema, not the flow logs', () => {
    const { system } = buildPrompt('which names got NXDOMAIN?', policy, '2026-11-21');
    expect(system).toContain('Route 53 Resolver query logs');
    expect(system).toContain('Table resolver_query_logs, one row per DNS query');
    expect(system).toContain('query_name VARCHAR');
    expect(system).not.toContain('dstaddr');
  });
});

describe('the read-only session over query logs', () => {
  it('answers from the example dev logs what the generator wrote', async () => {
    const session = await openReadOnlySession(
      { patterns: ['../../examples/dns-logs/dev/**/*.log.gz'], baseDir: join(root, 'policies', 'dev'), root, logs: 'dns' },
      DNS_TABLE,
    );
    try {
      const r = await session.run('SELECT count(*) AS n FROM resolver_query_logs WHERE day = ? AND rcode = ?', ['2026/11/15', 'NXDOMAIN']);
      const { queries } = exampleDnsTruth('dev');
      const day = (ts: number) => new Date(ts * 1000).toISOString().slice(0, 10);
      expect(r.rows[0]![0]).toBe(queries.filter((q) => day(q.ts) === '2026-11-15' && q.rcode === 'NXDOMAIN').length);
      await expect(session.run("SELECT * FROM read_text('/etc/passwd')", [])).rejects.toThrow();
    } finally {
      session.close();
    }
  });
});
