/**
 * Flow-log files: the header decides the layout (headerless = v2 default, any field order, Parquet with
 * underscores); broken input fails naming the file and leaves observed/ as it was; a few bad lines are skipped
 * and reported with file and line.
 */
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../../core/errors.js';
import { openReadOnlySession } from '../../ask/run.js';
import { readFlowLogs } from '../../observe/duckdb-checks.js';
import { openDuckDb } from '../../observe/duckdb-session.js';
import { resolveFiles, sqlString } from '../../observe/duckdb-view.js';
import { countFileLines, LineCounter } from '../../observe/sources.js';
import { runReport } from '../../cli/commands/report.js';
import {
  errorLine,
  exchange,
  line,
  logText,
  observeOrg,
  observeScenario,
  T0,
  thrown,
  TODAY,
  V2,
  V5,
  writeLogFiles,
  writeOrg,
  type LogFile,
  type Rec,
} from './helpers.js';

const WEB = '10.0.1.10';
const web = { web: { cidrs: ['10.0.1.0/24'] } };

/** Traffic of web: a handshake to 203.0.113.10:443, a UDP exchange to 10.0.0.53:53, an ICMP echo. */
const traffic = (extra: Rec = {}): Rec[] => [
  ...exchange({ eni: 'eni-0web', src: WEB, sport: 51514, dst: '203.0.113.10', dport: 443, start: T0, flags: [2, 18], extra }),
  ...exchange({ eni: 'eni-0web', src: WEB, sport: 40000, dst: '10.0.0.53', dport: 53, protocol: 17, start: T0 + 60, extra }),
  ...exchange({ eni: 'eni-0web', src: WEB, sport: 0, dst: '10.0.5.5', dport: 0, protocol: 1, start: T0 + 120, extra }),
];

/** v3-v5 fields in an order of their own, hyphenated, with fields observe does not read. */
const SHUFFLED = [
  'log-status',
  'flow-direction',
  'dstport',
  'az-id',
  'tcp-flags',
  'srcaddr',
  'vpc-id',
  'action',
  'end',
  'pkt-dstaddr',
  'protocol',
  'instance-id',
  'bytes',
  'region',
  'srcport',
  'traffic-path',
  'subnet-id',
  'type',
  'interface-id',
  'pkt-src-aws-service',
  'start',
  'sublocation-type',
  'dstaddr',
  'pkt-srcaddr',
  'packets',
  'pkt-dst-aws-service',
  'account-id',
  'version',
  'reject-reason',
];
const V3_V5_VALUES: Rec = { 'vpc-id': 'vpc-1', 'az-id': 'euw1-az1', region: 'eu-west-1', type: 'IPv4', 'traffic-path': 1 };

