/**
 * The plain data model every stage works on: what policies/ and observed/ say, after schema checks and
 * normalisation. Readers in model/ build it from files; nothing here does IO.
 */
import type { PortSpec } from '../core/ports.js';
import type { YamlSource } from '../core/yaml-source.js';

export type Mode = 'audit' | 'enforce';
export type ObservedPolicy = 'adopt' | 'review' | 'ignore';
export type Engine = 'duckdb' | 'athena';

/** policies/guardrails.yaml (all optional; defaults per the contract). Guardrails may only tighten. */
export interface Guardrails {
  exceptions: {
    /** Destinations outside the VPC broader than this IPv4 prefix length need an exception (default 24). */
    maxPrefixIPv4: number;
    /** Same for IPv6 (default 56). */
    maxPrefixIPv6: number;
    /** A port range wider than this many ports needs an exception (default 1). */
    maxPorts: number;
    /** `all` protocols needs an exception (default true; cannot be turned off). */
    allProtocols: boolean;
    /** An exception may expire at most this many days ahead (default 180). */
    maxDays: number;
    /** Every exception must name a ticket (default false). */
    requireTicket: boolean;
  };
  /** Exceptions expiring within this many days are listed in plan and PR bodies (default 30). */
  expiringSoonDays: number;
}

export interface WorkloadSelector {
  cidrs: string[];
  interfaces: string[];
  instances: string[];
  subnets: string[];
  /** An existing security group to adopt (import) instead of creating one. */
  securityGroup?: string;
  /** The workload is gone: observe lets its evidence go (no earlier entry kept, no coverage gap reported). */
  retired?: boolean;
}

export interface AthenaConfig {
  database: string;
  table: string;
  workgroup: string;
  outputLocation?: string;
  /** The most a query may scan (e.g. `100GB`): the client stops a query past it. Absent: no cutoff of its own. */
  maxBytesScanned?: string;
}

interface QuarantineEntry {
  subnet: string;
  networkAcl: string;
  reason: string;
  /** Forensics CIDRs still allowed, numbered before the deny pair. */
  allow: string[];
}

/** policies/<env>/environment.yaml */
export interface EnvironmentConfig {
  environment: string;
  account: string;
  region: string;
  vpc: string;
  /** The VPC's CIDR blocks: destinations inside them never need an exception. Absent: every CIDR counts as outside. */
  vpcCidrs: string[];
  mode: Mode;
  promoteFrom: string | null;
  soakDays: number;
  flowLogs: {
    engine: Engine;
    /** Paths, globs or s3:// URLs as written, relative to environment.yaml. */
    files: string[];
    athena?: AthenaConfig;
    /** DuckDB's memory limit (e.g. `2GB`); beyond it the duckdb engine spills to disk. Absent: DuckDB's default. */
    memoryLimit?: string;
    /** The time bound of one observe or report query, DuckDB or Athena (default 1800 s). */
    maxSeconds?: number;
  };
  /**
   * `minCoverage`: the share of the window's days a workload's interfaces must have logged for observe to replace
   * its evidence; below it, the earlier evidence is kept and the workload is reported as a gap (normalise fills in
   * the default; absent only in a config built by hand).
   */
  window: { days: number; retainDays: number; minCoverage?: number };
  /** Workload name -> how its records are recognised. Sorted by name. */
  workloads: Record<string, WorkloadSelector>;
  endpoints: { routeTables: string[]; subnets: string[] };
  quarantine: QuarantineEntry[];
  quotas: { rulesPerGroup: number; naclRulesPerDirection: number };
  /** Terraform state in S3 (environment.yaml `state`); absent: a local file per stack. */
  state?: StateConfig;
  /** environment.yaml `terraform`: the AWS provider versions the stack admits (a Terraform version constraint). */
  terraform?: { awsProvider?: string };
  /** Route 53 Resolver query logs (environment.yaml `dnsLogs`); absent: observe writes no names. */
  dnsLogs?: DnsLogsConfig;
  /** A Route 53 Resolver DNS Firewall for the VPC (environment.yaml `dnsFirewall`). */
  dnsFirewall?: DnsFirewallConfig;
  /**
   * `observed: adopt` workloads adopt names instead of addresses where their names explain the addresses (a
   * workload's own `adoptNames` wins). Absent: false.
   */
  adoptNames?: boolean;
  /** An AWS Network Firewall policy the stack's stateful domain rule groups are for (environment.yaml `networkFirewall`). */
  networkFirewall?: NetworkFirewallConfig;
  /**
   * Thresholds of the report's anomaly triage. normalise fills in the defaults; absent only in a config built by
   * hand (tests, benchmarks), where the defaults apply.
   */
  anomalies?: AnomalyThresholds;
}

