/** Test helpers for observe: inline flow-log records written to real files, run through the real engine. */
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { reportError } from '../../cli/exit-codes.js';
import type { EnvironmentConfig, ObservedFile, WorkloadSelector } from '../../model/types.js';
import { assembleObserved, type ObserveRow, type ObserveWindow } from '../../observe/assemble.js';
import { awsServiceLookup } from '../../observe/aws-ranges.js';
import { runObserve, type ObserveOptions, type ObserveResult } from '../../cli/commands/observe.js';
import { openDuckDb } from '../../observe/duckdb-session.js';
import { sqlString } from '../../observe/duckdb-view.js';
import { columnName, fieldType } from '../../observe/fields.js';
import { readObservationsDuckDb, windowEnding, type Observation } from '../../observe/observe.js';

/** Fields of a v5-style custom format used by most semantic tests. */
export const V5 = [
  'version',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
  'instance-id',
  'subnet-id',
  'tcp-flags',
  'pkt-srcaddr',
  'pkt-dstaddr',
  'pkt-dst-aws-service',
  'flow-direction',
];
export const V2 = [
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
];

/** 2026-11-10T12:00:00Z: inside the default test window (2026-11-08 .. 2026-11-21). */
export const T0 = Date.parse('2026-11-10T12:00:00Z') / 1000;

/** Epoch seconds of an ISO time (`2026-11-21T23:59:59Z`). */
export function at(iso: string): number {
  return Date.parse(iso) / 1000;
}

/** The default test window, `to` 2026-11-21 with 14 days: its first second and the first second after it. */
export const WIN_FROM = at('2026-11-08T00:00:00Z');
export const WIN_TO = at('2026-11-22T00:00:00Z');
/** The first second observe reads: one day of look-back before the window, for handshakes. */
export const SCAN_FROM = WIN_FROM - 86_400;

export type Rec = Record<string, string | number>;
/** A record, or a raw line written verbatim (malformed-line tests). */
export type Line = Rec | string;

const DEFAULTS: Rec = {
  version: 5,
  'account-id': '111111111111',
  packets: 10,
  bytes: 1000,
  action: 'ACCEPT',
  'log-status': 'OK',
  'tcp-flags': 0,
};

/** The value of `field` in a record (defaults filled in; `end` = start + 60); undefined when absent (`-`). */
function value(r: Rec, field: string): string | undefined {
  const v = r[field] ?? DEFAULTS[field];
  if (field === 'end' && v === undefined && r.start !== undefined) return String(Number(r.start) + 60);
  return v === undefined || v === '-' ? undefined : String(v);
}

/** One record in `fields` order; absent fields are `-`. */
export function line(fields: string[], r: Rec): string {
  return fields.map((f) => value(r, f) ?? '-').join(' ');
}

/** A NODATA or SKIPDATA record of one interface: every flow field `-`. */
export function statusRecord(eni: string, status: 'NODATA' | 'SKIPDATA', start: number): Rec {
  const dash = Object.fromEntries(['packets', 'bytes', 'action', 'tcp-flags'].map((f) => [f, '-']));
  return { ...dash, 'interface-id': eni, start, end: start + 600, 'log-status': status };
}

/** A NODATA record of `eni` at noon of each of `days` days from `from` (YYYY-MM-DD): its log was delivered every day. */
export function loggedDaily(eni: string, from: string, days = 14): Rec[] {
  const first = at(`${from}T12:00:00Z`);
  return Array.from({ length: days }, (_, d) => statusRecord(eni, 'NODATA', first + d * 86_400));
}

/** One aggregation interval of a connection as logged on one interface: the request record and its reply. */
export interface Exchange {
  /** The logging interface. */
  eni: string;
  /** Whose interface it is (sets flow-direction): the request's sender (default) or its receiver. */
  side?: 'src' | 'dst';
  src: string;
  sport: number;
  dst: string;
  dport: number;
  /** IANA number; default 6 (TCP). */
  protocol?: number;
  /** Start of the request record; the reply starts at `replyStart` (default the same second). */
  start: number;
  replyStart?: number;
  /** tcp-flags of the request and of the reply; default 0 and 0. */
  flags?: [number, number];
  /** Bytes of the request and of the reply; default 1000 and 1000. */
  bytes?: [number, number];
  /** Action of the request record (default ACCEPT). */
  action?: 'ACCEPT' | 'REJECT';
  /** False: no reply record at all. */
  reply?: boolean;
  /** Fields for both records (instance-id, subnet-id, version, pkt-dst-aws-service ...). */
  extra?: Rec;
}

