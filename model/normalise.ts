/**
 * Step two of validation: schema-valid file data -> the model types, with the contract's defaults filled in.
 * Pure functions; they trust the schema for shapes and leave semantic checks to validate/rules.
 */
import { parsePortSpec, type PortSpec } from '../core/ports.js';
import type {
  AnomalyThresholds,
  DecidedBy,
  DnsFirewallMode,
  Destination,
  DenyRule,
  Engine,
  EnvironmentConfig,
  ExceptionBlock,
  Guardrails,
  IntentRule,
  Mode,
  NetworkFirewallConfig,
  ObservedCoverage,
  ObservedDomain,
  ObservedFile,
  ObservedPolicy,
  OpenConnection,
  PrefixList,
  StateConfig,
  WorkloadIntent,
  WorkloadSelector,
} from './types.js';

/** The contract's defaults; guardrails.yaml may only tighten them. */
export const DEFAULT_GUARDRAILS: Guardrails = {
  exceptions: { maxPrefixIPv4: 24, maxPrefixIPv6: 56, maxPorts: 1, allProtocols: true, maxDays: 180, requireTicket: false },
  expiringSoonDays: 30,
};

/**
 * The report's anomaly thresholds. A beacon every 5 minutes for 2 hours is 24 connections; keep-alive pools are
 * one connection however long they stay open; 100 MB and ten times the usual day keep nightly jobs quiet.
 */
export const DEFAULT_ANOMALIES: AnomalyThresholds = {
  volumeFactor: 10,
  volumeMinBytes: 100_000_000,
  beaconMinFlows: 20,
  beaconMaxJitter: 0.1,
  beaconMaxBytesPerFlow: 16_384,
};

/**
 * The share of the window's days a workload's interfaces must have logged before observe replaces its evidence: half
 * the window. Fewer covered days is a delivery problem more often than a workload that slept.
 */
export const DEFAULT_MIN_COVERAGE = 0.5;

/** What a `service` rule without ports allows: HTTPS to the endpoint. */
const SERVICE_DEFAULT_PORT: PortSpec = { protocol: 'tcp', from: 443, to: 443 };

export interface RawGuardrails {
  exceptions?: Partial<Guardrails['exceptions']>;
  expiringSoonDays?: number;
}

interface RawDestination {
  workload?: string;
  service?: string;
  prefixList?: string;
  cidrs?: string[];
  domains?: string[];
}

interface RawEgressRule {
  to: RawDestination;
  ports?: string[];
  why?: string;
  exception?: ExceptionBlock;
}

interface RawDenyRule {
  to: RawDestination;
  ports?: string[];
  why?: string;
}

export interface RawWorkload {
  workload: string;
  owner: string;
  observed: ObservedPolicy;
  adoptNames?: boolean;
  egress: RawEgressRule[];
  deny?: RawDenyRule[];
}

export interface RawEnvironment {
  environment: string;
  account: string;
  region: string;
  vpc: string;
  vpcCidrs?: string[];
  mode?: Mode;
  promoteFrom?: string | null;
  soakDays?: number;
  flowLogs: {
    engine: Engine;
    files?: string[];
    athena?: EnvironmentConfig['flowLogs']['athena'];
    memoryLimit?: string;
    maxSeconds?: number;
  };
  window?: { days?: number; retainDays?: number; minCoverage?: number };
  workloads: Record<string, Partial<WorkloadSelector>>;
  endpoints?: { routeTables?: string[]; subnets?: string[] };
  quarantine?: { subnet: string; networkAcl: string; reason?: string; allow?: string[] }[];
  quotas?: { rulesPerGroup?: number; naclRulesPerDirection?: number };
  state?: StateConfig;
  terraform?: { awsProvider?: string };
  anomalies?: Partial<AnomalyThresholds>;
  dnsLogs?: { files: string[]; privateZones?: string[] };
  dnsFirewall?: { mode: DnsFirewallMode; allow?: string[]; allowAdopted?: boolean };
  adoptNames?: boolean;
  networkFirewall?: Partial<Omit<NetworkFirewallConfig, 'allow'>> & { allow?: string[] };
}

export interface RawPrefixLists {
  prefixLists: Record<string, { cidrs: string[]; why?: string; maxEntries?: number }>;
}

interface RawObservedEntry {
  destination: string;
  protocol: string | number;
  port?: number;
  flows: number;
}

export interface RawObserved {
  workload: string;
  environment: string;
  window: { from: string; to: string };
  source: ObservedFile['source'];
  addresses?: string[];
  coverage?: ObservedCoverage;
  egress: (RawObservedEntry & {
    service?: string | null;
    bytes: number;
    firstSeen: string;
    lastSeen: string;
    decidedBy: DecidedBy;
    names?: string[];
  })[];
  rejected: (RawObservedEntry & { lastSeen: string })[];
  openConnections?: OpenConnection[];
  domains?: ObservedDomain[];
}