describe('layouts: the header, not an assumed order, decides', () => {
  it('the same records in every layout give the same observed file', async () => {
    const layouts: [string, LogFile][] = [
      ['v5 header', { name: 'a.log.gz', records: traffic() }],
      ['headerless v2 default format', { name: 'a.log.gz', fields: V2, header: false, records: traffic({ version: 2 }) }],
      ['v2 with its header, plain text', { name: 'a.log', fields: V2, records: traffic({ version: 2 }) }],
      ['v3-v5 fields in any order', { name: 'a.log.gz', fields: SHUFFLED, records: traffic(V3_V5_VALUES) }],
      ['Parquet, underscore names', { name: 'a.parquet', fields: V5, records: traffic() }],
      ['Parquet, any order, v3-v5 fields', { name: 'a.parquet', fields: SHUFFLED, records: traffic(V3_V5_VALUES) }],
    ];
    const results = new Map<string, unknown>();
    for (const [name, file] of layouts) {
      const { files, malformed } = await observeScenario({ workloads: web, files: [file] });
      expect(malformed, name).toEqual([]);
      const o = files.get('web')!;
      // v2 has no tcp-flags: the decision differs (and so the open connections it carries forward), nothing else does
      const { openConnections: _open, ...rest } = o;
      results.set(name, { ...rest, egress: o.egress.map(({ decidedBy: _d, ...e }) => e) });
      expect(
        o.egress.map((e) => `${e.destination} ${e.protocol}${e.port ? `/${e.port}` : ''} ${e.flows} ${e.bytes}`),
        name,
      ).toEqual(['10.0.0.53/32 udp/53 1 1000', '10.0.5.5/32 icmp 1 1000', '203.0.113.10/32 tcp/443 1 1000']);
    }
    const first = results.get('v5 header');
    for (const [name, r] of results) expect(r, name).toEqual(first);
  });

  it('text, gzip and Parquet files of different layouts are read together', async () => {
    const { files } = await observeScenario({
      workloads: web,
      files: [
        {
          name: 'a.log.gz',
          fields: V2,
          header: false,
          records: exchange({ eni: 'eni-0web', src: WEB, sport: 40001, dst: '203.0.113.1', dport: 443, start: T0, extra: { version: 2 } }),
        },
        {
          name: 'b.log',
          fields: SHUFFLED,
          records: exchange({ eni: 'eni-0web', src: WEB, sport: 40002, dst: '203.0.113.2', dport: 443, start: T0, flags: [2, 18] }),
        },
        {
          name: 'c.parquet',
          records: exchange({ eni: 'eni-0web', src: WEB, sport: 40003, dst: '203.0.113.3', dport: 443, start: T0, flags: [2, 18] }),
        },
      ],
    });
    expect(files.get('web')!.egress.map((e) => e.destination)).toEqual(['203.0.113.1/32', '203.0.113.2/32', '203.0.113.3/32']);
  });

  it('an unknown header field is read past (AWS adds fields): the same observed file as without it', async () => {
    const fields = [...V5.slice(0, 5), 'dst-port-name', ...V5.slice(5)];
    const withField = await observeScenario({ workloads: web, fields, records: traffic({ 'dst-port-name': 'https' }) });
    const without = await observeScenario({ workloads: web, records: traffic() });
    expect(withField.files.get('web')).toEqual(without.files.get('web'));
    expect(withField.malformed).toEqual([]);
  });

  it('a header field given twice fails with an InputError naming the file and line 1', async () => {
    const fields = [...V5, 'dst-port-name', 'dst-port-name'];
    const err = await thrown(() => observeScenario({ workloads: web, fields, records: traffic() }));
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).where).toMatchObject({ file: 'logs/a.log.gz', line: 1 });
    expect(errorLine(err)).toMatch(/^logs\/a\.log\.gz:1:1: .*field "dst-port-name" appears twice/);
  });

  it('a headerless first line that is not a v2 record fails naming the file and line 1', async () => {
    const err = await thrown(() => observeScenario({ workloads: web, fields: V5, header: false, records: traffic() }));
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).where).toMatchObject({ file: 'logs/a.log.gz', line: 1 });
  });
});

