/**
 * `leastpath ask` end to end: the real CLI over a small organisation in a temp folder, a fake OpenAI-compatible
 * model on 127.0.0.1 (or Bedrock and Athena mocked at the SDK), real flow-log files read by DuckDB.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { BASE, runOrg, type Files } from '../validate/org.js';
import { answer, startFakeModel, type FakeModel, type Reply } from './fake-model.js';

/** One flow-log record of the v2 format (the fields the test varies). */
interface Rec {
  src: string;
  dst: string;
  dport: number;
  proto: number;
  bytes: number;
  start: number;
  action: 'ACCEPT' | 'REJECT';
}

const day = (d: string) => Date.UTC(2026, 10, Number(d)) / 1000;
const RECORDS: Rec[] = [
  { src: '10.20.1.10', dst: '203.0.113.10', dport: 443, proto: 6, bytes: 5000, start: day('20') + 60, action: 'ACCEPT' },
  { src: '10.20.1.10', dst: '203.0.113.10', dport: 443, proto: 6, bytes: 7000, start: day('20') + 3600, action: 'ACCEPT' },
  { src: '10.20.1.11', dst: '198.51.100.7', dport: 443, proto: 6, bytes: 9000, start: day('20') + 7200, action: 'ACCEPT' },
  { src: '10.20.1.11', dst: '192.0.2.44', dport: 8443, proto: 6, bytes: 3000, start: day('20') + 100, action: 'ACCEPT' },
  { src: '10.20.1.10', dst: '198.51.100.8', dport: 53, proto: 17, bytes: 200, start: day('20') + 86000, action: 'ACCEPT' },
  { src: '10.20.1.12', dst: '192.0.2.99', dport: 25, proto: 6, bytes: 100000, start: day('20') + 500, action: 'REJECT' },
  { src: '10.20.1.10', dst: '203.0.113.77', dport: 443, proto: 6, bytes: 50000, start: day('21') + 10, action: 'ACCEPT' },
  { src: '10.20.1.10', dst: '203.0.113.78', dport: 443, proto: 6, bytes: 40000, start: day('19') + 86390, action: 'ACCEPT' },
];

const HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const logLine = (r: Rec) =>
  `2 111111111111 eni-0aa11bb2 ${r.src} ${r.dst} 40000 ${r.dport} ${r.proto} 10 ${r.bytes} ${r.start} ${r.start + 30} ${r.action} OK`;
const LOG = `${HEADER}\n${RECORDS.map(logLine).join('\n')}\n2 111111111111 eni-0aa11bb2 not a record\n`;

const QUESTION = 'Which destinations received the most bytes on 20 November 2026?';
const TOP_SQL =
  "SELECT dstaddr, sum(bytes) AS total_bytes FROM vpc_flow_logs WHERE day = '2026/11/20' AND action = 'ACCEPT' GROUP BY dstaddr ORDER BY total_bytes DESC LIMIT 3";

/** The answer to TOP_SQL computed from the records, not by leastpath. */
function expectedTop(): [string, number][] {
  const totals = new Map<string, number>();
  for (const r of RECORDS) {
    const d = new Date(r.start * 1000).toISOString().slice(0, 10);
    if (d === '2026-11-20' && r.action === 'ACCEPT') totals.set(r.dst, (totals.get(r.dst) ?? 0) + r.bytes);
  }
  return [...totals].sort((a, b) => b[1] - a[1]).slice(0, 3);
}

/** The base organisation reading plain `.log` files, with its flow logs and an ask.yaml. */
function org(ask: string | null, extra: Files = {}): Files {
  return {
    'policies/dev/environment.yaml': BASE['policies/dev/environment.yaml']!.replace('*.log.gz', '*.log'),
    'flow-logs/dev/a.log': LOG,
    'policies/ask.yaml': ask,
    ...extra,
  };
}

const openAi = (m: FakeModel, more = '') => `provider: openai-compatible\nbaseUrl: ${m.baseUrl}\nmodel: test-model\n${more}`;

let model: FakeModel | undefined;
const withModel = async (replies: Reply[]) => (model = await startFakeModel(replies));
afterEach(async () => {
  await model?.close();
  model = undefined;
});

