/** Test helpers for observe: inline flow-log records written to real files, run through the real engine. */
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { assembleObserved } from '../../observe/assemble.js';
import { readObservationsDuckDb, windowEnding } from '../../observe/observe.js';
import type { EnvironmentConfig, ObservedFile, WorkloadSelector } from '../../model/types.js';

/** Fields of a v5-style custom format used by most semantic tests. */
export const V5 = [
  'version', 'interface-id', 'srcaddr', 'dstaddr', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end',
  'action', 'log-status', 'instance-id', 'subnet-id', 'tcp-flags', 'pkt-srcaddr', 'pkt-dstaddr', 'pkt-dst-aws-service',
  'flow-direction',
];
export const V2 = ['version', 'account-id', 'interface-id', 'srcaddr', 'dstaddr', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end', 'action', 'log-status'];

/** 2026-11-10T12:00:00Z: inside the default test window (2026-11-08 .. 2026-11-21). */
export const T0 = Date.parse('2026-11-10T12:00:00Z') / 1000;

export type Rec = Record<string, string | number>;

/** One record in `fields` order; absent fields are `-`. */
export function line(fields: string[], r: Rec): string {
  const defaults: Rec = { version: 5, 'account-id': '111111111111', packets: 10, bytes: 1000, action: 'ACCEPT', 'log-status': 'OK', 'tcp-flags': 0 };
  return fields
    .map((f) => {
      const v = r[f] ?? defaults[f];
      if (f === 'end' && v === undefined && r.start !== undefined) return String(Number(r.start) + 60);
      return v === undefined ? '-' : String(v);
    })
    .join(' ');
}

export interface Scenario {
  fields?: string[];
  header?: boolean;
  records: Rec[];
  workloads: Record<string, Partial<WorkloadSelector>>;
  to?: string;
  days?: number;
  gzip?: boolean;
  extraFiles?: Record<string, string | Buffer>;
}

/** Writes the records to a temp repo and returns what observe decides per workload. */
export async function observeScenario(s: Scenario): Promise<{ files: Map<string, ObservedFile>; malformed: { file: string; line: number }[] }> {
  const root = await mkdtemp(join(tmpdir(), 'leastpath-observe-'));
  const logs = join(root, 'logs');
  await mkdir(logs, { recursive: true });
  const fields = s.fields ?? V5;
  const text = `${s.header === false ? '' : `${fields.join(' ')}\n`}${s.records.map((r) => line(fields, r)).join('\n')}\n`;
  if (s.gzip === false) await writeFile(join(logs, 'a.log'), text);
  else await writeFile(join(logs, 'a.log.gz'), gzipSync(text));
  for (const [name, content] of Object.entries(s.extraFiles ?? {})) await writeFile(join(logs, name), content);
  const workloads: Record<string, WorkloadSelector> = {};
  for (const [name, sel] of Object.entries(s.workloads)) {
    workloads[name] = { cidrs: [], interfaces: [], instances: [], subnets: [], ...sel };
  }
  const config: EnvironmentConfig = {
    environment: 'dev', account: '111111111111', region: 'eu-west-1', vpc: 'vpc-1', vpcCidrs: ['10.0.0.0/16'],
    mode: 'audit', promoteFrom: null, soakDays: 0,
    flowLogs: { engine: 'duckdb', files: ['../logs/*'] },
    window: { days: s.days ?? 14, retainDays: 30 }, workloads,
    endpoints: { routeTables: [], subnets: [] }, quarantine: [], quotas: { rulesPerGroup: 60, naclRulesPerDirection: 20 },
  };
  const window = windowEnding(s.to ?? '2026-11-21', config.window.days);
  const obs = await readObservationsDuckDb({ root, environmentFile: join(root, 'policies', 'environment.yaml'), config, window });
  const files = assembleObserved({
    environment: 'dev', workloads: Object.keys(workloads), window, retainDays: 30, rows: obs.rows, engine: 'duckdb', previous: new Map(),
  });
  return { files, malformed: obs.malformed };
}

/** `destination protocol/port` strings of a workload's egress, for compact assertions. */
export function egressKeys(o: ObservedFile | undefined): string[] {
  return (o?.egress ?? []).map((e) => `${e.destination} ${e.protocol}${e.port !== undefined ? `/${e.port}` : ''}`);
}
export function rejectedKeys(o: ObservedFile | undefined): string[] {
  return (o?.rejected ?? []).map((e) => `${e.destination} ${e.protocol}${e.port !== undefined ? `/${e.port}` : ''}`);
}
