/**
 * observe, the stage: `readObservations` gathers query rows from an engine, `assembleObserved` decides the
 * files (pure), `observedFiles` renders them as files to write, which the command writes all at once
 * (core/atomic.ts). The engine is observe/engine.ts, shared with report; the SQL is observe/sql.ts.
 */
import { addDays, dayOf, epochOf } from '../core/dates.js';
import { numberOrNull } from '../core/sql-values.js';
import { dirname, join } from 'node:path';
import type { PlannedFile } from '../core/atomic.js';
import { bits, parseCidr } from '../core/cidr.js';
import { assertSafeName } from '../core/names.js';
import { compareText } from '../core/text.js';
import type { YamlSource } from '../core/yaml-source.js';
import type { Engine, EnvironmentConfig, ObservedFile, WorkloadSelector } from '../model/types.js';
import { renderObservedYaml, sourceStats, type ObserveRow, type ObserveWindow } from './assemble.js';
import type { StatsRow } from './observe-row.js';
import { checkGarbage, malformedLines, readRejects, type MalformedLine, type UnknownFields } from './duckdb-checks.js';
import { query, withTimeBound } from './duckdb-session.js';
import { withFlowLogs, type FlowLogProgress, type FlowLogSource } from './engine.js';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { FlowLogFile } from './sources.js';
import {
  decodeObserveRow,
  renderObserveQuery,
  type CarriedConnection,
  type ObserveQueryInput,
  type RangeMatch,
  type WorkloadMatch,
} from './sql.js';

/** Seconds before the window that are read for handshakes (a SYN just before the window still counts). */
const LOOKBACK_SECONDS = 86_400;

export interface Observation {
  rows: ObserveRow[];
  malformed: MalformedLine[];
  files: number;
  /** Why DuckDB's parallel CSV scan failed, when the files had to be read again without it. */
  fallback?: string;
  /** When the window held no record: the files read (as displayed) and the newest record's time in any of them. */
  fileNames?: string[];
  newest?: string;
  /** Header fields leastpath does not know, read past. */
  unknownFields?: UnknownFields;
}

/** The window that ends on `to` (inclusive) and spans `days` days. */
export function windowEnding(to: string, days: number): ObserveWindow {
  return { from: addDays(to, -(days - 1)), to };
}

/** The query input for an environment's workloads and window. */
export function queryInput(
  relation: string,
  workloads: Record<string, WorkloadSelector>,
  window: ObserveWindow,
  vpcCidrs: readonly string[] = [],
  previous: Iterable<ObservedFile> = [],
): ObserveQueryInput {
  const winFrom = epochOf(window.from);
  const winTo = epochOf(addDays(window.to, 1));
  const scanFrom = winFrom - LOOKBACK_SECONDS;
  return {
    relation,
    workloads: Object.keys(workloads)
      .sort()
      .map((name) => workloadMatch(name, workloads[name]!)),
    vpc: rangeMatch(vpcCidrs),
    dayFrom: dayOf(scanFrom).replace(/-/g, '/'),
    dayTo: window.to.replace(/-/g, '/'),
    scanFrom,
    winFrom,
    winTo,
    carried: carriedConnections(previous),
  };
}

/** The open connections of the previous observed files, once each, in a fixed order (the query's VALUES rows). */
export function carriedConnections(previous: Iterable<ObservedFile>): CarriedConnection[] {
  const out = new Map<string, CarriedConnection>();
  for (const o of previous) for (const c of o.openConnections ?? []) out.set(`${c.client} ${c.clientPort} ${c.server} ${c.serverPort}`, c);
  return [...out.entries()].sort(([a], [b]) => compareText(a, b)).map(([, c]) => c);
}

/** A selector in the forms the SQL compares: integer ranges for IPv4, hex prefixes for IPv6. */
function workloadMatch(workload: string, sel: WorkloadSelector): WorkloadMatch {
  return { workload, ...rangeMatch(sel.cidrs), interfaces: [...sel.interfaces], instances: [...sel.instances], subnets: [...sel.subnets] };
}

/** CIDRs as inclusive integer ranges (IPv4) and as a hex prefix plus the allowed next nibble (IPv6). */
export function rangeMatch(cidrs: readonly string[]): RangeMatch {
  const m: RangeMatch = { v4: [], v6: [] };
  for (const text of cidrs) {
    const c = parseCidr(text);
    if (!c) continue;
    const hostBits = BigInt(bits(c.family) - c.prefix);
    if (c.family === 4) {
      m.v4.push({ lo: Number(c.network), hi: Number(c.network + (1n << hostBits) - 1n) });
      continue;
    }
    const hex = c.network.toString(16).padStart(32, '0');
    const full = Math.floor(c.prefix / 4);
    const rem = c.prefix % 4;
    if (rem === 0) {
      m.v6.push({ hex: hex.slice(0, full), nibLo: 0, nibHi: 15 });
    } else {
      const nib = parseInt(hex[full]!, 16);
      m.v6.push({ hex: hex.slice(0, full), nibLo: nib, nibHi: nib + (1 << (4 - rem)) - 1 });
    }
  }
  return m;
}