describe('leastpath ask --run (duckdb)', () => {
  it('prints the SQL, then the rows the flow logs hold', async () => {
    const m = await withModel([answer(`\`\`\`sql\n${TOP_SQL}\n\`\`\``)]);
    const r = await runOrg(org(openAi(m)), ['ask', QUESTION, '--env', 'dev', '--run']);
    expect(r.stderr).toEqual([]);
    expect(r.code).toBe(0);
    const [sql, table] = r.stdout.split('\n\n');
    expect(sql).toBe(TOP_SQL);
    const lines = table!.trimEnd().split('\n');
    expect(lines[0]!.split(/\s+/)).toEqual(['dstaddr', 'total_bytes']);
    expect(lines.slice(2, -1).map((l) => l.split(/\s+/))).toEqual(expectedTop().map(([d, b]) => [d, String(b)]));
    expect(lines.at(-1)).toBe('(3 rows)');
  });

  it('--format json prints one document {question, sql, columns, rows} and nothing else', async () => {
    const m = await withModel([answer(TOP_SQL)]);
    const r = await runOrg(org(openAi(m)), ['ask', QUESTION, '--env', 'dev', '--run', '--format', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ question: QUESTION, sql: TOP_SQL, columns: ['dstaddr', 'total_bytes'], rows: expectedTop() });
  });

  it('sends the question and the grounding to the model, nothing of the data', async () => {
    const m = await withModel([answer(TOP_SQL)]);
    await runOrg(org(openAi(m)), ['ask', QUESTION, '--env', 'dev']);
    expect(m.requests).toHaveLength(1);
    const [system, user] = m.requests[0]!.body.messages!;
    expect(user).toEqual({ role: 'user', content: QUESTION });
    expect(system!.role).toBe('system');
    expect(system!.content).toContain('Table vpc_flow_logs');
    expect(system!.content).toContain('day VARCHAR -- partition column: the UTC day of "start" as text \'YYYY/MM/DD\'');
    expect(system!.content).toContain('Today is 2026/11/23');
    for (const r of RECORDS) expect(JSON.stringify(m.requests[0]!.body)).not.toContain(r.dst);
  });

  it('without --run prints the accepted SQL (LIMIT added) and reads no flow log', async () => {
    const m = await withModel([answer("SELECT srcaddr FROM vpc_flow_logs WHERE day >= '2026/11/01'")]);
    const r = await runOrg(org(openAi(m), { 'flow-logs/dev/a.log': null }), ['ask', QUESTION, '--env', 'dev']);
    expect(r).toEqual({ code: 0, stdout: "SELECT srcaddr FROM vpc_flow_logs WHERE day >= '2026/11/01' LIMIT 1000\n", stderr: [] });
  });

  it("clamps the LIMIT to ask.yaml's maxLimit and to a lower --max-limit", async () => {
    const m = await withModel([answer(TOP_SQL.replace('LIMIT 3', 'LIMIT 500'))]);
    const r = await runOrg(org(openAi(m, 'maxLimit: 2\n')), ['ask', QUESTION, '--env', 'dev', '--run', '--format', 'json']);
    expect(JSON.parse(r.stdout).rows).toEqual(expectedTop().slice(0, 2));
    const lower = await runOrg(org(openAi(m, 'maxLimit: 2\n')), ['ask', QUESTION, '--env', 'dev', '--max-limit', '1']);
    expect(lower.stdout).toBe(`${TOP_SQL.replace('LIMIT 3', 'LIMIT 1')}\n`);
  });
});

