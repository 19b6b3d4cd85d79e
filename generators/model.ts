/**
 * The resolved rule model: what the generators decide from policies/ and observed/, and the only input of the
 * stacks (Terraform rendering), the what-if replay, the hit counts and the PR bodies. Plain data, no IO.
 */
import type { Protocol } from '../core/ports.js';
import type { DecidedBy, ExceptionBlock, Mode } from '../model/types.js';

/** The one destination of an egress rule, as AWS models it. */
export type Peer =
  /** `cidr_ipv4` / `cidr_ipv6` (canonical text). */
  | { kind: 'cidr'; cidr: string }
  /** `referenced_security_group_id`: another workload's group. */
  | { kind: 'workload'; workload: string }
  /** `referenced_security_group_id`: the security group of an interface endpoint. */
  | { kind: 'endpoint'; service: string }
  /** `prefix_list_id`: a customer-managed list (from prefix-lists.yaml, or made by compaction). */
  | { kind: 'prefixList'; name: string }
  /** `prefix_list_id`: the AWS-managed list of a gateway endpoint's service (s3, dynamodb). */
  | { kind: 'awsPrefixList'; service: string };

/** `observed-domain`: an address of a name an `adoptNames` workload adopted (generators/adopt-names.ts). */
type Provenance = 'intent' | 'intent-domain' | 'observed' | 'observed-domain';

/** Where a rule comes from, for findings and PR bodies. */
interface RuleSource {
  /** Repository-relative file. */
  file: string;
  /** Path inside it, e.g. `egress[2]` or `egress[14]` of the observed file. */
  path: string;
}

/** What the flow logs showed for an observed rule (summed over the destinations it covers). */
export interface Evidence {
  flows: number;
  bytes: number;
  firstSeen: string;
  lastSeen: string;
  decidedBy: DecidedBy;
  /** The observed /32 and /128 destinations the rule stands for (more than one after compaction). */
  destinations: string[];
}

export interface ResolvedRule {
  workload: string;
  peer: Peer;
  protocol: Protocol;
  /** For tcp/udp; both absent = every port. For icmp/icmpv6 absent = every type. */
  fromPort?: number;
  toPort?: number;
  provenance: Provenance;
  /** The `why` of the intent rule, or what was seen for an observed one. */
  why: string;
  source: RuleSource;
  exception?: ExceptionBlock;
  evidence?: Evidence;
}

export interface QuotaUse {
  workload: string;
  limit: number;
  /** Rules of the group. */
  rules: number;
  /** Extra units from referenced prefix lists: each counts its max entries, less the one rule it is. */
  prefixListEntries: number;
  used: number;
}

export interface ResolvedGroup {
  workload: string;
  owner: string;
  /** Existing group to adopt (import) instead of creating one. */
  adoptId?: string;
  rules: ResolvedRule[];
  quota: QuotaUse;
}

export interface ResolvedPrefixList {
  name: string;
  family: 4 | 6;
  entries: { cidr: string; description: string }[];
  maxEntries: number;
  why: string;
  origin: 'policy' | 'compaction';
}

export interface ResolvedEndpoint {
  service: string;
  type: 'Gateway' | 'Interface';
  /** Gateway: the route tables it is attached to. */
  routeTables: string[];
  /** Interface: the subnets of its network interfaces. */
  subnets: string[];
  /** Workloads whose rules use it (an interface endpoint's group admits 443 from their groups). */
  workloads: string[];
  /** Why it exists: the intent rules or observed traffic that asked for it. */
  why: string;
}

/** One `aws_network_acl_rule` of a quarantine. */
export interface NaclRule {
  subnet: string;
  networkAcl: string;
  ruleNumber: number;
  egress: boolean;
  action: 'allow' | 'deny';
  cidr: string;
  reason: string;
}

