/**
 * The report, decided: which rules are counted and how (the resolved rules here; the rules AWS has today, with
 * `--current`, in verify/current-rules.ts), and the query's rows assembled into the report document (hits, unused
 * rules, rejections, anomalies, daily egress for the charts). Pure; the query is verify/report-sql.ts, the IO
 * verify/report-command.ts.
 */
import type { DnsReport } from './dns-report.js';
import { hostCidr } from '../core/cidr.js';
import { portRange, protocolFromNumber, protocolPort } from '../core/ports.js';
import { compareText } from '../core/text.js';
import { protocolNumber } from '../generators/match.js';
import type { Peer, ResolvedEnvironment, ResolvedRule } from '../generators/model.js';
import { peerText } from '../generators/plan.js';
import type { AnomalyThresholds, ObservedRejected, WorkloadSelector } from '../model/types.js';
import type { ObserveRow } from '../observe/assemble.js';
import { coverageByWorkload } from '../observe/coverage.js';
import { volumeRows, type VolumeRow } from './volume.js';
import { addDays, dayOf, daysBetween, epochOf } from '../core/dates.js';
import { rangeMatch } from '../observe/observe.js';
import type { Anomaly } from './anomaly.js';
import { BEACON_REGULAR_SHARE, type BeaconRow, type HitRow, type RejectedRow, type ReportRow, type RuleMatch } from './report-sql.js';

type Direction = 'egress' | 'ingress';

/** One security-group rule as the report shows it. */
export interface ReportRule {
  /** The workload whose group holds the rule, or the group id when no workload adopts it. */
  group: string;
  direction: Direction;
  /** As AWS writes IpProtocol: tcp, udp, icmp, icmpv6, -1 (every protocol) or an IANA number. */
  protocol: string;
  /** null: every port (or every ICMP type/code). */
  fromPort: number | null;
  toPort: number | null;
  /** A CIDR, `workload:x`, a group id, `prefixList:x`, a prefix list id, or `service:x`. */
  peer: string;
  /** Flow-log records the rule admitted in the window; null when it cannot be counted offline. */
  hits: number | null;
  /** Day of the last hit (YYYY-MM-DD). */
  lastHit: string | null;
  /** false: not counted (never "unused"): `notCounted` says why. */
  counted: boolean;
  notCounted?: string;
  /** SecurityGroupRuleId (with --current). */
  ruleId?: string;
  /** The rule's why (resolved) or Description (--current). */
  why?: string;
  /**
   * With --current: an egress rule of an adopted group that leastpath did not write (no ManagedBy=leastpath tag).
   * The stack never removes it, so it keeps allowing what it allows until it is revoked once.
   */
  outside?: { groupId: string; revoke?: string };
}

/** A rule to count: its report row (without counts) and what the SQL compares, or null when it cannot be counted. */
export interface RuleToCount {
  rule: Omit<ReportRule, 'hits' | 'lastHit' | 'counted'>;
  match: Omit<RuleMatch, 'id'> | null;
}

/** An observed rejection, with its workload. */
type ReportRejected = ObservedRejected & { workload: string };

/** Flows a workload initiated to one destination, per day of the window (the charts). */
export interface DailyEgress {
  workload: string;
  destination: string;
  protocol: string;
  port?: number;
  /** Records per day, one entry per day of the window. */
  flows: number[];
  bytes: number;
}

/** Which days of the window a workload's own interfaces logged records (as observe records it). */
export interface ReportCoverage {
  workload: string;
  days: number;
  covered: number;
  gaps: string[];
}

export interface ReportDocument {
  environment: string;
  /** `noRecords`: the window holds no flow-log record at all (a delivery problem: nothing here is evidence). */
  window: { from: string; to: string; days: number; counted: string; noRecords: boolean };
  /** `resolved` (the rules leastpath would write) or the --current file as given. */
  rulesFrom: string;
  thresholds: AnomalyThresholds;
  summary: {
    rules: number;
    counted: number;
    notCounted: number;
    hits: number;
    unused: number;
    noEvidence: number;
    rejected: number;
    anomalies: number;
    outside: number;
  };
  rules: ReportRule[];
  /** Counted rules without a hit, of workloads whose interfaces logged on some day of the window (unused over those days). */
  unused: ReportRule[];
  /** Counted rules without a hit, of workloads whose interfaces logged nothing in the window: no evidence either way. */
  noEvidence: ReportRule[];
  /** Per workload: the days its interfaces logged records. */
  coverage: ReportCoverage[];
  /** With --current: the egress rules of adopted groups that leastpath did not write (see ReportRule.outside). */
  outside: ReportRule[];
  rejected: ReportRejected[];
  anomalies: Anomaly[];
  daily: DailyEgress[];
  /** With dnsLogs: queries per allowed name, unused names, names an existing DNS Firewall blocked or alerted on. */
  dns?: DnsReport;
}