describe('malformed lines: a few are skipped and reported with file and line', () => {
  const good = traffic();
  it.each([
    ['with a header line', true, 2],
    ['headerless v2', false, 1],
  ])('%s', async (_name, header, firstLine) => {
    const fields = header ? V5 : V2;
    const recs = header ? good : traffic({ version: 2 });
    const ln = (r: Rec) => line(fields, r);
    const sample = recs[0]!;
    const lines: (Rec | string)[] = [
      recs[0]!,
      recs[1]!,
      ln(sample).split(' ').slice(0, -3).join(' '), // too few fields
      recs[2]!,
      `${ln(sample)} -`, // an extra '-' field
      recs[3]!,
      `${ln(sample)} extra`, // an extra word
      ln({ ...sample, dstport: 'https' }), // a non-numeric port
      recs[4]!,
      recs[5]!,
    ];
    const { files, malformed } = await observeScenario({ workloads: web, fields, header, records: lines });
    const at = (i: number) => firstLine + i;
    expect(malformed.map((m) => [m.file, m.line])).toEqual([
      ['logs/a.log.gz', at(2)],
      ['logs/a.log.gz', at(4)],
      ['logs/a.log.gz', at(6)],
      ['logs/a.log.gz', at(7)],
    ]);
    for (const m of malformed) expect(m.message).not.toBe('');
    const o = files.get('web')!;
    expect(o.egress.map((e) => e.destination)).toEqual(['10.0.0.53/32', '10.0.5.5/32', '203.0.113.10/32']);
    // malformed lines are not records
    expect(o.source.records).toBe(6);
  });

  it.each(['a.log', 'a.log.gz'])(
    "a line over DuckDB's max line size (%s) is one malformed line with file and line, not an internal error",
    async (name) => {
      const root = await writeOrg({ logs: [{ name, records: [...good.slice(0, 2), 'x'.repeat(3_000_000), ...good.slice(2)] }] });
      const r = await observeOrg(root);
      expect(r.malformed).toEqual([
        { file: `logs/${name}`, line: 4, message: 'Maximum line size of 2000000 bytes exceeded. Actual Size:3000000 bytes.' },
      ]);
      expect(r.written).toEqual(['observed/dev/web.yaml']);
      expect(r.records).toBe(good.length);
    },
  );

  it('runObserve reports them in its result and still writes', async () => {
    const root = await writeOrg({ logs: [{ name: 'a.log.gz', records: [...good.slice(0, 2), 'garbage line', ...good.slice(2)] }] });
    const r = await observeOrg(root);
    expect(r.malformed.map((m) => [m.file, m.line])).toEqual([['logs/a.log.gz', 4]]);
    expect(r.written).toEqual(['observed/dev/web.yaml']);
  });
});