/** An observed destination that was not turned into a rule, and why. */
export interface NotAdopted {
  workload: string;
  destination: string;
  protocol: string;
  port?: number;
  flows: number;
  reason: 'review' | 'ignore' | 'denied' | 'covered' | 'aws-service';
  /** For `denied`: the deny entry's why; for `covered`: the rule that covers it; for `aws-service`: the endpoint. */
  detail: string;
}

/** What compaction did to fit a group into its quota. */
export interface CompactionReport {
  workload: string;
  protocol: Protocol;
  port?: number;
  /** Destinations before, CIDRs after. */
  before: number;
  after: number;
  /** Addresses the merged CIDRs allow that were never observed. */
  extraAddresses: string;
  merged: { cidr: string; covers: string[] }[];
}

export interface ExceptionUse {
  workload: string;
  file: string;
  path: string;
  destination: string;
  ports: string;
  reason: string;
  owner: string;
  ticket?: string;
  expires: string;
  daysLeft: number;
  expiringSoon: boolean;
}

/** The S3 backend of a stack, every default applied. */
export interface ResolvedState {
  bucket: string;
  key: string;
  region: string;
  /** `dynamodb`: a DynamoDB table locks the state; `lockfile`: S3's own lock file (Terraform / OpenTofu 1.10). */
  lock: { kind: 'dynamodb'; table: string } | { kind: 'lockfile' };
  kmsKeyId?: string;
}

export interface ResolvedEnvironment {
  environment: string;
  account: string;
  region: string;
  vpc: string;
  mode: Mode;
  groups: ResolvedGroup[];
  prefixLists: ResolvedPrefixList[];
  endpoints: ResolvedEndpoint[];
  quarantine: NaclRule[];
  /** Where the stack keeps its Terraform state: S3 with locking, or (absent) a local file. */
  state?: ResolvedState;
  /** The AWS provider's version constraint (environment.yaml `terraform.awsProvider`); absent: the renderer's default range. */
  awsProvider?: string;
  notAdopted: NotAdopted[];
  compaction: CompactionReport[];
  exceptions: ExceptionUse[];
  /** The VPC's DNS Firewall (environment.yaml `dnsFirewall`): its mode and the allowlist, sorted. */
  dnsFirewall?: { mode: 'alert' | 'block'; domains: string[] };
  /** Names `adoptNames` workloads adopted instead of addresses (absent when none). */
  adoptedNames?: AdoptedName[];
  /** AWS Network Firewall rule groups (environment.yaml `networkFirewall`). */
  networkFirewall?: ResolvedNetworkFirewall;
}

/** The stateful domain-list rule groups of an environment, and the policy they are for. */
export interface ResolvedNetworkFirewall {
  policyArn?: string;
  policyName?: string;
  /** The stack writes the policy (named policyName) referencing the groups. */
  manage: boolean;
  ruleOrder: 'default' | 'strict';
  /** One per workload with names: `targets` as the domain list writes them (`.x.y` for `*.x.y`), sorted. */
  groups: { workload: string; targets: string[]; homeNet: string[]; capacity: number }[];
  /** Workloads with names but no known address: no rule group (its HOME_NET would be the whole VPC). */
  unplaced: string[];
  /** The what-if: observed TCP entries (outside the VPC) whose names are all off their workload's list. */
  dropped: NetworkFirewallDrop[];
}

/** An observed entry a workload's rule group would drop: its names are not on the workload's list. */
export interface NetworkFirewallDrop {
  workload: string;
  destination: string;
  port: number;
  names: string[];
  flows: number;
}

/** What plan shows of one adopted name. */
export interface AdoptedName {
  workload: string;
  name: string;
  /** `tcp/443`: the ports the workload used with the name's addresses. */
  ports: string[];
  /** The addresses the rules allow (host CIDRs, sorted). */
  addresses: string[];
  /** The observed destinations the name explains (host CIDRs, sorted). */
  explains: string[];
  /** `observed/<env>/<workload>.yaml domains[i]`. */
  source: string;
}