// --- rules from the resolved environment ---------------------------------------------------------------------

/** The resolved rules (what leastpath would write), each with what the SQL compares. */
export function rulesFromResolved(resolved: ResolvedEnvironment): RuleToCount[] {
  const lists = new Map(resolved.prefixLists.map((pl) => [pl.name, pl.entries.map((e) => e.cidr)]));
  return resolved.groups.flatMap((g) => g.rules.map((r) => resolvedRule(r, lists)));
}

function resolvedRule(r: ResolvedRule, lists: ReadonlyMap<string, string[]>): RuleToCount {
  const protocol = r.protocol === 'all' ? '-1' : String(r.protocol);
  const ports =
    r.fromPort !== undefined && r.toPort !== undefined ? { fromPort: r.fromPort, toPort: r.toPort } : { fromPort: null, toPort: null };
  const rule: RuleToCount['rule'] = { group: r.workload, direction: 'egress', protocol, ...ports, peer: peerText(r.peer), why: r.why };
  const base = { workload: r.workload, direction: 'egress' as const, protocol: protocolCode(protocol), ...ports };
  const peer = resolvedPeer(r.peer, lists);
  if ('notCounted' in peer) return { rule: { ...rule, notCounted: peer.notCounted }, match: null };
  return { rule, match: { ...base, ...peer } };
}

function resolvedPeer(p: Peer, lists: ReadonlyMap<string, string[]>): Pick<RuleMatch, 'peer' | 'peerWorkloads'> | { notCounted: string } {
  switch (p.kind) {
    case 'cidr':
      return { peer: rangeMatch([p.cidr]), peerWorkloads: [] };
    case 'workload':
      return { peer: rangeMatch([]), peerWorkloads: [p.workload] };
    case 'prefixList': {
      const entries = lists.get(p.name);
      return entries
        ? { peer: rangeMatch(entries), peerWorkloads: [] }
        : { notCounted: `prefix list ${p.name}: its entries are not known` };
    }
    case 'awsPrefixList':
      return { notCounted: `AWS-managed prefix list of ${p.service}: its entries are not known offline` };
    case 'endpoint':
      return { notCounted: `interface endpoint of ${p.service}: its addresses are only known in AWS` };
  }
}

/** IpProtocol text as an IANA number; -1 = every protocol. */
export function protocolCode(protocol: string): number {
  if (protocol === '-1' || protocol === 'all') return -1;
  return protocolNumber(protocol);
}

// --- assembling ----------------------------------------------------------------------------------------------

interface AssembleReportInput {
  environment: string;
  window: { from: string; to: string };
  rulesFrom: string;
  rules: readonly RuleToCount[];
  /** Rows of the report query; `rid` of hit rows indexes the counted rules in `rules` order. */
  rows: readonly ReportRow[];
  thresholds: AnomalyThresholds;
  /** The environment's workload selectors, for coverage (without them every workload counts as covered). */
  selectors?: Readonly<Record<string, WorkloadSelector>>;
}

const RECORD_STATUSES = new Set(['OK', 'NODATA', 'SKIPDATA']);

/** Each workload's coverage in the window, from the coverage and iface rows (observe/coverage.ts decides). */
function reportCoverage(input: AssembleReportInput, days: number): ReportCoverage[] {
  if (!input.selectors) return [];
  const rows: ObserveRow[] = [];
  for (const r of input.rows) {
    if (r.kind === 'coverage')
      rows.push({ kind: 'coverage', status: r.status ?? '-', iface: r.iface, epochDay: r.epochDay, records: r.records, place: r.place });
    else if (r.kind === 'iface' && r.workload !== null) rows.push({ kind: 'address', workload: r.workload, address: null, iface: r.iface });
  }
  const by = coverageByWorkload(rows, input.selectors, input.window, days);
  return [...by].map(([workload, c]) => ({ workload, days: c.days, covered: c.covered, gaps: c.gaps }));
}

/** The counted rules in the SQL's form, numbered by their index in `rules`. */
export function ruleMatches(rules: readonly RuleToCount[]): RuleMatch[] {
  return rules.flatMap((r, id) => (r.match ? [{ id, ...r.match }] : []));
}