describe('leastpath ask refuses', () => {
  // No flow-log files: had anything run, DuckDB would have failed with exit 2.
  const noFiles = { 'flow-logs/dev/a.log': null };

  it('a statement that is not a SELECT: exit 1, the reason and the SQL, nothing run', async () => {
    const m = await withModel([answer('DROP TABLE x')]);
    const r = await runOrg(org(openAi(m), noFiles), ['ask', QUESTION, '--env', 'dev', '--run']);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: ['refused: only SELECT is allowed, not DROP', "the model's SQL (not run):\nDROP TABLE x"],
    });
  });

  it('a query without a day filter', async () => {
    const m = await withModel([answer('SELECT dstaddr FROM vpc_flow_logs')]);
    const r = await runOrg(org(openAi(m), noFiles), ['ask', QUESTION, '--env', 'dev', '--run', '--format', 'json']);
    expect(r.code).toBe(1);
    expect(r.stderr[0]).toMatch(/^refused: no filter on the partition column "day" of vpc_flow_logs/);
    expect(JSON.parse(r.stdout)).toMatchObject({ question: QUESTION, sql: 'SELECT dstaddr FROM vpc_flow_logs' });
  });

  it('prose around the query (only one ```sql fence is taken off)', async () => {
    const m = await withModel([answer(`Here you go:\n${TOP_SQL}`)]);
    const r = await runOrg(org(openAi(m), noFiles), ['ask', QUESTION, '--env', 'dev', '--run']);
    expect(r.code).toBe(1);
    expect(r.stderr[0]).toMatch(/^refused: cannot parse the query/);
  });

  it('a query whose values cannot all become parameters', async () => {
    const m = await withModel([answer("SELECT srcaddr FROM vpc_flow_logs WHERE day = '2026/11/20' AND bytes > 99999999999999999999")]);
    const r = await runOrg(org(openAi(m), noFiles), ['ask', QUESTION, '--env', 'dev', '--run']);
    expect(r.code).toBe(1);
    expect(r.stderr[0]).toBe(
      "refused: cannot pass the query's values as parameters: the number 99999999999999999999 is too large to pass exactly",
    );
  });
});