/** The records of one exchange: the request, and (unless `reply: false` or REJECT) the reply. */
export function exchange(x: Exchange): Rec[] {
  const onSrc = (x.side ?? 'src') === 'src';
  const [fReq, fRep] = x.flags ?? [0, 0];
  const [bReq, bRep] = x.bytes ?? [1000, 1000];
  const base: Rec = { 'interface-id': x.eni, protocol: x.protocol ?? 6, ...x.extra };
  const out: Rec[] = [
    {
      ...base,
      srcaddr: x.src,
      dstaddr: x.dst,
      srcport: x.sport,
      dstport: x.dport,
      start: x.start,
      'tcp-flags': fReq,
      bytes: bReq,
      action: x.action ?? 'ACCEPT',
      'flow-direction': onSrc ? 'egress' : 'ingress',
    },
  ];
  if (x.reply !== false && x.action !== 'REJECT') {
    const { 'pkt-dst-aws-service': _svc, ...replyBase } = base;
    out.push({
      ...replyBase,
      srcaddr: x.dst,
      dstaddr: x.src,
      srcport: x.dport,
      dstport: x.sport,
      start: x.replyStart ?? x.start,
      'tcp-flags': fRep,
      bytes: bRep,
      'flow-direction': onSrc ? 'ingress' : 'egress',
    });
  }
  return out;
}

/** A flow-log file in the temp folder; its extension decides the kind (.log, .log.gz, .parquet). */
export interface LogFile {
  name: string;
  /** Field order (default V5). */
  fields?: string[];
  /** Write the header line (default true; text files only). */
  header?: boolean;
  records: Line[];
}

/** The text of a flow-log file. */
export function logText(fields: string[], records: readonly Line[], header = true): string {
  const lines = records.map((r) => (typeof r === 'string' ? r : line(fields, r)));
  return `${header ? `${fields.join(' ')}\n` : ''}${lines.join('\n')}\n`;
}

/** Writes the files into `dir`: text as is, .gz compressed, .parquet with DuckDB (columns named with underscores). */
export async function writeLogFiles(dir: string, files: readonly LogFile[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const f of files) {
    const fields = f.fields ?? V5;
    const path = join(dir, f.name);
    await mkdir(dirname(path), { recursive: true });
    if (f.name.endsWith('.parquet'))
      await writeParquet(
        path,
        fields,
        f.records.filter((r): r is Rec => typeof r !== 'string'),
      );
    else if (f.name.endsWith('.gz')) await writeFile(path, gzipSync(logText(fields, f.records, f.header ?? true)));
    else await writeFile(path, logText(fields, f.records, f.header ?? true));
  }
}

/** A Parquet file as Parquet delivery writes it: typed columns named with underscores, absent values NULL. */
export async function writeParquet(path: string, fields: readonly string[], records: readonly Rec[]): Promise<void> {
  const literal = (r: Rec, f: string) => {
    const v = value(r, f);
    const type = fieldType(f);
    if (v === undefined) return `CAST(NULL AS ${type})`;
    return type === 'VARCHAR' ? sqlString(v) : `CAST(${Number(v)} AS ${type})`;
  };
  const rows = records.map((r) => `(${fields.map((f) => literal(r, f)).join(', ')})`).join(', ');
  const cols = fields.map((f) => `"${columnName(f)}"`).join(', ');
  const duck = await openDuckDb();
  const { connection } = duck;
  try {
    await connection.run(`COPY (SELECT * FROM (VALUES ${rows}) AS t (${cols})) TO ${sqlString(path)} (FORMAT parquet)`);
  } finally {
    duck.close();
  }
}