export interface DnsLogsConfig {
  /** Paths or globs as written, relative to environment.yaml. */
  files: string[];
  /** The VPC's private hosted zones: names at or below them are the VPC's own, like `*.internal`. */
  privateZones: string[];
}

export type DnsFirewallMode = 'alert' | 'block';

export interface DnsFirewallConfig {
  mode: DnsFirewallMode;
  /** Names every workload of the VPC may resolve, beside their `domains` intent. */
  allow: string[];
  /** Names the workloads adopted (`adoptNames`) join the allowlist too (absent: false). */
  allowAdopted?: boolean;
}

export type NetworkFirewallRuleOrder = 'default' | 'strict';

/** environment.yaml `networkFirewall`: exactly one of policyArn / policyName; `manage` only with policyName. */
export interface NetworkFirewallConfig {
  /** An existing firewall policy: synth writes the rule groups, attaching them is the policy owner's step. */
  policyArn?: string;
  /** The policy's name: an existing one (attach by hand), or, with `manage`, one the stack writes. */
  policyName?: string;
  /** The stack writes `aws_networkfirewall_firewall_policy` named policyName, referencing the rule groups. */
  manage: boolean;
  /** Names every workload may reach by TLS SNI / HTTP Host, beside its own names. */
  allow: string[];
  /** Capacity of each rule group (fixed at creation); absent: from the names, at least 100. */
  capacity?: number;
  /** The policy's stateful rule order the rule groups are written for (default: default action order). */
  ruleOrder: NetworkFirewallRuleOrder;
}

/** The S3 backend of an environment's stack, as written in environment.yaml (defaults applied by the renderer). */
export interface StateConfig {
  bucket: string;
  /** Default `leastpath/<env>.tfstate`. */
  key?: string;
  /** Default: the environment's region. */
  region?: string;
  /** Lock with this DynamoDB table; without it, S3's own lock file (Terraform / OpenTofu 1.10). */
  dynamodbTable?: string;
  kmsKeyId?: string;
}

/** When the report flags a destination (environment.yaml `anomalies`; defaults in model/normalise.ts). */
export interface AnomalyThresholds {
  /** Volume: a day's bytes sent to one external address at least this many times its baseline (median day)... */
  volumeFactor: number;
  /** ...and at least this many bytes. */
  volumeMinBytes: number;
  /** Beacon: at least this many connections to one destination... */
  beaconMinFlows: number;
  /**
   * ...whose start-to-start gaps lie within this share of the period (the median gap), for at least 90% of them
   * (gaps longer than twice the period are pauses and left out)...
   */
  beaconMaxJitter: number;
  /** ...moving at most this many bytes each (both directions). */
  beaconMaxBytesPerFlow: number;
}

export type Destination =
  | { kind: 'workload'; workload: string }
  | { kind: 'service'; service: string }
  | { kind: 'prefixList'; prefixList: string }
  | { kind: 'cidrs'; cidrs: string[] }
  /** DNS names (`*.x.y`: any name below x.y): the addresses observe saw them resolve to, and the DNS Firewall's allowlist. */
  | { kind: 'domains'; domains: string[] };

export interface ExceptionBlock {
  reason: string;
  owner: string;
  /** YYYY-MM-DD */
  expires: string;
  ticket?: string;
}

export interface IntentRule {
  /** Index in the file's `egress` list, for positions in findings. */
  index: number;
  to: Destination;
  /** Parsed ports; a `service` without ports gets tcp/443. */
  ports: PortSpec[];
  why: string;
  exception?: ExceptionBlock;
}

export interface DenyRule {
  index: number;
  to: Destination;
  /** Empty: every protocol and port. */
  ports: PortSpec[];
  why: string;
}

/** policies/<env>/workloads/<workload>.yaml */
export interface WorkloadIntent {
  workload: string;
  owner: string;
  observed: ObservedPolicy;
  /** With `observed: adopt`: adopt names instead of addresses where names explain them; absent: the environment's `adoptNames`. */
  adoptNames?: boolean;
  egress: IntentRule[];
  deny: DenyRule[];
}

export interface PrefixList {
  name: string;
  cidrs: string[];
  why: string;
  /** Max entries reserved (counts against the rules quota of every group that references it). Default: the entry count. */
  maxEntries: number;
}

export type DecidedBy = 'tcp-flags' | 'flow-direction' | 'reverse-flow' | 'listening-port' | 'well-known-port';

export interface ObservedEgress {
  destination: string;
  protocol: string;
  port?: number;
  service: string | null;
  flows: number;
  bytes: number;
  firstSeen: string;
  lastSeen: string;
  decidedBy: DecidedBy;
  /** Names the workload resolved to this address before connecting (only when the environment has dnsLogs). */
  names?: string[];
}