describe('leastpath ask configuration', () => {
  it('without a provider: exit 2 and how to configure one; sql check still works', async () => {
    const r = await runOrg(org(null), ['ask', QUESTION, '--env', 'dev']);
    expect(r.code).toBe(2);
    const text = r.stderr.join('\n');
    for (const s of [
      'policies/ask.yaml',
      'provider: bedrock',
      'provider: openai-compatible',
      'baseUrl: http://127.0.0.1:11434/v1',
      'apiKeyEnv:',
      'model:',
    ])
      expect(text).toContain(s);
    const maxOnly = await runOrg(org('maxLimit: 5\n'), ['ask', QUESTION, '--env', 'dev']);
    expect(maxOnly.code).toBe(2);
    expect(maxOnly.stderr.join('\n')).toContain('provider: bedrock');
    const check = await runOrg(org('maxLimit: 5\n'), [
      'sql',
      'check',
      "SELECT srcaddr FROM vpc_flow_logs WHERE day = '2026/11/21' LIMIT 10",
    ]);
    expect(check).toEqual({ code: 0, stdout: "SELECT srcaddr FROM vpc_flow_logs WHERE day = '2026/11/21' LIMIT 5\n", stderr: [] });
  });

  it('sql check: --max-limit lowers the limit, never raises it, and must be a whole number', async () => {
    const sql = "SELECT srcaddr FROM vpc_flow_logs WHERE day = '2026/11/21'";
    expect((await runOrg(org(null), ['sql', 'check', sql, '--max-limit', '7'])).stdout).toBe(`${sql} LIMIT 7\n`);
    expect((await runOrg(org('maxLimit: 5\n'), ['sql', 'check', sql, '--max-limit', '50', '--env', 'dev'])).stdout).toBe(
      `${sql} LIMIT 5\n`,
    );
    const bad = await runOrg(org(null), ['sql', 'check', sql, '--max-limit', '0']);
    expect(bad).toEqual({ code: 2, stdout: '', stderr: ['usage: --max-limit must be a whole number, 1 or more, got "0"'] });
  });

  it('baseUrl: https anywhere, plain http only to this machine', async () => {
    for (const url of [
      'https://models.example.com/v1',
      'https://10.0.0.5:8443',
      'http://localhost:11434/v1',
      'http://127.0.0.1:8000',
      'http://[::1]:8080/v1',
    ]) {
      const r = await runOrg(org(`provider: openai-compatible\nmodel: m\nbaseUrl: ${url}\n`), ['validate']);
      expect(r.code, `${url}\n${r.stderr.join('\n')}`).toBe(0);
    }
    for (const url of [
      'http://10.0.0.5:8000/v1',
      'http://localhost.evil.example/v1',
      'http://127.0.0.1.nip.io/v1',
      'https://user:pw@models.example.com/v1',
    ]) {
      const r = await runOrg(org(`provider: openai-compatible\nmodel: m\nbaseUrl: ${url}\n`), ['validate']);
      expect(r.code, url).toBe(1);
    }
  });

  it('ask.yaml errors name the file, line and column', async () => {
    const cases: [string, string][] = [
      [
        'provider: bedrock\nmodel: m\nbaseUrl: http://127.0.0.1:1/v1\n',
        'policies/ask.yaml:3:1: baseUrl: key "baseUrl" is not used with provider bedrock (baseUrl is for openai-compatible)',
      ],
      ['provider: openai-compatible\nmodel: m\n', 'policies/ask.yaml:1:1: baseUrl: missing required key "baseUrl"'],
      ['provider: bedrock\n', 'policies/ask.yaml:1:1: model: missing required key "model"'],
      ['model: m\n', 'policies/ask.yaml:1:1: model: key "model" needs the key "provider" beside it'],
      ['provider: openai\nmodel: m\n', 'policies/ask.yaml:1:11: provider: expected bedrock or openai-compatible, got "openai"'],
      ['provider: bedrock\nmodel: m\napiKey: sk-123\n', 'policies/ask.yaml:3:1: apiKey: unknown key "apiKey"'],
      ['maxLimit: 0\n', 'policies/ask.yaml:1:11: maxLimit: expected a whole number, 1 or more, got the number 0'],
      // the question (and the key) never cross a network unencrypted
      [
        'provider: openai-compatible\nmodel: m\nbaseUrl: http://models.internal:8000/v1\n',
        "policies/ask.yaml:3:10: baseUrl: expected the endpoint's base URL: https://, or http:// only to this machine",
      ],
    ];
    for (const [yaml, line] of cases) {
      for (const args of [['validate'], ['sql', 'check', "SELECT srcaddr FROM vpc_flow_logs WHERE day = '2026/11/21'"]]) {
        const r = await runOrg(org(yaml), args);
        expect(r.code, `${yaml} ${args[0]}`).toBe(1);
        expect(
          r.stderr.some((l) => l.startsWith(line)),
          `${line}\nin\n${r.stderr.join('\n')}`,
        ).toBe(true);
      }
    }
  });

  it('the API key goes in the Authorization header and never into output or errors', async () => {
    const key = 'sk-test-0123456789abcdef';
    const m = await withModel([
      answer('DROP TABLE x'),
      { status: 401, body: JSON.stringify({ error: { message: `invalid key ${key}` } }) },
    ]);
    const yaml = openAi(m, 'apiKeyEnv: LP_TEST_KEY\n');
    const refused = await runOrg(org(yaml), ['ask', QUESTION, '--env', 'dev'], { LP_TEST_KEY: key });
    expect(m.requests[0]!.headers.authorization).toBe(`Bearer ${key}`);
    expect(m.requests[0]!.path).toBe('/v1/chat/completions');
    const failed = await runOrg(org(yaml), ['ask', QUESTION, '--env', 'dev'], { LP_TEST_KEY: key });
    expect(failed.code).toBe(2);
    expect(failed.stderr.join('\n')).toContain(
      `openai-compatible model test-model at ${m.baseUrl}/chat/completions: HTTP 401: invalid key ***`,
    );
    for (const r of [refused, failed]) expect(r.stdout + r.stderr.join('\n')).not.toContain(key);
    // A key the server echoes where the message is cut short (200 characters) is not printed in part either.
    const long = await withModel([{ status: 401, body: JSON.stringify({ error: { message: `${'x'.repeat(190)} ${key}` } }) }]);
    const cut = await runOrg(org(openAi(long, 'apiKeyEnv: LP_TEST_KEY\n')), ['ask', QUESTION, '--env', 'dev'], { LP_TEST_KEY: key });
    expect(cut.code).toBe(2);
    expect(cut.stderr.join('\n')).not.toContain(key.slice(0, 8));
    const unset = await runOrg(org(yaml), ['ask', QUESTION, '--env', 'dev']);
    expect(unset).toMatchObject({
      code: 2,
      stderr: ['usage: policies/ask.yaml says the API key is in the environment variable LP_TEST_KEY, which is not set'],
    });
  });
});