export function assembleReport(input: AssembleReportInput): ReportDocument {
  const days = daysBetween(input.window.from, input.window.to) + 1;
  const hits = new Map<number, HitRow>();
  for (const r of input.rows) if (r.kind === 'hit' && r.rule !== null) hits.set(r.rule, r);
  const rules: ReportRule[] = input.rules.map((r, id) => {
    if (!r.match) return { ...r.rule, hits: null, lastHit: null, counted: false };
    const h = hits.get(id);
    return { ...r.rule, hits: h?.hits ?? 0, lastHit: h?.lastStart != null ? dayOf(h.lastStart) : null, counted: true };
  });
  rules.sort(compareReportRules);
  const coverage = reportCoverage(input, days);
  // Records, not malformed lines (the view dates those at the window's start).
  const first = epochOf(input.window.from) / 86_400;
  const noRecords = !input.rows.some(
    (r) => r.kind === 'coverage' && r.records > 0 && RECORD_STATUSES.has(r.status ?? '') && r.epochDay !== null && r.epochDay >= first,
  );
  // A rule is unused only over days its workload's interfaces logged; with none, the window says nothing about it.
  const silent = (r: ReportRule) => noRecords || coverage.find((c) => c.workload === r.group)?.covered === 0;
  const unused = rules.filter((r) => r.counted && r.hits === 0 && !silent(r));
  const noEvidence = rules.filter((r) => r.counted && r.hits === 0 && silent(r));
  const outside = rules.filter((r) => r.outside !== undefined);

  const rejected: ReportRejected[] = input.rows
    .filter((r): r is RejectedRow => r.kind === 'rejected')
    .map((r) => ({
      workload: r.workload!,
      destination: cidrOf(r.raddr!),
      protocol: protocolName(r.proto),
      ...(portOf(r.proto, r.port) !== undefined ? { port: portOf(r.proto, r.port)! } : {}),
      flows: r.flows,
      lastSeen: dayOf(r.lastStart),
    }))
    .sort(
      (a, b) =>
        compareText(a.workload, b.workload) ||
        compareText(a.destination, b.destination) ||
        compareText(a.protocol, b.protocol) ||
        (a.port ?? -1) - (b.port ?? -1),
    );

  const dailyMap = new Map<string, DailyEgress>();
  for (const r of input.rows) {
    if (r.kind !== 'daily' || r.day === null || r.day < 0 || r.day >= days) continue;
    const port = portOf(r.proto, r.port);
    const key = `${r.workload}\0${r.raddr}\0${r.proto}\0${port ?? ''}`;
    const e = dailyMap.get(key) ?? {
      workload: r.workload!,
      destination: cidrOf(r.raddr!),
      protocol: protocolName(r.proto),
      ...(port !== undefined ? { port } : {}),
      flows: new Array<number>(days).fill(0),
      bytes: 0,
    };
    e.flows[r.day]! += r.flows;
    e.bytes += r.bytes;
    dailyMap.set(key, e);
  }
  const daily = [...dailyMap.values()].sort(
    (a, b) =>
      compareText(a.workload, b.workload) ||
      compareText(a.destination, b.destination) ||
      compareText(a.protocol, b.protocol) ||
      (a.port ?? -1) - (b.port ?? -1),
  );

  const anomalies = [
    ...volumeRows(input.rows, input.thresholds).map((r) => volumeAnomaly(r, input.window.from)),
    ...input.rows.filter((r): r is BeaconRow => r.kind === 'beacon').map((r) => beaconAnomaly(r, input.thresholds)),
  ].sort(
    (a, b) =>
      compareText(a.workload, b.workload) ||
      compareText(a.kind, b.kind) ||
      compareText(a.destination, b.destination) ||
      compareText(a.from, b.from) ||
      (a.port ?? -1) - (b.port ?? -1),
  );

  const counted = rules.filter((r) => r.counted);
  return {
    environment: input.environment,
    window: {
      from: input.window.from,
      to: input.window.to,
      days,
      counted: `flow-log records from ${input.window.from} 00:00 to ${input.window.to} 24:00 UTC (${days} days)`,
      noRecords,
    },
    rulesFrom: input.rulesFrom,
    thresholds: { ...input.thresholds },
    summary: {
      rules: rules.length,
      counted: counted.length,
      notCounted: rules.length - counted.length,
      hits: counted.reduce((n, r) => n + (r.hits ?? 0), 0),
      unused: unused.length,
      noEvidence: noEvidence.length,
      rejected: rejected.length,
      anomalies: anomalies.length,
      outside: outside.length,
    },
    rules,
    unused,
    noEvidence,
    coverage,
    outside,
    rejected,
    anomalies,
    daily,
  };
}