/**
 * Guardrails with defaults filled in. A value that would loosen a default is replaced by the default, so no
 * stage can be weakened by it; validate reports it (rule guardrails-tighten-only).
 */
export function normaliseGuardrails(raw: RawGuardrails | undefined): Guardrails {
  const d = DEFAULT_GUARDRAILS.exceptions;
  const e = raw?.exceptions ?? {};
  return {
    exceptions: {
      maxPrefixIPv4: Math.max(e.maxPrefixIPv4 ?? d.maxPrefixIPv4, d.maxPrefixIPv4),
      maxPrefixIPv6: Math.max(e.maxPrefixIPv6 ?? d.maxPrefixIPv6, d.maxPrefixIPv6),
      maxPorts: Math.min(e.maxPorts ?? d.maxPorts, d.maxPorts),
      allProtocols: true,
      maxDays: Math.min(e.maxDays ?? d.maxDays, d.maxDays),
      requireTicket: e.requireTicket ?? d.requireTicket,
    },
    expiringSoonDays: raw?.expiringSoonDays ?? DEFAULT_GUARDRAILS.expiringSoonDays,
  };
}

export function normaliseEnvironment(raw: RawEnvironment): EnvironmentConfig {
  const workloads: Record<string, WorkloadSelector> = {};
  for (const name of Object.keys(raw.workloads).sort()) {
    const s = raw.workloads[name]!;
    workloads[name] = {
      cidrs: s.cidrs ?? [],
      interfaces: s.interfaces ?? [],
      instances: s.instances ?? [],
      subnets: s.subnets ?? [],
      ...(s.securityGroup !== undefined ? { securityGroup: s.securityGroup } : {}),
      ...(s.retired === true ? { retired: true } : {}),
    };
  }
  return {
    environment: raw.environment,
    account: raw.account,
    region: raw.region,
    vpc: raw.vpc,
    vpcCidrs: raw.vpcCidrs ?? [],
    mode: raw.mode ?? 'audit',
    promoteFrom: raw.promoteFrom ?? null,
    soakDays: raw.soakDays ?? 0,
    flowLogs: {
      engine: raw.flowLogs.engine,
      files: raw.flowLogs.files ?? [],
      ...(raw.flowLogs.athena !== undefined ? { athena: raw.flowLogs.athena } : {}),
      ...(raw.flowLogs.memoryLimit !== undefined ? { memoryLimit: raw.flowLogs.memoryLimit } : {}),
      ...(raw.flowLogs.maxSeconds !== undefined ? { maxSeconds: raw.flowLogs.maxSeconds } : {}),
    },
    window: {
      days: raw.window?.days ?? 14,
      retainDays: raw.window?.retainDays ?? 30,
      minCoverage: raw.window?.minCoverage ?? DEFAULT_MIN_COVERAGE,
    },
    workloads,
    endpoints: { routeTables: raw.endpoints?.routeTables ?? [], subnets: raw.endpoints?.subnets ?? [] },
    quarantine: (raw.quarantine ?? []).map((q) => ({
      subnet: q.subnet,
      networkAcl: q.networkAcl,
      reason: q.reason ?? '',
      allow: q.allow ?? [],
    })),
    quotas: { rulesPerGroup: raw.quotas?.rulesPerGroup ?? 60, naclRulesPerDirection: raw.quotas?.naclRulesPerDirection ?? 20 },
    ...(raw.state !== undefined ? { state: { ...raw.state } } : {}),
    ...(raw.terraform !== undefined ? { terraform: { ...raw.terraform } } : {}),
    ...(raw.dnsLogs !== undefined
      ? { dnsLogs: { files: [...raw.dnsLogs.files], privateZones: [...(raw.dnsLogs.privateZones ?? [])].sort() } }
      : {}),
    ...(raw.dnsFirewall !== undefined
      ? {
          dnsFirewall: {
            mode: raw.dnsFirewall.mode,
            allow: [...new Set(raw.dnsFirewall.allow ?? [])].sort(),
            ...(raw.dnsFirewall.allowAdopted !== undefined ? { allowAdopted: raw.dnsFirewall.allowAdopted } : {}),
          },
        }
      : {}),
    ...(raw.adoptNames !== undefined ? { adoptNames: raw.adoptNames } : {}),
    ...(raw.networkFirewall !== undefined ? { networkFirewall: normaliseNetworkFirewall(raw.networkFirewall) } : {}),
    anomalies: { ...DEFAULT_ANOMALIES, ...raw.anomalies },
  };
}