export interface Scenario {
  fields?: string[];
  header?: boolean;
  /** Records of logs/a.log.gz (or logs/a.log with `gzip: false`). */
  records?: Line[];
  /** More files in logs/. */
  files?: LogFile[];
  workloads: Record<string, Partial<WorkloadSelector>>;
  to?: string;
  days?: number;
  retainDays?: number;
  gzip?: boolean;
  extraFiles?: Record<string, string | Buffer>;
  /** flowLogs.files (default every file in logs/). */
  patterns?: string[];
  /** What an earlier run wrote, per workload. */
  previous?: Map<string, ObservedFile>;
}

export interface ScenarioResult {
  files: Map<string, ObservedFile>;
  malformed: { file: string; line: number; message: string }[];
  rows: ObserveRow[];
  window: ObserveWindow;
}

/** Writes the records to a temp folder and returns what observe decides per workload (real DuckDB, real files). */
export async function observeScenario(s: Scenario): Promise<ScenarioResult> {
  const root = await mkdtemp(join(tmpdir(), 'leastpath-observe-'));
  const logs = join(root, 'logs');
  const fields = s.fields ?? V5;
  const files: LogFile[] = [...(s.files ?? [])];
  if (s.records) files.push({ name: s.gzip === false ? 'a.log' : 'a.log.gz', fields, header: s.header !== false, records: s.records });
  await writeLogFiles(logs, files);
  for (const [name, content] of Object.entries(s.extraFiles ?? {})) await writeFile(join(logs, name), content);
  const workloads: Record<string, WorkloadSelector> = {};
  for (const [name, sel] of Object.entries(s.workloads)) {
    workloads[name] = { cidrs: [], interfaces: [], instances: [], subnets: [], ...sel };
  }
  const config: EnvironmentConfig = {
    environment: 'dev',
    account: '111111111111',
    region: 'eu-west-1',
    vpc: 'vpc-1',
    vpcCidrs: ['10.0.0.0/16'],
    mode: 'audit',
    promoteFrom: null,
    soakDays: 0,
    flowLogs: { engine: 'duckdb', files: s.patterns ?? ['../logs/*'] },
    window: { days: s.days ?? 14, retainDays: s.retainDays ?? 30 },
    workloads,
    endpoints: { routeTables: [], subnets: [] },
    quarantine: [],
    quotas: { rulesPerGroup: 60, naclRulesPerDirection: 20 },
  };
  const window = windowEnding(s.to ?? '2026-11-21', config.window.days);
  const obs: Observation = await readObservationsDuckDb({
    root,
    environmentFile: join(root, 'policies', 'environment.yaml'),
    config,
    window,
  });
  const observed = assembleObserved({
    environment: 'dev',
    workloads: Object.keys(workloads),
    window,
    retainDays: config.window.retainDays,
    rows: obs.rows,
    engine: 'duckdb',
    previous: s.previous ?? new Map(),
    serviceOf: awsServiceLookup(config.region),
  });
  return { files: observed, malformed: obs.malformed, rows: obs.rows, window };
}

/** `destination protocol/port` strings of a workload's egress, for compact assertions. */
export function egressKeys(o: ObservedFile | undefined): string[] {
  return (o?.egress ?? []).map((e) => `${e.destination} ${e.protocol}${e.port !== undefined ? `/${e.port}` : ''}`);
}
export function rejectedKeys(o: ObservedFile | undefined): string[] {
  return (o?.rejected ?? []).map((e) => `${e.destination} ${e.protocol}${e.port !== undefined ? `/${e.port}` : ''}`);
}

/** `today` of the command tests (the window ends two days earlier, with `to`). */
export const TODAY = '2026-11-23';

/**
 * A small repository (for observe, report and the commands over them): one environment `dev`, a workload file per
 * selector, flow logs in logs/.
 */