describe('broken files: observe fails naming the file, and observed/ stays as it was', () => {
  /** Enough records that half of the gzip is a real cut inside the data. */
  const many = Array.from({ length: 300 }, (_, i) =>
    exchange({
      eni: 'eni-0web',
      src: WEB,
      sport: 33000 + i * 7,
      dst: `203.0.113.${i % 200}`,
      dport: 443,
      start: T0 + i * 61,
      flags: [2, 18],
      bytes: [100 + i * 13, 5000 + i * 17],
    }),
  ).flat();

  async function orgWithObserved(): Promise<{ root: string; path: string; bytes: Buffer; mtime: number }> {
    const root = await writeOrg({ logs: [{ name: 'a.log.gz', records: traffic() }] });
    await observeOrg(root);
    const path = join(root, 'observed/dev/web.yaml');
    return { root, path, bytes: await readFile(path), mtime: (await stat(path)).mtimeMs };
  }

  async function expectUntouched(o: { path: string; bytes: Buffer; mtime: number }) {
    expect((await readFile(o.path)).equals(o.bytes)).toBe(true);
    expect((await stat(o.path)).mtimeMs).toBe(o.mtime);
  }

  it('a truncated gzip (a valid .log.gz cut in half), for observe and for report alike', async () => {
    const o = await orgWithObserved();
    const full = gzipSync(logText(V5, many));
    await writeFile(join(o.root, 'logs/b.log.gz'), full.subarray(0, Math.floor(full.length / 2)));
    const err = await thrown(() => observeOrg(o.root));
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).where?.file).toBe('logs/b.log.gz');
    expect(errorLine(err)).toMatch(/^logs\/b\.log\.gz:/);
    await expectUntouched(o);
    const reportErr = await thrown(() => runReport({ root: o.root, env: 'dev', today: TODAY, to: '2026-11-21' }));
    expect(errorLine(reportErr)).toMatch(/^logs\/b\.log\.gz:.*truncated or corrupt gzip/);
  });

  it('a gzip with a corrupted byte in the middle', async () => {
    const o = await orgWithObserved();
    const bad = Buffer.from(gzipSync(logText(V5, many)));
    bad[Math.floor(bad.length / 2)]! ^= 0xff;
    await writeFile(join(o.root, 'logs/b.log.gz'), bad);
    const err = await thrown(() => observeOrg(o.root));
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).where?.file).toBe('logs/b.log.gz');
    await expectUntouched(o);
  });

  it('a truncated Parquet file', async () => {
    const o = await orgWithObserved();
    await writeLogFiles(join(o.root, 'tmp'), [{ name: 'b.parquet', records: many }]);
    const full = await readFile(join(o.root, 'tmp/b.parquet'));
    await writeFile(join(o.root, 'logs/b.parquet'), full.subarray(0, Math.floor(full.length / 2)));
    const err = await thrown(() => observeOrg(o.root));
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).where?.file).toBe('logs/b.parquet');
    await expectUntouched(o);
  });

  it('a file that is mostly garbage', async () => {
    const o = await orgWithObserved();
    const junk = [V5.join(' '), line(V5, traffic()[0]!), ...Array.from({ length: 9 }, (_, i) => `GET /index-${i}.html HTTP/1.1 200 ${i}`)];
    await writeFile(join(o.root, 'logs/junk.log'), `${junk.join('\n')}\n`);
    const err = await thrown(() => observeOrg(o.root));
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).where?.file).toBe('logs/junk.log');
    expect(errorLine(err)).toMatch(/^logs\/junk\.log:.*not a flow log/);
    await expectUntouched(o);
  });

  it('a .gz that is not gzip at all', async () => {
    const o = await orgWithObserved();
    await writeFile(join(o.root, 'logs/c.log.gz'), logText(V5, traffic()));
    const err = await thrown(() => observeOrg(o.root));
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).where?.file).toBe('logs/c.log.gz');
    await expectUntouched(o);
  });

  it.each([
    [
      'a carriage return alone inside line 3 (plain text)',
      'c.log',
      (lines: string[]) => lines.map((l, i) => (i === 2 ? l.replace(' ', '\r ') : l)).join('\n'),
      3,
    ],
    [
      'an LF line 4 in a CRLF file (gzip)',
      'c.log.gz',
      (lines: string[]) => `${lines.slice(0, 3).join('\r\n')}\r\n${lines.slice(3).join('\n')}`,
      4,
    ],
  ])('a file DuckDB cannot parse for its line endings: %s, named with the line', async (_name, file, make, line) => {
    const o = await orgWithObserved();
    const text = make(logText(V5, many).trimEnd().split('\n')) + '\n';
    await writeFile(join(o.root, 'logs', file), file.endsWith('.gz') ? gzipSync(text) : text);
    const err = await thrown(() => observeOrg(o.root));
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).where).toMatchObject({ file: `logs/${file}`, line });
    expect((err as Error).message).toMatch(/ends unlike line 1/);
    await expectUntouched(o);
  });

  it('s3:// with the duckdb engine and no httpfs says what to do instead (and reads nothing from the network)', async () => {
    const root = await writeOrg({ patterns: ['s3://leastpath-flow-logs/AWSLogs/111111111111/vpcflowlogs/**/*.log.gz'], logs: [] });
    const err = await thrown(() => observeOrg(root));
    expect(err).toBeInstanceOf(UsageError);
    const msg = (err as Error).message;
    expect(msg).toContain('s3://leastpath-flow-logs/');
    expect(msg).toMatch(/httpfs/);
    expect(msg).toMatch(/aws s3 sync/);
    expect(msg).toMatch(/engine: athena/);
  });
});