function normaliseNetworkFirewall(raw: NonNullable<RawEnvironment['networkFirewall']>): NetworkFirewallConfig {
  return {
    ...(raw.policyArn !== undefined ? { policyArn: raw.policyArn } : {}),
    ...(raw.policyName !== undefined ? { policyName: raw.policyName } : {}),
    manage: raw.manage ?? false,
    allow: [...new Set(raw.allow ?? [])].sort(),
    ...(raw.capacity !== undefined ? { capacity: raw.capacity } : {}),
    ruleOrder: raw.ruleOrder ?? 'default',
  };
}

export function normaliseWorkload(raw: RawWorkload): WorkloadIntent {
  return {
    workload: raw.workload,
    owner: raw.owner,
    observed: raw.observed,
    ...(raw.adoptNames !== undefined ? { adoptNames: raw.adoptNames } : {}),
    egress: raw.egress.map((r, index): IntentRule => {
      const to = normaliseDestination(r.to);
      const ports = r.ports === undefined && to.kind === 'service' ? [{ ...SERVICE_DEFAULT_PORT }] : parsePorts(r.ports ?? []);
      return { index, to, ports, why: r.why ?? '', ...(r.exception !== undefined ? { exception: normaliseException(r.exception) } : {}) };
    }),
    deny: (raw.deny ?? []).map((r, index): DenyRule => ({
      index,
      to: normaliseDestination(r.to),
      ports: parsePorts(r.ports ?? []),
      why: r.why ?? '',
    })),
  };
}

export function normalisePrefixLists(raw: RawPrefixLists): Record<string, PrefixList> {
  const out: Record<string, PrefixList> = {};
  for (const name of Object.keys(raw.prefixLists).sort()) {
    const p = raw.prefixLists[name]!;
    out[name] = { name, cidrs: p.cidrs, why: p.why ?? '', maxEntries: p.maxEntries ?? p.cidrs.length };
  }
  return out;
}

export function normaliseObserved(raw: RawObserved): ObservedFile {
  return {
    workload: raw.workload,
    environment: raw.environment,
    window: raw.window,
    source: raw.source,
    ...(raw.addresses !== undefined ? { addresses: [...raw.addresses] } : {}),
    ...(raw.coverage !== undefined ? { coverage: normaliseCoverage(raw.coverage) } : {}),
    egress: raw.egress.map((e) => ({
      destination: e.destination,
      protocol: String(e.protocol),
      ...(e.port !== undefined ? { port: e.port } : {}),
      service: e.service ?? null,
      flows: e.flows,
      bytes: e.bytes,
      firstSeen: e.firstSeen,
      lastSeen: e.lastSeen,
      decidedBy: e.decidedBy,
      ...(e.names !== undefined ? { names: [...e.names] } : {}),
    })),
    rejected: raw.rejected.map((r) => ({
      destination: r.destination,
      protocol: String(r.protocol),
      ...(r.port !== undefined ? { port: r.port } : {}),
      flows: r.flows,
      lastSeen: r.lastSeen,
    })),
    ...(raw.openConnections !== undefined
      ? {
          openConnections: raw.openConnections.map((c) => ({
            client: c.client,
            clientPort: c.clientPort,
            server: c.server,
            serverPort: c.serverPort,
          })),
        }
      : {}),
    ...(raw.domains !== undefined ? { domains: raw.domains.map((d) => ({ ...d, addresses: [...d.addresses] })) } : {}),
  };
}

function normaliseCoverage(c: ObservedCoverage): ObservedCoverage {
  return {
    days: c.days,
    covered: c.covered,
    gaps: [...c.gaps],
    skippedWindows: c.skippedWindows,
    ...(c.kept !== undefined ? { kept: { ...c.kept } } : {}),
  };
}

function normaliseDestination(to: RawDestination): Destination {
  if (to.workload !== undefined) return { kind: 'workload', workload: to.workload };
  if (to.service !== undefined) return { kind: 'service', service: to.service };
  if (to.prefixList !== undefined) return { kind: 'prefixList', prefixList: to.prefixList };
  if (to.domains !== undefined) return { kind: 'domains', domains: [...to.domains] };
  return { kind: 'cidrs', cidrs: to.cidrs ?? [] };
}

function normaliseException(e: ExceptionBlock): ExceptionBlock {
  return { reason: e.reason, owner: e.owner, expires: e.expires, ...(e.ticket !== undefined ? { ticket: e.ticket } : {}) };
}

/** Port specs that parse; the others are reported by the ports-valid rule, which reads the file's own text. */
function parsePorts(texts: readonly string[]): PortSpec[] {
  const out: PortSpec[] = [];
  for (const t of texts) {
    const p = parsePortSpec(t);
    if (!('error' in p)) out.push(p);
  }
  return out;
}