describe('leastpath ask with Bedrock and Athena (mocked at the SDK)', () => {
  const bedrock = mockClient(BedrockRuntimeClient);
  const athena = mockClient(AthenaClient);
  afterEach(() => {
    bedrock.reset();
    athena.reset();
  });

  const athenaEnv = BASE['policies/dev/environment.yaml']!.replace(
    'engine: duckdb',
    'engine: athena\n  athena: { database: flowlogs, table: vpc_flow_logs, workgroup: leastpath-readonly }',
  );

  it('asks Bedrock, then runs on Athena with every value as an execution parameter', async () => {
    bedrock
      .on(ConverseCommand)
      .resolves({ output: { message: { role: 'assistant', content: [{ text: TOP_SQL }] } }, stopReason: 'end_turn' } as never);
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    const cols = ['dstaddr', 'total_bytes'].map((Name) => ({ Name, Type: 'varchar' }));
    athena.on(GetQueryResultsCommand).resolves({
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: cols },
        Rows: [
          { Data: [{ VarCharValue: 'dstaddr' }, { VarCharValue: 'total_bytes' }] },
          { Data: [{ VarCharValue: '203.0.113.10' }, { VarCharValue: '12000' }] },
        ],
      },
    });
    const r = await runOrg(org('provider: bedrock\nmodel: anthropic.test-v1:0\n', { 'policies/dev/environment.yaml': athenaEnv }), [
      'ask',
      QUESTION,
      '--env',
      'dev',
      '--run',
      '--format',
      'json',
    ]);
    expect(r.stderr).toEqual([]);
    expect(JSON.parse(r.stdout)).toEqual({
      question: QUESTION,
      sql: TOP_SQL,
      columns: ['dstaddr', 'total_bytes'],
      rows: [['203.0.113.10', '12000']],
    });

    const converse = bedrock.commandCalls(ConverseCommand)[0]!.args[0].input;
    expect(converse.modelId).toBe('anthropic.test-v1:0');
    expect(converse.messages).toEqual([{ role: 'user', content: [{ text: QUESTION }] }]);
    const system = converse.system![0]!.text!;
    expect(system).toContain('Table vpc_flow_logs');
    expect(system).toContain('bytes BIGINT');
    expect(system).toContain("'YYYY/MM/DD'");
    expect(system).toContain('End with LIMIT n, n at most 1000.');

    const start = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
    expect(start.QueryString).toBe(
      'SELECT dstaddr, sum(bytes) AS total_bytes FROM vpc_flow_logs WHERE day = ? AND action = ? GROUP BY dstaddr ORDER BY total_bytes DESC LIMIT 3',
    );
    expect(start.QueryString).not.toContain('2026');
    expect(start.QueryString).not.toContain('ACCEPT');
    expect(start.ExecutionParameters).toEqual(["'2026/11/20'", "'ACCEPT'"]);
    expect(start.WorkGroup).toBe('leastpath-readonly');
  });

  it('an analyst query runs on Athena with its numbers as written, and stops past maxBytesScanned', async () => {
    const sql =
      'SELECT substr(srcaddr, 1, 6) AS net, sum(bytes) / 1048576.0 AS mib FROM vpc_flow_logs WHERE "day" >= \'2026/11/20\' GROUP BY substr(srcaddr, 1, 6)';
    bedrock
      .on(ConverseCommand)
      .resolves({ output: { message: { role: 'assistant', content: [{ text: sql }] } }, stopReason: 'end_turn' } as never);
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-7' });
    athena
      .on(GetQueryExecutionCommand)
      .resolves({ QueryExecution: { Status: { State: 'RUNNING' }, Statistics: { DataScannedInBytes: 2_000_000_000 } } });
    athena.on(StopQueryExecutionCommand).resolves({});
    const env = athenaEnv.replace('workgroup: leastpath-readonly }', 'workgroup: leastpath-readonly, maxBytesScanned: 1GB }');
    const r = await runOrg(org('provider: bedrock\nmodel: anthropic.test-v1:0\n', { 'policies/dev/environment.yaml': env }), [
      'ask',
      QUESTION,
      '--env',
      'dev',
      '--run',
    ]);
    const start = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
    expect(start.QueryString).toBe(
      'SELECT substr(srcaddr, ?, ?) AS net, sum(bytes) / ? AS mib FROM vpc_flow_logs WHERE "day" >= ? GROUP BY substr(srcaddr, ?, ?) LIMIT 1000',
    );
    expect(start.ExecutionParameters).toEqual(['1', '6', '1048576.0', "'2026/11/20'", '1', '6']);
    expect(r.code).toBe(2);
    expect(r.stderr.join('\n')).toContain(
      'Athena query q-7 was stopped after scanning 2000000000 bytes, past 1GB (flowLogs.athena.maxBytesScanned in policies/dev/environment.yaml)',
    );
    expect(athena.commandCalls(StopQueryExecutionCommand)).toHaveLength(1);
  });

  it('a Bedrock error is exit 2 naming the provider and the HTTP status', async () => {
    const err = Object.assign(new Error('Too many requests'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 429 } });
    bedrock.on(ConverseCommand).rejects(err);
    const r = await runOrg(org('provider: bedrock\nmodel: m1\nregion: us-east-1\n'), ['ask', QUESTION, '--env', 'dev']);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: ['bedrock model m1 in us-east-1: ThrottlingException (HTTP 429): Too many requests'],
    });
  });
});