describe('fields observe and report need: a file without them fails naming the file, and nothing is written', () => {
  const NEEDS = 'observe and report need interface-id, srcaddr, dstaddr, srcport, dstport, protocol, start, action, log-status';
  const NEEDS_PARQUET = 'observe and report need interface_id, srcaddr, dstaddr, srcport, dstport, protocol, start, action, log_status';
  const without = (...fields: string[]) => V5.filter((f) => !fields.includes(f));

  /** A repository observed once from logs/a.log.gz, then `file` added to logs/: observe and report must fail on it. */
  async function expectRefused(add: (logs: string) => Promise<void>, message: string): Promise<void> {
    const root = await writeOrg({ logs: [{ name: 'a.log.gz', records: traffic() }] });
    await observeOrg(root);
    const path = join(root, 'observed/dev/web.yaml');
    const before = { bytes: await readFile(path), mtime: (await stat(path)).mtimeMs };
    await add(join(root, 'logs'));
    const err = await thrown(() => observeOrg(root));
    expect(err).toBeInstanceOf(InputError);
    expect(errorLine(err)).toBe(message);
    expect((await readFile(path)).equals(before.bytes)).toBe(true);
    expect((await stat(path)).mtimeMs).toBe(before.mtime);
    expect(errorLine(await thrown(() => runReport({ root, env: 'dev', today: TODAY, to: '2026-11-21' })))).toBe(message);
  }

  it.each([
    ['dstaddr and action', 'b.log', ['dstaddr', 'action']],
    ['start', 'b.log', ['start']],
    ['log-status, gzip', 'b.log.gz', ['log-status']],
    ['the ports', 'b.log', ['srcport', 'dstport']],
    ['interface-id and protocol', 'b.log.gz', ['interface-id', 'protocol']],
  ])('a header that lacks %s: the file and line 1, and what is missing', async (_name, name, missing) => {
    await expectRefused(
      (logs) => writeLogFiles(logs, [{ name, fields: without(...missing), records: traffic() }]),
      `logs/${name}:1:1: <root>: the header lacks ${missing.join(', ')}: ${NEEDS}`,
    );
  });

  it('a Parquet file with other columns only, or without one that is needed, is named with the missing columns', async () => {
    await expectRefused(async (logs) => {
      const duck = await openDuckDb();
      try {
        await duck.connection.run(`COPY (SELECT 1 AS a, 'x' AS b) TO ${sqlString(join(logs, 'b.parquet'))} (FORMAT parquet)`);
      } finally {
        duck.close();
      }
    }, `logs/b.parquet:1:1: <root>: the file lacks the columns interface_id, srcaddr, dstaddr, srcport, dstport, protocol, start, action, log_status: ${NEEDS_PARQUET}`);
    // beside a complete Parquet file: each file is checked on its own, not the columns of all of them together
    await expectRefused(
      (logs) =>
        writeLogFiles(logs, [
          { name: 'b.parquet', records: traffic() },
          { name: 'c.parquet', fields: without('log-status'), records: traffic() },
        ]),
      `logs/c.parquet:1:1: <root>: the file lacks the column log_status: ${NEEDS_PARQUET}`,
    );
  });

  it('ask reads the same view, and still reads a file without them (it may ask about any field the file has)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'leastpath-ask-fields-'));
    await writeLogFiles(dir, [{ name: 'a.log', fields: without('dstaddr', 'action', 'start'), records: traffic() }]);
    const session = await openReadOnlySession({ patterns: ['*.log'], baseDir: dir, root: dir }, 'vpc_flow_logs');
    try {
      const r = await session.run('SELECT count(*) AS n, count(dstaddr) AS dst FROM vpc_flow_logs', []);
      expect(r.rows).toEqual([[traffic().length, 0]]);
    } finally {
      session.close();
    }
  });
});

describe('flowLogs.files: a pattern that matches nothing is pointed at in environment.yaml', () => {
  it('for observe and for report: its line and column, and its index', async () => {
    const root = await writeOrg({
      patterns: ['../../logs/*.log.gz', '../../logs/missing-*.log'],
      logs: [{ name: 'a.log.gz', records: traffic() }],
    });
    const env = (await readFile(join(root, 'policies/dev/environment.yaml'), 'utf8')).split('\n');
    const line = env.findIndex((l) => l.includes('missing-')) + 1;
    const col = env[line - 1]!.indexOf('"../../logs/missing-*.log"') + 1;
    const want = `policies/dev/environment.yaml:${line}:${col}: flowLogs.files[1]: no flow-log files match "../../logs/missing-*.log"`;
    expect(errorLine(await thrown(() => observeOrg(root)))).toBe(want);
    expect(errorLine(await thrown(() => runReport({ root, env: 'dev', today: TODAY, to: '2026-11-21' })))).toBe(want);
  });
});

describe('a file name DuckDB would read as a pattern is refused, not read as other files', () => {
  it('a name holding *, ? or [ ]: named, nothing written (DuckDB would have read p*.log.gz as every p... file again)', async () => {
    for (const name of ['p*.log.gz', 'p?.log.gz', 'p[1].log.gz']) {
      const root = await writeOrg({
        logs: [
          { name: 'p1.log.gz', records: traffic() },
          { name, records: traffic() },
        ],
      });
      const err = await thrown(() => observeOrg(root));
      expect(err, name).toBeInstanceOf(InputError);
      expect(errorLine(err)).toContain(`holds one of * ? [ ], which DuckDB would read as a pattern (other files, or none): rename it`);
      expect(errorLine(err)).toContain(name);
      await expect(readFile(join(root, 'observed/dev/web.yaml'))).rejects.toThrow('ENOENT');
    }
  });
});