export interface Org {
  logs: LogFile[];
  /** Default: web = 10.0.1.0/24. */
  workloads?: Record<string, Partial<WorkloadSelector>>;
  days?: number;
  retainDays?: number;
  /** window.minCoverage (default: absent, so observe's default applies). */
  minCoverage?: number;
  /** flowLogs.files, relative to policies/dev/ (default every file in logs/). */
  patterns?: string[];
  /** Adds flowLogs.athena (database flowlogs, table vpc_flow_logs); `engine` says which engine runs (default duckdb). */
  athena?: boolean;
  engine?: 'duckdb' | 'athena';
  /** flowLogs.memoryLimit. */
  memoryLimit?: string;
  /** environment.yaml `mode` (default audit). */
  mode?: 'audit' | 'enforce';
  /** environment.yaml `anomalies:` value (flow style). */
  anomalies?: string;
  /** Each workload file's `observed:` (default adopt). */
  observedPolicy?: 'adopt' | 'review';
  /** policies/dev/workloads/<name>.yaml `egress:` lines (default `egress: []`). */
  egress?: Record<string, string>;
  /** policies/dev/prefix-lists.yaml. */
  prefixLists?: string;
  /** observed/dev/<workload>.yaml files already there. */
  observed?: Record<string, string>;
  /** Any other files, by path from the root. */
  extraFiles?: Record<string, string>;
}

export const ATHENA_CONFIG = {
  database: 'flowlogs',
  table: 'vpc_flow_logs',
  workgroup: 'leastpath-readonly',
  outputLocation: 's3://bucket/athena/',
};

/** Writes the repository to a temp folder and returns its root. */
export async function writeOrg(org: Org): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'leastpath-org-'));
  const workloads = org.workloads ?? { web: { cidrs: ['10.0.1.0/24'] } };
  const flowLogs = {
    engine: org.engine ?? 'duckdb',
    files: org.patterns ?? ['../../logs/*'],
    ...(org.athena ? { athena: ATHENA_CONFIG } : {}),
    ...(org.memoryLimit ? { memoryLimit: org.memoryLimit } : {}),
  };
  const files: Record<string, string> = {
    'policies/dev/environment.yaml': [
      'environment: dev',
      'account: "111111111111"',
      'region: eu-west-1',
      'vpc: vpc-0a1b2c3d',
      'vpcCidrs: [10.0.0.0/16]',
      `mode: ${org.mode ?? 'audit'}`,
      `flowLogs: ${JSON.stringify(flowLogs)}`,
      `window: { days: ${org.days ?? 14}, retainDays: ${org.retainDays ?? 30}${org.minCoverage !== undefined ? `, minCoverage: ${org.minCoverage}` : ''} }`,
      `workloads: ${JSON.stringify(workloads)}`,
      ...(org.anomalies ? [`anomalies: ${org.anomalies}`] : []),
      '',
    ].join('\n'),
    ...(org.prefixLists ? { 'policies/dev/prefix-lists.yaml': org.prefixLists } : {}),
    ...org.extraFiles,
  };
  for (const name of Object.keys(workloads)) {
    const egress = org.egress?.[name];
    files[`policies/dev/workloads/${name}.yaml`] =
      `workload: ${name}\nowner: team-${name}\nobserved: ${org.observedPolicy ?? 'adopt'}\n${egress ? `egress:\n${egress}` : 'egress: []\n'}`;
  }
  for (const [name, content] of Object.entries(org.observed ?? {})) files[`observed/dev/${name}.yaml`] = content;
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), content);
  }
  await writeLogFiles(join(root, 'logs'), org.logs);
  return root;
}

/** `leastpath observe --env dev --to 2026-11-21` on a repository written by writeOrg. */
export function observeOrg(root: string, opts: Partial<ObserveOptions> = {}): Promise<ObserveResult> {
  return runObserve({ root, env: 'dev', today: TODAY, to: '2026-11-21', ...opts });
}

/** The stderr line a user sees for an error (`file:line:col: path: message`). */
export function errorLine(err: unknown): string {
  const lines: string[] = [];
  reportError(err, (l) => lines.push(l));
  return lines.join('\n');
}

/** Runs `fn` and returns what it threw (fails the test when it did not throw). */
export async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure, but it succeeded');
}