/** A name a workload resolved in the window (observed `domains`). */
export interface ObservedDomain {
  /** Lowercase, no trailing dot: the name asked for (never a CNAME target). */
  name: string;
  queries: number;
  /** The name is on one of the workload's egress entries. */
  connected: boolean;
  firstSeen: string;
  lastSeen: string;
  /** A/AAAA addresses the answers gave (at the end of a CNAME chain), sorted. */
  addresses: string[];
  /** Only ever answered NXDOMAIN. */
  nxdomain?: boolean;
  /** The VPC's own name (`*.internal`, a private zone, an endpoint's name, or answered only with VPC addresses). */
  internal?: boolean;
}

export interface ObservedRejected {
  destination: string;
  protocol: string;
  port?: number;
  flows: number;
  lastSeen: string;
}

/** Which days of the window the workload's own interfaces logged records (OK or NODATA), and their SKIPDATA records. */
export interface ObservedCoverage {
  days: number;
  covered: number;
  /** The days of the window without a record from the workload's interfaces, sorted. */
  gaps: string[];
  /** SKIPDATA records of the workload's own interfaces in the window (records AWS could not capture). */
  skippedWindows: number;
  /** Set when the coverage was below `window.minCoverage`: the entries are those of this earlier window, kept. */
  kept?: { from: string; to: string };
}

/** observed/<env>/<workload>.yaml */
export interface ObservedFile {
  workload: string;
  environment: string;
  window: { from: string; to: string };
  source: { engine: Engine; records: number; skippedWindows: number };
  /** The workload's own addresses seen in the window (absent in files written before leastpath recorded them). */
  addresses?: string[];
  /** Absent in files written before leastpath recorded coverage (their evidence stands on unknown coverage). */
  coverage?: ObservedCoverage;
  egress: ObservedEgress[];
  rejected: ObservedRejected[];
  /** Names the workload resolved in the window (only when the environment has dnsLogs). */
  domains?: ObservedDomain[];
  /**
   * TCP connections of the workload that tcp-flags decided and that were still open at the end of the window (no FIN
   * or RST): observe reads them back so that a later window, which sees only their middle, keeps the decision.
   * Absent when there are none.
   */
  openConnections?: OpenConnection[];
}

/** A TCP connection whose client (the side that sent the SYN) is known; addresses as the flow logs write them. */
export interface OpenConnection {
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
}

/** A model value together with the YAML it was read from (for positions in findings). */
export interface Sourced<T> {
  value: T;
  source: YamlSource;
}

export interface EnvironmentPolicies {
  name: string;
  environment: Sourced<EnvironmentConfig>;
  /** Named prefix lists; empty when prefix-lists.yaml is absent. */
  prefixLists: Record<string, PrefixList>;
  prefixListsSource?: YamlSource;
  /** Workload name -> intent, sorted by name. */
  workloads: Map<string, Sourced<WorkloadIntent>>;
  /** Workload name -> observed evidence (absent until observe ran). */
  observed: Map<string, Sourced<ObservedFile>>;
  /**
   * Files of this environment that exist but are left out of the model because of YAML or schema errors
   * (repository-relative); rules skip conclusions like "no such workload" that such a file could change.
   */
  unloaded: string[];
}

/**
 * policies/ask.yaml (optional): the model `ask` uses and the row limit of `ask` and `sql check`
 * (schemas/ask.schema.json). The API key is never here: `apiKeyEnv` names the environment variable holding it.
 */
export interface AskConfig {
  provider?: 'bedrock' | 'openai-compatible';
  model?: string;
  /** Bedrock: the region of the runtime endpoint (default: the environment's region). */
  region?: string;
  /** openai-compatible: requests go to `${baseUrl}/chat/completions`. */
  baseUrl?: string;
  apiKeyEnv?: string;
  timeoutSeconds?: number;
  maxLimit?: number;
  /** The time bound of a query `ask --run` runs (default 120 s on DuckDB and Athena alike). */
  maxSeconds?: number;
}

/** Everything under policies/ and observed/ of one repository. */
export interface Repo {
  root: string;
  guardrails: Guardrails;
  guardrailsSource?: YamlSource;
  /** policies/ask.yaml, when present and valid. */
  ask?: AskConfig;
  /** Environment name -> its policies, sorted by name. */
  environments: Map<string, EnvironmentPolicies>;
  /** Every environment folder under policies/, sorted, including those not loaded (`--env`, or a broken environment.yaml). */
  environmentNames: string[];
  /** `promoteFrom` of every loaded environment, and of those its promotion chain reaches that `--env` left out. */
  promoteFrom: Map<string, string | null>;
}