describe("a failure of DuckDB's own (no file to blame): one retry without the parallel CSV scanner", () => {
  async function setup() {
    const dir = await mkdtemp(join(tmpdir(), 'leastpath-fallback-'));
    await writeLogFiles(dir, [
      { name: 'a.log', records: traffic() },
      { name: 'b.log.gz', records: traffic() },
    ]);
    const duck = await openDuckDb();
    const { connection } = duck;
    const files = await resolveFiles(connection, ['*.log', '*.log.gz'], dir, dir);
    const viewSql = async () =>
      String((await connection.runAndReadAll("SELECT sql FROM duckdb_views() WHERE view_name = 'flow_logs'")).getRows()[0]![0]);
    const count = async () => Number((await connection.runAndReadAll('SELECT count(*) FROM flow_logs')).getRows()[0]![0]);
    return { connection, files, viewSql, count, close: duck.close };
  }

  it('reads plain text with the parallel scanner and gzip without it; after an unexplained failure, again sequentially', async () => {
    const s = await setup();
    try {
      const views: string[] = [];
      const r = await readFlowLogs(s.connection, s.files, 0, async () => {
        views.push(await s.viewSql());
        if (views.length === 1) throw new Error('INTERNAL Error: a parallel CSV scanner failure, simulated');
        return s.count();
      });
      expect(r).toEqual({ value: 2 * traffic().length, fallback: 'INTERNAL Error: a parallel CSV scanner failure, simulated' });
      // Each read_csv of the view (as DuckDB stores it): its files and whether it may scan them in parallel.
      const reads = (sql: string) =>
        [...sql.matchAll(/read_csv\(main\.list_value\(([^)]*)\)[^]*?\("parallel" = CAST\('(t|f)' AS BOOLEAN\)\)/g)].map(
          (m) => `${m[1]!.replace(/'[^']*\//g, "'")} ${m[2]}`,
        );
      expect(reads(views[0]!)).toEqual(["'a.log' t", "'b.log.gz' f"]);
      expect(reads(views[1]!)).toEqual(["'a.log' f", "'b.log.gz' f"]);
    } finally {
      s.close();
    }
  });

  it('a failure the sequential read shares is reported as it first was; a file that fails on its own is named', async () => {
    const s = await setup();
    try {
      await expect(
        readFlowLogs(s.connection, s.files, 0, async () => {
          throw new Error('first');
        }),
      ).rejects.toThrow('first');
      await writeFile(s.files[0]!.path.replace('a.log', 'c.log.gz'), 'not gzip at all');
      const more = await resolveFiles(s.connection, ['*.log', '*.log.gz'], dirname(s.files[0]!.path), dirname(s.files[0]!.path));
      const err = await readFlowLogs(s.connection, more, 0, async () => {
        throw new Error('some scan error');
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).where?.file).toBe('c.log.gz');
    } finally {
      s.close();
    }
  });
});