function volumeAnomaly(r: VolumeRow, windowFrom: string): Anomaly {
  const date = addDays(windowFrom, r.day);
  const baseline = r.baseline;
  const days = r.baselineDays;
  const of = r.of;
  const port = portOf(r.proto, r.port);
  const factor = baseline > 0 ? r.bytes / baseline : Infinity;
  const basis = of === 'destination' ? 'to this destination' : 'to all external destinations (first day seen here)';
  return {
    ...anomalyHead('volume', r, port, r.flows),
    from: date,
    to: date,
    why:
      `sent ${formatBytes(r.bytes)} on ${date} (mostly ${protocolPort({ protocol: protocolName(r.proto), port })}), ` +
      `${Number.isFinite(factor) ? `${factor.toFixed(1)} times` : 'far above'} its median day of ${formatBytes(baseline)} ${basis} over ${days} other day(s)`,
    baseline: { bytesPerDay: Math.round(baseline), days, of },
  };
}

/** What every anomaly of a report row says: kind, workload, destination, protocol, port, flows, bytes. */
function anomalyHead(
  kind: Anomaly['kind'],
  r: { workload: string | null; raddr: string | null; proto: number | null; bytes: number },
  port: number | undefined,
  flows: number,
): Pick<Anomaly, 'kind' | 'workload' | 'destination' | 'protocol' | 'port' | 'flows' | 'bytes'> {
  return {
    kind,
    workload: r.workload!,
    destination: cidrOf(r.raddr!),
    protocol: protocolName(r.proto),
    ...(port !== undefined ? { port } : {}),
    flows,
    bytes: r.bytes,
  };
}

function beaconAnomaly(r: BeaconRow, t: AnomalyThresholds): Anomaly {
  const period = r.period ?? 0;
  const jitter = period > 0 ? (r.gapDeviation ?? 0) / period : 0;
  const port = portOf(r.proto, r.port);
  const first = r.firstStart ?? 0;
  const last = r.lastStart ?? 0;
  const perFlow = r.connections > 0 ? Math.round(r.bytes / r.connections) : 0;
  return {
    ...anomalyHead('beacon', r, port, r.connections),
    from: dayOf(first),
    to: dayOf(last),
    why:
      `${r.connections} connections to ${protocolPort({ protocol: protocolName(r.proto), port })} from ${time(first)} to ${time(last)} UTC, ` +
      `one every ${Math.round(period)} s (jitter ${(jitter * 100).toFixed(1)}%: the regular gaps vary by ${(r.gapDeviation ?? 0).toFixed(1)} s; ` +
      `at least ${BEACON_REGULAR_SHARE * 100}% of the gaps within ${(t.beaconMaxJitter * 100).toFixed(0)}% of the period is regular, pauses left out), ` +
      `${formatBytes(perFlow)} per connection`,
    periodSeconds: Math.round(period * 10) / 10,
    jitter: Math.round(jitter * 10000) / 10000,
    firstStart: first,
    lastStart: last,
  };
}

function time(epoch: number): string {
  return new Date(epoch * 1000).toISOString().slice(0, 16).replace('T', ' ');
}

/** `tcp/443`, `tcp/8000-8100`, `udp` (every port), `all`. */
export function rulePorts(r: Pick<ReportRule, 'protocol' | 'fromPort' | 'toPort'>): string {
  if (r.protocol === '-1') return 'all';
  if (r.fromPort === null || r.toPort === null) return r.protocol;
  return `${r.protocol}/${portRange(r.fromPort, r.toPort)}`;
}

/** `1.5 MB`, `740 B` (decimal units, one decimal). */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${units[i]}`;
}

function protocolName(proto: number | null): string {
  return proto === null ? '-' : String(protocolFromNumber(proto));
}

function portOf(proto: number | null, port: number | null): number | undefined {
  return (proto === 6 || proto === 17) && port !== null ? port : undefined;
}

function cidrOf(addr: string): string {
  return hostCidr(addr) ?? addr;
}

function compareReportRules(a: ReportRule, b: ReportRule): number {
  return (
    compareText(a.group, b.group) ||
    compareText(a.direction, b.direction) ||
    compareText(a.peer, b.peer) ||
    compareText(a.protocol, b.protocol) ||
    (a.fromPort ?? -1) - (b.fromPort ?? -1) ||
    (a.toPort ?? -1) - (b.toPort ?? -1) ||
    compareText(a.ruleId ?? '', b.ruleId ?? '')
  );
}