/** Reads the environment's flow logs with DuckDB and runs the observe query over them. */
export async function readObservationsDuckDb(opts: {
  root: string;
  environmentFile: string;
  config: EnvironmentConfig;
  window: ObserveWindow;
  /** environment.yaml as read, to point at a flowLogs.files pattern that matches nothing. */
  environmentSource?: YamlSource;
  /** The environment's observed files as committed: their open connections keep their decision. */
  previous?: Iterable<ObservedFile>;
}): Promise<Observation> {
  const source: FlowLogSource = {
    root: opts.root,
    baseDir: dirname(opts.environmentFile),
    environment: opts.environmentSource,
    flowLogs: { ...opts.config.flowLogs, engine: 'duckdb' },
  };
  return readObservations({ source, config: opts.config, window: opts.window, previous: opts.previous ?? [], shown: { label: 'observe' } });
}

/**
 * Runs the observe query over the source's flow logs on its engine. On DuckDB, the malformed lines are then found
 * with their file and line (a file that is mostly malformed fails), and a window without records names the files
 * read and the newest record in them.
 */
export async function readObservations(opts: {
  source: FlowLogSource;
  config: EnvironmentConfig;
  window: ObserveWindow;
  /** The environment's observed files as committed: their open connections keep their decision. */
  previous: Iterable<ObservedFile>;
  shown: FlowLogProgress;
}): Promise<Observation> {
  const previous = [...opts.previous];
  const input = (relation: string) => queryInput(relation, opts.config.workloads, opts.window, opts.config.vpcCidrs, previous);
  const observeQuery = {
    render: (relation: string) => renderObserveQuery(input(relation)),
    countFrom: input('flow_logs').winFrom,
    decode: decodeObserveRow,
  };
  const scanned = input('flow_logs');
  return withFlowLogs({ ...opts.source, scan: { from: scanned.scanFrom, to: scanned.winTo } }, opts.shown, async (logs) => {
    const { rows, fallback, unknownFields } = await logs.read(observeQuery);
    if (logs.engine === 'athena') return { rows, malformed: [], files: 0 };
    const { connection, files, bound } = logs;
    // Finding the malformed lines reads the files again: bounded alike.
    const malformed = await withTimeBound(connection, bound, async () => {
      const found = await collectMalformed(connection, files, rows, opts.source.root);
      await checkGarbage(connection, files, found);
      return found;
    });
    const kept = rows.filter((r) => !isMalformedStats(r));
    // A window without records fails; what the files do hold (their newest record) tells a user where the logs stopped.
    const empty =
      sourceStats(kept, 'duckdb').records === 0 ? { fileNames: files.map((f) => f.display), newest: await newestRecord(connection) } : {};
    return {
      rows: kept,
      malformed,
      files: files.length,
      ...(fallback !== undefined ? { fallback } : {}),
      ...(unknownFields ? { unknownFields } : {}),
      ...empty,
    };
  });
}

const MALFORMED = 'MALFORMED:';

/** The start of the newest record in the files (UTC, to the second), or 'none'. */
async function newestRecord(connection: DuckDBConnection): Promise<string> {
  // Malformed lines carry the window's start as theirs (duckdb.ts): they are no record.
  const [row] = await query(
    connection,
    "SELECT max(start) AS newest FROM flow_logs WHERE coalesce(log_status, '') NOT LIKE 'MALFORMED:%'",
    [],
  );
  const newest = numberOrNull(row?.newest);
  return newest === null ? 'none' : new Date(newest * 1000).toISOString().replace('.000Z', 'Z');
}

function isMalformedStats(r: ObserveRow): r is StatsRow {
  return r.kind === 'stats' && r.status.startsWith(MALFORMED);
}

/** Malformed lines with file and line: those the CSV reader refused, and those the view marked. */
async function collectMalformed(
  connection: DuckDBConnection,
  files: readonly FlowLogFile[],
  rows: readonly ObserveRow[],
  root: string,
): Promise<MalformedLine[]> {
  const found = new Map<string, MalformedLine>();
  for (const m of await readRejects(connection, root)) found.set(`${m.file}:${m.line}`, m);
  const marked = new Set(rows.filter(isMalformedStats).map((r) => r.status.slice(MALFORMED.length)));
  for (const f of files) {
    if (!marked.has(f.path)) continue;
    const refused = [...found.values()].filter((m) => m.file === f.display).map((m) => m.line);
    for (const m of await malformedLines(connection, f, root, refused))
      if (!found.has(`${m.file}:${m.line}`)) found.set(`${m.file}:${m.line}`, m);
  }
  return [...found.values()].sort((a, b) => compareText(a.file, b.file) || a.line - b.line);
}

/** Writes observed/<env>/<workload>.yaml for every workload at once (all or none; unchanged files untouched). */
/** The observed files of an environment as files to write (names checked before they become paths). */
export function observedFiles(root: string, environment: string, files: ReadonlyMap<string, ObservedFile>): PlannedFile[] {
  assertSafeName('environment', environment);
  return [...files.values()].map((o) => ({
    path: join(root, 'observed', environment, `${assertSafeName('workload', o.workload)}.yaml`),
    content: renderObservedYaml(o),
  }));
}

export type { Engine };