describe('row counts: every record Node counts in a file is one DuckDB kept or refused', () => {
  async function setup(files: LogFile[]) {
    const dir = await mkdtemp(join(tmpdir(), 'leastpath-rows-'));
    await writeLogFiles(dir, files);
    const duck = await openDuckDb();
    const { connection } = duck;
    const found = files.length > 0 ? await resolveFiles(connection, ['*'], dir, dir) : [];
    const count = async () => Number((await connection.runAndReadAll('SELECT count(*) FROM flow_logs')).getRows()[0]![0]);
    return { dir, connection, files: found, count, close: duck.close };
  }

  it('blank lines, CRLF endings, refused lines and a last line without a newline all count as DuckDB counts them', async () => {
    const records = traffic().map((r) => line(V5, r));
    const text = `${V5.join(' ')}\r\n${records[0]}\r\n\r\n${records[1]}\r\n 2 too few\r\n${records[2]}\r\n\r\n${records.slice(3).join('\r\n')}`;
    const s = await setup([]);
    try {
      await writeFile(join(s.dir, 'a.log'), text.replace(/\r\n/g, '\n'));
      await writeFile(join(s.dir, 'b.log'), text);
      await writeFile(join(s.dir, 'c.log.gz'), gzipSync(`${text}\r\n\r\n`));
      const files = await resolveFiles(s.connection, ['*'], s.dir, s.dir);
      const counted = await countFileLines(files);
      // header + records + the refused line; blank lines are no lines
      expect([...counted.values()]).toEqual([1 + records.length + 1, 1 + records.length + 1, 1 + records.length + 1]);
      const r = await readFlowLogs(s.connection, files, 0, s.count);
      expect(r).toEqual({ value: 3 * records.length });
    } finally {
      s.close();
    }
  });

  it('counts lines the same however the stream is cut into chunks', () => {
    const bytes = Buffer.from('h a b\r\n1 2 3\r\n\r\n\n4 5 6\n\r\n7 8 9');
    const whole = new LineCounter();
    whole.push(bytes);
    expect(whole.finish()).toBe(4);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const c = new LineCounter();
      c.push(bytes.subarray(0, cut));
      c.push(bytes.subarray(cut));
      expect(c.finish(), `cut at ${cut}`).toBe(4);
    }
  });

  it('a gzip file that grew after it was counted fails by name, with both counts', async () => {
    const s = await setup([
      { name: 'a.log.gz', records: traffic() },
      { name: 'b.log.gz', records: traffic() },
    ]);
    try {
      const counted = await countFileLines(s.files);
      await writeLogFiles(s.dir, [{ name: 'b.log.gz', records: [...traffic(), ...traffic()] }]);
      const err = await readFlowLogs(s.connection, s.files, 0, s.count, Promise.resolve(counted)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).where?.file).toBe('b.log.gz');
      expect((err as Error).message).toContain(`DuckDB read ${2 * traffic().length} records where the file holds ${traffic().length}`);
    } finally {
      s.close();
    }
  });

  it('a plain-text scan that kept other than the count is read again without the parallel scanner; agreeing then, it warns', async () => {
    const s = await setup([{ name: 'a.log', records: [...traffic(), ...traffic()] }]);
    try {
      const path = s.files[0]!.path;
      const whole = await readFile(path);
      const counted = await countFileLines(s.files);
      const views: string[] = [];
      const r = await readFlowLogs(
        s.connection,
        s.files,
        0,
        async () => {
          views.push(
            String((await s.connection.runAndReadAll("SELECT sql FROM duckdb_views() WHERE view_name = 'flow_logs'")).getRows()[0]![0]),
          );
          if (views.length > 1) return s.count();
          // The first scan sees half the file (as a scanner that lost records would), the second all of it.
          await writeFile(path, logText(V5, traffic()));
          const n = await s.count();
          await writeFile(path, whole);
          return n;
        },
        Promise.resolve(counted),
      );
      expect(r).toEqual({
        value: 2 * traffic().length,
        fallback: `it kept ${traffic().length} records of a.log, which hold ${2 * traffic().length}`,
      });
      expect(views.map((v) => /"parallel" = CAST\('(t|f)'/.exec(v)?.[1])).toEqual(['t', 'f']);
    } finally {
      s.close();
    }
  });

  it('a plain-text file that still disagrees when read sequentially fails by name', async () => {
    const s = await setup([{ name: 'a.log', records: traffic() }]);
    try {
      const counted = await countFileLines(s.files);
      await writeLogFiles(s.dir, [{ name: 'a.log', records: traffic().slice(1) }]);
      const err = await readFlowLogs(s.connection, s.files, 0, s.count, Promise.resolve(counted)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).where?.file).toBe('a.log');
      expect((err as Error).message).toContain(`DuckDB read ${traffic().length - 1} records where the file holds ${traffic().length}`);
    } finally {
      s.close();
    }
  });
});