describe('ask under hostile input (issue 15)', () => {
  it('a key the model echoes is redacted in its SQL, in the result and in a refusal', async () => {
    const key = 'sk-echo-0123456789abcdef';
    const echoed = `SELECT dstaddr, '${key}' AS k FROM vpc_flow_logs WHERE day = '2026/11/20' AND action = 'ACCEPT' ORDER BY dstaddr LIMIT 1`;
    const m = await withModel([answer(echoed), answer(`SELECT '${key}' FROM users`)]);
    const yaml = openAi(m, 'apiKeyEnv: LP_TEST_KEY\n');
    const ran = await runOrg(org(yaml), ['ask', QUESTION, '--env', 'dev', '--run'], { LP_TEST_KEY: key });
    expect(ran.code).toBe(0);
    expect(ran.stdout.split('\n')[0]).toBe(echoed.replace(key, '***'));
    const refused = await runOrg(org(yaml), ['ask', QUESTION, '--env', 'dev', '--format', 'json'], { LP_TEST_KEY: key });
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toEqual({
      question: QUESTION,
      sql: "SELECT '***' FROM users",
      refused: 'table "users" is not allowed: only vpc_flow_logs and the query\'s own CTEs',
    });
    for (const r of [ran, refused]) expect(r.stdout + r.stderr.join('\n')).not.toContain(key);
  });

  it('a 4-way self join is stopped by maxSeconds with a message that says so', async () => {
    // 3,000 records: the join has 8e13 rows, hours of work for DuckDB.
    const many = Array.from({ length: 3000 }, (_, i) => logLine({ ...RECORDS[0]!, bytes: i + 1, start: day('20') + i }));
    const join4 =
      'SELECT count(*) AS n FROM vpc_flow_logs a, vpc_flow_logs b, vpc_flow_logs c, vpc_flow_logs d ' +
      "WHERE a.day = '2026/11/20' AND b.day = '2026/11/20' AND c.day = '2026/11/20' AND d.day = '2026/11/20' AND a.bytes + b.bytes + c.bytes + d.bytes > 0";
    const m = await withModel([answer(join4)]);
    const started = Date.now();
    const r = await runOrg(org(openAi(m, 'maxSeconds: 1\n'), { 'flow-logs/dev/a.log': `${HEADER}\n${many.join('\n')}\n` }), [
      'ask',
      QUESTION,
      '--env',
      'dev',
      '--run',
    ]);
    const seconds = (Date.now() - started) / 1000;
    expect(r.code).toBe(2);
    expect(r.stderr.join('\n')).toContain('the DuckDB query was stopped after 1 s, its time bound (maxSeconds in policies/ask.yaml)');
    expect(seconds).toBeLessThan(30);
  });

  it.each([
    ["day >= '0000/00/00'", "'0000/00/00' is not a calendar day"],
    ["day BETWEEN '0000/00/00' AND '9999/99/99'", "'0000/00/00' is not a calendar day"],
    ["day BETWEEN '2026/11/01' AND '9999/99/99'", "'9999/99/99' is not a calendar day"],
    ["day >= '2026/02/30'", "'2026/02/30' is not a calendar day"],
    [
      "day >= '2020/01/01'",
      "the lower bound '2020/01/01' of day lies before 2026/10/24, the first day the environment retains (window.retainDays)",
    ],
    ["day IN ('2026/11/20', '2025/11/20')", "the lower bound '2025/11/20' of day lies before 2026/10/24"],
  ])('sql check --env refuses a lower day bound outside the retention: %s', async (where, reason) => {
    const r = await runOrg(org(null), ['sql', 'check', `SELECT srcaddr FROM vpc_flow_logs WHERE ${where}`, '--env', 'dev']);
    expect(r.code).toBe(1);
    expect(r.stderr[0]).toContain(`refused: ${reason}`);
  });

  it('accepts the first retained day and a quoted "day" as the partition filter', async () => {
    for (const sql of [
      `SELECT srcaddr FROM vpc_flow_logs WHERE day >= '2026/10/24'`,
      `SELECT srcaddr FROM vpc_flow_logs WHERE "day" = '2026/11/20'`,
    ]) {
      expect(await runOrg(org(null), ['sql', 'check', sql, '--env', 'dev'])).toEqual({
        code: 0,
        stdout: `${sql} LIMIT 1000\n`,
        stderr: [],
      });
    }
  });

  it('GROUP BY an expression with literals runs under --run (it failed with a binder error)', async () => {
    const sql =
      "SELECT substr(dstaddr, 1, 7) AS net, count(*) AS n FROM vpc_flow_logs WHERE day = '2026/11/20' GROUP BY substr(dstaddr, 1, 7) ORDER BY net";
    const m = await withModel([answer(sql)]);
    const r = await runOrg(org(openAi(m)), ['ask', QUESTION, '--env', 'dev', '--run', '--format', 'json']);
    expect(r.stderr).toEqual([]);
    const counts = new Map<string, number>();
    for (const x of RECORDS.filter((x) => x.start >= day('20') && x.start < day('21')))
      counts.set(x.dst.slice(0, 7), (counts.get(x.dst.slice(0, 7)) ?? 0) + 1);
    expect(JSON.parse(r.stdout).rows).toEqual([...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  });

  it('2,000 OR terms are checked and run, not a crash', async () => {
    const terms = Array.from({ length: 2000 }, (_, i) => `bytes = ${i + 1}`).join(' OR ');
    const sql = `SELECT count(*) AS n FROM vpc_flow_logs WHERE day = '2026/11/20' AND (${terms} OR bytes = 5000)`;
    const check = await runOrg(org(null), ['sql', 'check', sql, '--env', 'dev']);
    expect(check).toEqual({ code: 0, stdout: `${sql} LIMIT 1000\n`, stderr: [] });
    const m = await withModel([answer(sql)]);
    const r = await runOrg(org(openAi(m)), ['ask', QUESTION, '--env', 'dev', '--run', '--format', 'json']);
    expect(r.stderr).toEqual([]);
    const want = RECORDS.filter((x) => x.start >= day('20') && x.start < day('21') && (x.bytes <= 2000 || x.bytes === 5000)).length;
    expect(want).toBe(2);
    expect(JSON.parse(r.stdout).rows).toEqual([[want]]);
  });

  it('input nested thousands deep is refused cleanly (exit 1), not a crash', async () => {
    const sql = `SELECT srcaddr FROM vpc_flow_logs WHERE day = '2026/11/20' AND ${'('.repeat(3000)}bytes${')'.repeat(3000)} > 0`;
    const r = await runOrg(org(null), ['sql', 'check', sql]);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: ['refused: the query nests parentheses, functions or subqueries too deeply to check: flatten it'],
    });
  });
});
