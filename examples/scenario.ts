/**
 * The example organisation's three VPCs (dev, stg, prod) as their flow logs tell it: the hosts, the connections
 * the scenario intends, how each connection becomes flow-log records on every interface that logs it, and the
 * ground truth `observe` is tested against.
 *
 * Pure: no IO, no clock, no Math.random. `examples/generate.ts` gzips and writes what `renderFiles` returns.
 *
 * Sources for the record shapes (AWS VPC user guide):
 * - NAT gateway records: https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html#flow-log-example-nat
 * - TCP flag sequences (2/18 to open, 1 to close, 3/19 for short connections): same page, #flow-log-example-tcp-flag
 * - `-` for absent fields, `instance-id` `-` on requester-managed interfaces, `account-id` `unknown` on some
 *   AWS-created interfaces, what is never logged: https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs.html
 * - S3 delivery path and file names: https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3.html
 */
import { compareCidr, hostCidr, parseCidr } from '../core/cidr.js';
import { compareText } from '../core/text.js';
import type { ObservedEgress, ObservedRejected } from '../model/types.js';

export type ExampleEnv = 'dev' | 'stg' | 'prod';
export const EXAMPLE_ENVS: readonly ExampleEnv[] = ['dev', 'stg', 'prod'];

const REGION = 'eu-west-1';
const HOUR = 3600;
const DAY = 86400;
/** 2026-11-06T00:00Z: logs start two days before the observation window. */
export const LOG_START = Date.UTC(2026, 10, 6) / 1000;
/** The observation window [2026-11-08T00:00Z, 2026-11-22T00:00Z), by record `start`. */
export const WINDOW_START = Date.UTC(2026, 10, 8) / 1000;
export const WINDOW_END = Date.UTC(2026, 10, 22) / 1000;
/** Logs end with the window: no record ends at or after it (that file would be delivered on 11-22). */
const LOG_END = WINDOW_END;
const LOG_DAYS = (LOG_END - LOG_START) / DAY;
/** One log file per flow log and six hours, named after the start of its slot (records are filed by `end`). */
const FILE_SLOT = 6 * HOUR;

// ---------------------------------------------------------------------------------------------------------------
// Formats

export type FieldName =
  | 'version'
  | 'account-id'
  | 'interface-id'
  | 'srcaddr'
  | 'dstaddr'
  | 'srcport'
  | 'dstport'
  | 'protocol'
  | 'packets'
  | 'bytes'
  | 'start'
  | 'end'
  | 'action'
  | 'log-status'
  | 'vpc-id'
  | 'subnet-id'
  | 'instance-id'
  | 'tcp-flags'
  | 'type'
  | 'pkt-srcaddr'
  | 'pkt-dstaddr'
  | 'region'
  | 'az-id'
  | 'pkt-src-aws-service'
  | 'pkt-dst-aws-service'
  | 'flow-direction'
  | 'traffic-path';

/** The default format (version 2), in AWS's order. */
export const DEFAULT_FORMAT: readonly FieldName[] = [
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

/** dev: a version 5 custom format whose order has nothing to do with the default one. */
export const DEV_FORMAT: readonly FieldName[] = [
  'start',
  'end',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'action',
  'log-status',
  'flow-direction',
  'traffic-path',
  'packets',
  'bytes',
  'tcp-flags',
  'pkt-srcaddr',
  'pkt-dstaddr',
  'pkt-src-aws-service',
  'pkt-dst-aws-service',
  'type',
  'instance-id',
  'subnet-id',
  'vpc-id',
  'account-id',
  'version',
];

/** prod: another version 5 order, with the v4 location fields too. */
const PROD_FORMAT: readonly FieldName[] = [
  'version',
  'account-id',
  'vpc-id',
  'subnet-id',
  'instance-id',
  'interface-id',
  'region',
  'az-id',
  'type',
  'flow-direction',
  'srcaddr',
  'srcport',
  'dstaddr',
  'dstport',
  'pkt-srcaddr',
  'pkt-dstaddr',
  'protocol',
  'bytes',
  'packets',
  'tcp-flags',
  'start',
  'end',
  'action',
  'traffic-path',
  'pkt-src-aws-service',
  'pkt-dst-aws-service',
  'log-status',
];

// ---------------------------------------------------------------------------------------------------------------
// Seeded randomness

/** A deterministic source of numbers (mulberry32 seeded by the FNV-1a hash of a name). */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** FNV-1a, 32 bits: seeds and the hash part of file names. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function makeRng(seed: string): Rng {
  let state = fnv1a(seed);
  function next(): number {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    chance: (p) => next() < p,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Hosts

export type Workload = 'web' | 'api' | 'batch';
export type HostRole = Workload | 'alb' | 'nat' | 'database' | 'cache' | 'endpoint' | 'scanner' | 'idle';

/** One network interface in the VPC (every host here has exactly one). */
export interface Host {
  name: string;
  role: HostRole;
  /** The workload whose own interface this is; null for everything else in the VPC. */
  workload: Workload | null;
  ipv4: string;
  ipv6: string | null;
  interfaceId: string;
  /** null on requester-managed interfaces (NAT gateway, load balancer, endpoint): AWS writes `-`. */
  instanceId: string | null;
  subnetId: string;
  azId: string;
  /** What AWS writes in `account-id` for this interface (`unknown` on some AWS-created ones). */
  accountId: string;
  /** Source ports it picks as a client: Linux 32768-60999, Windows 49152-65535, ELB/NAT 1024-65535. */
  ephemeral: readonly [number, number];
  description: string;
}

const LINUX: readonly [number, number] = [32768, 60999];
const WINDOWS: readonly [number, number] = [49152, 65535];
const ELB: readonly [number, number] = [1024, 65535];
/** Ports something listens on in this scenario: never handed out as an ephemeral port, so port heuristics stay sound. */
const SERVICE_PORTS = new Set([22, 80, 123, 443, 1812, 4444, 5432, 6379, 8080, 8443]);

interface Net {
  env: ExampleEnv;
  accountId: string;
  vpcId: string;
  flowLogId: string;
  format: readonly FieldName[];
  /** Second octet of the VPC's 10.x.0.0/16. */
  octet: number;
  /** Three hex digits that start this environment's resource ids (020, 030, 040). */
  hex: string;
  /** The VPC's IPv6 /56 without its trailing zero groups: 2001:db8:1200. */
  v6: string;
}

const NETS: Record<ExampleEnv, Net> = {
  dev: {
    env: 'dev',
    accountId: '111111111111',
    vpcId: 'vpc-020a1b2c3d4e5f607',
    flowLogId: 'fl-020f10a0b0c0d0e0f',
    format: DEV_FORMAT,
    octet: 20,
    hex: '020',
    v6: '2001:db8:1200',
  },
  stg: {
    env: 'stg',
    accountId: '222222222222',
    vpcId: 'vpc-030a1b2c3d4e5f607',
    flowLogId: 'fl-030f10a0b0c0d0e0f',
    format: DEFAULT_FORMAT,
    octet: 30,
    hex: '030',
    v6: '2001:db8:1300',
  },
  prod: {
    env: 'prod',
    accountId: '333333333333',
    vpcId: 'vpc-040a1b2c3d4e5f607',
    flowLogId: 'fl-040f10a0b0c0d0e0f',
    format: PROD_FORMAT,
    octet: 40,
    hex: '040',
    v6: '2001:db8:1400',
  },
};

/** The hosts of one VPC. Ids named in policies/<env>/environment.yaml are used as written there. */
function hostsOf(net: Net): Host[] {
  const { hex, octet, v6 } = net;
  const ip = (third: number, fourth: number): string => `10.${octet}.${third}.${fourth}`;
  const subnet = {
    public: `subnet-${hex}a0b1c2d3e4f501`,
    web: `subnet-${hex}1e1e1e1e1e1e01`,
    app: `subnet-${hex}a9a9a9a9a9a901`,
    // prod selects batch by this subnet (policies/prod/environment.yaml).
    batch: net.env === 'prod' ? 'subnet-040c0ffee0123456' : `subnet-${hex}ba7c4ba7c40001`,
    data: `subnet-${hex}da7ada7ada7a01`,
    endpointsA: `subnet-${hex}a1b2c3d4e5f607`,
    endpointsB: `subnet-${hex}e5f6a7b8c9d0e1`,
    tools: `subnet-${hex}70015700157001`,
  };
  const base = { accountId: net.accountId, ipv6: null, workload: null, ephemeral: LINUX };
  // stg runs its batch jobs on Windows: clients there use the Windows dynamic range.
  const batchEphemeral = net.env === 'stg' ? WINDOWS : LINUX;
  return [
    {
      ...base,
      name: 'alb-a',
      role: 'alb',
      ipv4: ip(0, 10),
      interfaceId: `eni-${hex}a1b0000000000a`,
      instanceId: null,
      subnetId: subnet.public,
      azId: 'euw1-az1',
      ephemeral: ELB,
      description: 'application load balancer node (public subnet)',
    },
    {
      ...base,
      name: 'alb-b',
      role: 'alb',
      ipv4: ip(0, 11),
      interfaceId: `eni-${hex}a1b0000000000b`,
      instanceId: null,
      subnetId: subnet.public,
      azId: 'euw1-az2',
      ephemeral: ELB,
      description: 'application load balancer node (public subnet)',
    },
    {
      ...base,
      name: 'nat',
      role: 'nat',
      ipv4: ip(0, 50),
      interfaceId: `eni-${hex}0a70a70a70a70a`,
      instanceId: null,
      subnetId: subnet.public,
      azId: 'euw1-az1',
      ephemeral: ELB,
      description: 'NAT gateway (public subnet)',
    },
    {
      ...base,
      name: 'web-1',
      role: 'web',
      workload: 'web',
      ipv4: ip(1, 11),
      ipv6: `${v6}:1::11`,
      interfaceId: `eni-${hex}c0ffee00000011`,
      instanceId: `i-${hex}0e0b00000000a1`,
      subnetId: subnet.web,
      azId: 'euw1-az1',
      description: 'web server',
    },
    {
      ...base,
      name: 'web-2',
      role: 'web',
      workload: 'web',
      ipv4: ip(1, 12),
      ipv6: `${v6}:1::12`,
      interfaceId: `eni-${hex}c0ffee00000012`,
      instanceId: `i-${hex}0e0b00000000a2`,
      subnetId: subnet.web,
      azId: 'euw1-az2',
      description: 'web server',
    },
    {
      ...base,
      name: 'api',
      role: 'api',
      workload: 'api',
      ipv4: ip(2, 10),
      ipv6: `${v6}:2::10`,
      interfaceId: `eni-${hex}aa11bb22cc33dd4`,
      instanceId: `i-${hex}0a0100000000a1`,
      subnetId: subnet.app,
      azId: 'euw1-az1',
      description: 'API server',
    },
    {
      ...base,
      name: 'batch',
      role: 'batch',
      workload: 'batch',
      ipv4: ip(3, 20),
      interfaceId: `eni-${hex}bb22cc33dd44ee`,
      instanceId: `i-${hex}123456789abcde`,
      subnetId: subnet.batch,
      azId: 'euw1-az3',
      ephemeral: batchEphemeral,
      description: 'batch host',
    },
    {
      ...base,
      name: 'db',
      role: 'database',
      ipv4: ip(10, 5),
      interfaceId: `eni-${hex}db000000000005`,
      instanceId: `i-${hex}0db00000000005`,
      subnetId: subnet.data,
      azId: 'euw1-az1',
      description: 'PostgreSQL database',
    },
    {
      ...base,
      name: 'cache',
      role: 'cache',
      ipv4: ip(10, 6),
      interfaceId: `eni-${hex}cac00000000006`,
      instanceId: `i-${hex}0cac0000000006`,
      subnetId: subnet.data,
      azId: 'euw1-az2',
      description: 'Redis cache (admits the web tier only)',
    },
    {
      ...base,
      name: 'secretsmanager-a',
      role: 'endpoint',
      ipv4: ip(20, 15),
      interfaceId: `eni-${hex}5ec00000000a15`,
      instanceId: null,
      subnetId: subnet.endpointsA,
      azId: 'euw1-az1',
      accountId: 'unknown',
      description: 'Secrets Manager interface endpoint',
    },
    {
      ...base,
      name: 'secretsmanager-b',
      role: 'endpoint',
      ipv4: ip(21, 15),
      interfaceId: `eni-${hex}5ec00000000b15`,
      instanceId: null,
      subnetId: subnet.endpointsB,
      azId: 'euw1-az2',
      accountId: 'unknown',
      description: 'Secrets Manager interface endpoint',
    },
    {
      ...base,
      name: 'scanner',
      role: 'scanner',
      ipv4: ip(99, 10),
      interfaceId: `eni-${hex}5ca00000000010`,
      instanceId: `i-${hex}05ca0000000010`,
      subnetId: subnet.tools,
      azId: 'euw1-az1',
      description: 'security team vulnerability scanner',
    },
    {
      ...base,
      name: 'bastion',
      role: 'idle',
      ipv4: ip(99, 20),
      interfaceId: `eni-${hex}ba500000000020`,
      instanceId: `i-${hex}0ba50000000020`,
      subnetId: subnet.tools,
      azId: 'euw1-az2',
      description: 'break-glass bastion, idle: NODATA only',
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Destinations outside the VPC (the same partners serve every environment)

/**
 * Public AWS addresses, with the `pkt-*-aws-service` value AWS writes for them. The ranges are the ones AWS
 * publishes for eu-west-1 in ip-ranges.json (S3 52.218.0.0/17, DynamoDB 52.94.24.0/23; SQS has no subset of its
 * own and shows as AMAZON). Plausible, not guaranteed current: tests must not depend on a live ip-ranges.json.
 */
export const AWS_ADDRESSES: Readonly<Record<string, string>> = {
  '52.218.16.34': 'S3',
  '52.218.40.173': 'S3',
  '52.218.97.6': 'S3',
  '52.218.120.202': 'S3',
  '52.94.24.10': 'DYNAMODB',
  '52.94.24.183': 'DYNAMODB',
  '52.94.25.37': 'DYNAMODB',
  '52.94.49.77': 'AMAZON',
};
export const S3_ADDRESSES = ['52.218.16.34', '52.218.40.173', '52.218.97.6', '52.218.120.202'];
export const DYNAMODB_ADDRESSES = ['52.94.24.10', '52.94.24.183', '52.94.25.37'];
export const SQS_ADDRESS = '52.94.49.77';

/** card-partner prefix list: 203.0.113.0/28, 198.51.100.16/29. */
export const CARD_PARTNER = ['203.0.113.5', '198.51.100.18'];
/** Customer webhook endpoints (web's `0.0.0.0/0 tcp/443` exception). */
export const WEBHOOKS_V4 = [
  '203.0.113.101',
  '203.0.113.117',
  '203.0.113.150',
  '203.0.113.201',
  '198.51.100.44',
  '198.51.100.58',
  '198.51.100.61',
  '192.0.2.10',
  '192.0.2.25',
  '192.0.2.77',
];
export const WEBHOOKS_V6 = ['2001:db8:4000:1::10', '2001:db8:4000:2::20'];
/** IR-42: web's deny list; still observed egress. */
export const DENIED_IR42 = '192.0.2.200';
/** A customer's streaming webhook: one connection, opened on 11-07, kept open into the window. */
export const LONG_WEBHOOK = '203.0.113.40';
/** A customer who left on 11-07: seen only before the window. */
export const GONE_WEBHOOK = '203.0.113.66';
export const SAAS = '198.51.100.77';
export const RADIUS_PARTNER = '198.51.100.90';
export const FRAUD_V6 = '2001:db8:ffff:10::20';
/** reporting-partner prefix list 198.51.100.128/28: the regulator's SFTP drop. */
export const SFTP = '198.51.100.130';
export const EXPORT_TARGET = '203.0.113.99';
export const BEACON = '198.51.100.200';
/**
 * Link-local: stands in for the odd 169.254/16 record some stacks leave (a sidecar calling the ECS credentials
 * address). A security group can neither allow nor block it, so observe must drop these records.
 */
const LINK_LOCAL = '169.254.170.2';
/** Internet clients of the load balancer come from these /24s. */
const CLIENT_NETS = ['81.2.69.', '89.160.20.', '175.16.199.', '216.160.83.', '2.125.160.'];

// ---------------------------------------------------------------------------------------------------------------
// Connections

/** How the first packet leaves (or reaches) the VPC. */
export type Route =
  | 'in-vpc' // both ends in the VPC (including an interface endpoint's ENI)
  | 'nat-gateway' // private subnet -> NAT gateway -> internet
  | 'gateway-endpoint' // S3 / DynamoDB over the route table's gateway endpoint
  | 'internet-gateway' // IPv6 out through the egress-only internet gateway
  | 'from-internet'; // an internet client to a public-subnet interface

export type Outcome =
  | 'established' // accepted, and responses came back
  | 'rejected-at-source' // the initiator's own security group dropped it: REJECT on the initiator's interface
  | 'rejected-at-peer'; // left the initiator (ACCEPT, no response) and the in-VPC peer dropped it: REJECT there

/** What each connection is there to exercise. */
export type Trap =
  | 'inbound-response'
  | 'nat-gateway'
  | 'ipv6'
  | 'rejected-at-source'
  | 'rejected-at-peer'
  | 'inbound-rejected'
  | 'keep-alive'
  | 'opened-before-window'
  | 'only-before-window'
  | 'beacon'
  | 'volume-spike'
  | 'gateway-endpoint'
  | 'interface-endpoint'
  | 'aws-service-via-nat'
  | 'icmp'
  | 'udp'
  | 'link-local'
  | 'denied-destination'
  | 'windows-client';

/** One aggregation interval of a connection: the request leg and the response leg. */
export interface Segment {
  start: number;
  end: number;
  /** Seconds between the first request packet and the first response packet in this interval. */
  lag: number;
  fwdPackets: number;
  fwdBytes: number;
  revPackets: number;
  revBytes: number;
  /** OR of the TCP flags of each leg (0 for UDP and ICMP). */
  fwdFlags: number;
  revFlags: number;
}

export interface Connection {
  id: number;
  /** Who talks to whom and why, for humans. */
  purpose: string;
  traps: Trap[];
  /** Initiator and responder addresses (the responder's real address, never the NAT gateway's). */
  srcAddr: string;
  dstAddr: string;
  srcPort: number;
  dstPort: number;
  /** IANA number. */
  protocol: number;
  route: Route;
  outcome: Outcome;
  /** The NAT gateway's translated source port (route nat-gateway only). */
  natPort: number | null;
  segments: Segment[];
}

/** A NODATA or SKIPDATA record for one interface and one aggregation interval. */
export interface StatusRecord {
  host: string;
  status: 'NODATA' | 'SKIPDATA';
  start: number;
  end: number;
}

export type MalformedKind = 'truncated' | 'non-numeric-port' | 'extra-field' | 'garbage';

/** A broken line placed in a delivered file: in the file named by `slot` (its yyyymmddThhmmZ), after `after` records. */
export interface MalformedSpec {
  slot: string;
  after: number;
  kind: MalformedKind;
}

export interface Scenario {
  env: ExampleEnv;
  accountId: string;
  region: string;
  vpcId: string;
  flowLogId: string;
  /** The field order of every delivered file; its header line names these. */
  format: readonly FieldName[];
  hosts: Host[];
  connections: Connection[];
  statusRecords: StatusRecord[];
  malformed: MalformedSpec[];
}

interface Shape {
  /** Bytes per active interval, request leg and response leg. */
  request: readonly [number, number];
  response: readonly [number, number];
}

/** What differs between environments. Rates are connections per day unless named otherwise. */
interface Plan {
  albSessions: number;
  albPorts: readonly number[];
  internetClients: number;
  webToApi: number;
  webToCache: number;
  dynamodb: number;
  fraudV6: number;
  saas: number;
  radius: number;
  pings: number;
  webhooks: number;
  webhooksV6: number;
  cardPayments: number;
  webS3: number;
  sqs: number;
  batchS3: number;
  beacon: { from: Workload; start: string } | null;
  spikeDay: string | null;
  scanner: boolean;
  linkLocal: boolean;
  rejectAtSource: boolean;
  skipData: string[];
  noDataEveryHours: number;
  malformed: MalformedSpec[];
}

const PLANS: Record<ExampleEnv, Plan> = {
  dev: {
    albSessions: 50,
    albPorts: [80, 80, 80, 80, 8080],
    internetClients: 60,
    webToApi: 52,
    webToCache: 10,
    dynamodb: 36,
    fraudV6: 16,
    saas: 12,
    radius: 8,
    pings: 8,
    webhooks: 22,
    webhooksV6: 8,
    cardPayments: 12,
    webS3: 16,
    sqs: 12,
    batchS3: 24,
    beacon: { from: 'batch', start: '2026-11-18T09:02:11' },
    spikeDay: '2026-11-19',
    scanner: true,
    linkLocal: true,
    rejectAtSource: true,
    skipData: ['2026-11-07T14:03:10', '2026-11-11T19:32:40', '2026-11-18T20:05:02'],
    noDataEveryHours: 2,
    malformed: [
      { slot: '20261110T1200Z', after: 40, kind: 'truncated' },
      { slot: '20261110T1200Z', after: 90, kind: 'non-numeric-port' },
      { slot: '20261116T0600Z', after: 12, kind: 'garbage' },
      { slot: '20261116T0600Z', after: 70, kind: 'extra-field' },
    ],
  },
  stg: {
    albSessions: 58,
    albPorts: [80],
    internetClients: 70,
    webToApi: 60,
    webToCache: 10,
    dynamodb: 36,
    fraudV6: 12,
    saas: 10,
    radius: 8,
    pings: 8,
    webhooks: 22,
    webhooksV6: 6,
    cardPayments: 10,
    webS3: 14,
    sqs: 0,
    batchS3: 20,
    beacon: null,
    spikeDay: null,
    scanner: true,
    linkLocal: false,
    rejectAtSource: true,
    skipData: ['2026-11-14T03:11:27'],
    noDataEveryHours: 3,
    malformed: [
      { slot: '20261109T1800Z', after: 25, kind: 'truncated' },
      { slot: '20261117T0000Z', after: 8, kind: 'garbage' },
      { slot: '20261117T0000Z', after: 30, kind: 'non-numeric-port' },
    ],
  },
  prod: {
    albSessions: 54,
    albPorts: [80],
    internetClients: 64,
    webToApi: 56,
    webToCache: 10,
    dynamodb: 36,
    fraudV6: 14,
    saas: 12,
    radius: 8,
    pings: 6,
    webhooks: 20,
    webhooksV6: 8,
    cardPayments: 14,
    webS3: 16,
    sqs: 0,
    batchS3: 22,
    beacon: { from: 'web', start: '2026-11-20T13:40:05' },
    spikeDay: null,
    scanner: false,
    linkLocal: false,
    rejectAtSource: false,
    skipData: ['2026-11-09T10:15:44', '2026-11-19T22:41:09'],
    noDataEveryHours: 3,
    malformed: [
      { slot: '20261112T0600Z', after: 50, kind: 'extra-field' },
      { slot: '20261120T1800Z', after: 15, kind: 'truncated' },
      { slot: '20261120T1800Z', after: 60, kind: 'garbage' },
    ],
  },
};

/** Seconds since the epoch of a UTC time written `2026-11-18T09:02:11`. */
function at(iso: string): number {
  return Date.parse(`${iso}Z`) / 1000;
}

/** UTC date (YYYY-MM-DD) of a Unix time. */
export function utcDate(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

/** Relative traffic per UTC hour: people use the site by day, batch works at night. */
const BUSINESS_HOURS = [1, 1, 1, 1, 1, 2, 3, 4, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5, 5, 4, 3, 2, 1];

/** `count` start times on day `day` (0 = 2026-11-06), spread by the hourly weights, sorted. */
function startsOnDay(rng: Rng, day: number, count: number, weights: readonly number[] = BUSINESS_HOURS): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    let r = rng.next() * total;
    let hour = 0;
    while (hour < 23 && r >= weights[hour]!) r -= weights[hour++]!;
    out.push(LOG_START + day * DAY + hour * HOUR + rng.int(0, HOUR - 1));
  }
  return out.sort((a, b) => a - b);
}

/** Around `perDay` (plus or minus a fifth), so days differ. */
function jitterCount(rng: Rng, perDay: number): number {
  const spread = Math.max(1, Math.round(perDay / 5));
  return Math.max(0, perDay + rng.int(-spread, spread));
}

function ephemeralPort(rng: Rng, range: readonly [number, number]): number {
  for (;;) {
    const p = rng.int(range[0], range[1]);
    if (!SERVICE_PORTS.has(p)) return p;
  }
}

function packetsFor(rng: Rng, bytes: number, min: number): number {
  return Math.max(min, Math.round(bytes / rng.int(300, 1300)));
}

/** A connection opened and closed inside one aggregation interval: flags 3 (SYN+FIN) and 19 (SYN-ACK+FIN). */
function shortExchange(rng: Rng, start: number, shape: Shape, protocol = 6): Segment[] {
  const fwdBytes = rng.int(shape.request[0], shape.request[1]);
  const revBytes = rng.int(shape.response[0], shape.response[1]);
  const tcp = protocol === 6;
  return [
    {
      start,
      end: start + rng.int(0, tcp ? 4 : 1),
      lag: rng.int(0, 1),
      fwdPackets: packetsFor(rng, fwdBytes, tcp ? 4 : 1),
      fwdBytes,
      revPackets: packetsFor(rng, revBytes, tcp ? 3 : 1),
      revBytes,
      fwdFlags: tcp ? 3 : 0,
      revFlags: tcp ? 19 : 0,
    },
  ];
}

/**
 * A connection kept open for `duration` seconds with traffic every `gap` seconds: one record per active interval,
 * SYN (2) / SYN-ACK (18) in the first, 0 in between (keep-alives and data carry no recorded flag), FIN (1) in the last.
 */
function session(rng: Rng, start: number, duration: number, gap: readonly [number, number], shape: Shape): Segment[] {
  if (duration < 60) return shortExchange(rng, start, shape);
  const segments: Segment[] = [];
  let t = start;
  while (t < start + duration) {
    const end = Math.min(t + rng.int(1, 59), start + duration);
    const fwdBytes = rng.int(shape.request[0], shape.request[1]);
    const revBytes = rng.int(shape.response[0], shape.response[1]);
    segments.push({
      start: t,
      end,
      lag: rng.int(0, 1),
      fwdPackets: packetsFor(rng, fwdBytes, 2),
      fwdBytes,
      revPackets: packetsFor(rng, revBytes, 1),
      revBytes,
      fwdFlags: 0,
      revFlags: 0,
    });
    t = end + rng.int(gap[0], gap[1]);
  }
  segments[0]!.fwdFlags = 2;
  segments[0]!.revFlags = 18;
  const last = segments[segments.length - 1]!;
  last.fwdFlags |= 1;
  last.revFlags |= 1;
  return segments;
}

/** A SYN retried three times and never answered. */
function synAttempt(start: number, ipv6 = false): Segment[] {
  const syn = ipv6 ? 80 : 60;
  return [{ start, end: start + 3, lag: 0, fwdPackets: 3, fwdBytes: 3 * syn, revPackets: 0, revBytes: 0, fwdFlags: 2, revFlags: 0 }];
}

/** `ping -c 4`: four echo requests of 84 bytes, four replies. */
function echo(start: number): Segment[] {
  return [{ start, end: start + 3, lag: 0, fwdPackets: 4, fwdBytes: 336, revPackets: 4, revBytes: 336, fwdFlags: 0, revFlags: 0 }];
}

interface Ctx {
  env: ExampleEnv;
  plan: Plan;
  hosts: Host[];
  byName: Map<string, Host>;
  connections: Connection[];
  rng(stream: string): Rng;
}

function host(ctx: Ctx, name: string): Host {
  const h = ctx.byName.get(name);
  if (!h) throw new Error(`no host ${name} in ${ctx.env}`);
  return h;
}

function hostsWithRole(ctx: Ctx, role: HostRole): Host[] {
  return ctx.hosts.filter((h) => h.role === role);
}

/** A connection as a scenario states it: protocol default tcp (6), outcome default established. */
type ConnectionSpec = Omit<Connection, 'id' | 'natPort' | 'protocol' | 'outcome'> & Partial<Pick<Connection, 'protocol' | 'outcome'>>;

/** Adds a connection, keeping only the intervals that end inside the logs' span. */
function connect(ctx: Ctx, spec: ConnectionSpec, rng: Rng): void {
  const segments = spec.segments.filter((s) => s.start >= LOG_START && s.end < LOG_END);
  if (segments.length === 0) return;
  const route = spec.route;
  ctx.connections.push({
    ...spec,
    id: ctx.connections.length,
    traps: route === 'nat-gateway' ? [...spec.traps, 'nat-gateway'] : spec.traps,
    protocol: spec.protocol ?? 6,
    outcome: spec.outcome ?? 'established',
    natPort: route === 'nat-gateway' ? ephemeralPort(rng, ELB) : null,
    segments,
  });
}

/** Connections per day at business-hour start times, each built by `make`. */
function daily(ctx: Ctx, stream: string, perDay: number, make: (rng: Rng, start: number, day: number) => void): void {
  if (perDay <= 0) return;
  const rng = ctx.rng(stream);
  for (let day = 0; day < LOG_DAYS; day++) {
    for (const start of startsOnDay(rng, day, jitterCount(rng, perDay))) make(rng, start, day);
  }
}

// --- the web tier ------------------------------------------------------------------------------------------------

function loadBalancerTraffic(ctx: Ctx): void {
  const albs = hostsWithRole(ctx, 'alb');
  const webs = hostsWithRole(ctx, 'web');
  let forcedPort = false;
  // The ALB keeps connections to its targets open for a few minutes; web's answers (web:80 -> alb:51514) are
  // responses, never egress.
  daily(ctx, 'alb-sessions', ctx.plan.albSessions, (rng, start) => {
    const alb = rng.pick(albs);
    const web = rng.pick(webs);
    let srcPort = ephemeralPort(rng, alb.ephemeral);
    if (!forcedPort && start >= WINDOW_START) {
      srcPort = 51514;
      forcedPort = true;
    }
    connect(
      ctx,
      {
        purpose: 'load balancer forwards page requests to web',
        traps: ['inbound-response', 'keep-alive'],
        srcAddr: alb.ipv4,
        dstAddr: web.ipv4,
        srcPort,
        dstPort: rng.pick(ctx.plan.albPorts),
        route: 'in-vpc',
        segments: session(rng, start, rng.int(30, 420), [20, 75], { request: [600, 4000], response: [3000, 60000] }),
      },
      rng,
    );
  });
  // Clients on the internet reach the load balancer's listener; only the ALB's interface logs them.
  daily(ctx, 'internet-clients', ctx.plan.internetClients, (rng, start) => {
    const alb = rng.pick(albs);
    connect(
      ctx,
      {
        purpose: 'internet client calls the load balancer',
        traps: ['inbound-response'],
        srcAddr: `${rng.pick(CLIENT_NETS)}${rng.int(1, 254)}`,
        dstAddr: alb.ipv4,
        srcPort: ephemeralPort(rng, rng.chance(0.5) ? LINUX : WINDOWS),
        dstPort: 443,
        route: 'from-internet',
        segments: shortExchange(rng, start, { request: [700, 3000], response: [4000, 80000] }),
      },
      rng,
    );
  });
}

function webEgress(ctx: Ctx): void {
  const webs = hostsWithRole(ctx, 'web');
  const api = host(ctx, 'api');
  const linux = (rng: Rng): number => ephemeralPort(rng, LINUX);

  daily(ctx, 'web-api', ctx.plan.webToApi, (rng, start) => {
    connect(
      ctx,
      {
        purpose: 'web renders pages from the API',
        traps: [],
        srcAddr: rng.pick(webs).ipv4,
        dstAddr: api.ipv4,
        srcPort: linux(rng),
        dstPort: 8080,
        route: 'in-vpc',
        segments: session(rng, start, rng.int(5, 200), [30, 90], { request: [400, 2500], response: [1500, 30000] }),
      },
      rng,
    );
  });
  daily(ctx, 'web-cache', ctx.plan.webToCache, (rng, start) => {
    connect(
      ctx,
      {
        purpose: 'web reads sessions from Redis',
        traps: ['keep-alive'],
        srcAddr: rng.pick(webs).ipv4,
        dstAddr: host(ctx, 'cache').ipv4,
        srcPort: linux(rng),
        dstPort: 6379,
        route: 'in-vpc',
        segments: session(rng, start, rng.int(60, 900), [20, 120], { request: [200, 3000], response: [300, 20000] }),
      },
      rng,
    );
  });
  daily(ctx, 'webhooks', ctx.plan.webhooks, (rng, start) => {
    connect(
      ctx,
      {
        purpose: 'web posts a customer webhook',
        traps: [],
        srcAddr: rng.pick(webs).ipv4,
        dstAddr: rng.pick(WEBHOOKS_V4),
        srcPort: linux(rng),
        dstPort: 443,
        route: 'nat-gateway',
        segments: shortExchange(rng, start, { request: [1200, 6000], response: [900, 3000] }),
      },
      rng,
    );
  });
  daily(ctx, 'webhooks-v6', ctx.plan.webhooksV6, (rng, start) => {
    const web = rng.pick(webs);
    connect(
      ctx,
      {
        purpose: 'web posts a customer webhook over IPv6',
        traps: ['ipv6'],
        srcAddr: web.ipv6!,
        dstAddr: rng.pick(WEBHOOKS_V6),
        srcPort: linux(rng),
        dstPort: 443,
        route: 'internet-gateway',
        segments: shortExchange(rng, start, { request: [1200, 6000], response: [900, 3000] }),
      },
      rng,
    );
  });
  daily(ctx, 'card', ctx.plan.cardPayments, (rng, start) => {
    connect(
      ctx,
      {
        purpose: 'web authorises a card payment',
        traps: [],
        srcAddr: rng.pick(webs).ipv4,
        dstAddr: rng.chance(0.85) ? CARD_PARTNER[0]! : CARD_PARTNER[1]!,
        srcPort: linux(rng),
        dstPort: 443,
        route: 'nat-gateway',
        segments: shortExchange(rng, start, { request: [2000, 5000], response: [3000, 7000] }),
      },
      rng,
    );
  });
  daily(ctx, 'web-s3', ctx.plan.webS3, (rng, start) => {
    connect(
      ctx,
      {
        purpose: 'web stores user uploads in S3',
        traps: ['gateway-endpoint'],
        srcAddr: rng.pick(webs).ipv4,
        dstAddr: rng.pick(S3_ADDRESSES),
        srcPort: linux(rng),
        dstPort: 443,
        route: 'gateway-endpoint',
        segments: shortExchange(rng, start, { request: [5000, 900000], response: [2000, 8000] }),
      },
      rng,
    );
  });
  daily(ctx, 'sqs', ctx.plan.sqs, (rng, start) => {
    connect(
      ctx,
      {
        purpose: 'web enqueues an e-mail job in SQS (no endpoint yet: through the NAT gateway)',
        traps: ['aws-service-via-nat'],
        srcAddr: rng.pick(webs).ipv4,
        dstAddr: SQS_ADDRESS,
        srcPort: linux(rng),
        dstPort: 443,
        route: 'nat-gateway',
        segments: shortExchange(rng, start, { request: [1500, 4000], response: [1000, 2500] }),
      },
      rng,
    );
  });

  const rng = ctx.rng('web-specials');
  // IR-42: a handful of calls to the address under investigation; observed egress all the same.
  for (const iso of ['2026-11-15T02:14:09', '2026-11-15T02:44:51', '2026-11-16T03:01:30', '2026-11-19T01:57:12']) {
    connect(
      ctx,
      {
        purpose: 'web calls the IR-42 address',
        traps: ['denied-destination'],
        srcAddr: rng.pick(webs).ipv4,
        dstAddr: DENIED_IR42,
        srcPort: linux(rng),
        dstPort: 443,
        route: 'nat-gateway',
        segments: shortExchange(rng, at(iso), { request: [800, 2000], response: [4000, 40000] }),
      },
      rng,
    );
  }
  // A streaming webhook opened on 11-07 and kept open until the early hours of 11-08: inside the window its
  // records carry flag 0 or FIN only, yet it is egress (the responses are there).
  const streamStart = at('2026-11-07T21:41:17');
  connect(
    ctx,
    {
      purpose: 'web streams events to a customer over one long connection',
      traps: ['opened-before-window', 'keep-alive'],
      srcAddr: webs[0]!.ipv4,
      dstAddr: LONG_WEBHOOK,
      srcPort: 44123,
      dstPort: 443,
      route: 'nat-gateway',
      segments: session(rng, streamStart, at('2026-11-08T04:12:40') - streamStart, [200, 360], {
        request: [300, 5000],
        response: [80, 400],
      }),
    },
    rng,
  );
  // A customer who left: traffic on 11-06 and 11-07 only. The last exchange starts at 23:59:35 and ends after
  // midnight, so its records sit in a 2026/11/08 file while their `start` is before the window.
  for (const iso of ['2026-11-06T10:20:31', '2026-11-06T16:05:12', '2026-11-07T09:44:03', '2026-11-07T23:59:35']) {
    const segs = shortExchange(rng, at(iso), { request: [1200, 4000], response: [900, 2500] });
    if (iso.endsWith('23:59:35')) segs[0]!.end = at('2026-11-08T00:00:21');
    connect(
      ctx,
      {
        purpose: 'web posts a webhook of a customer who has left',
        traps: ['only-before-window'],
        srcAddr: rng.pick(webs).ipv4,
        dstAddr: GONE_WEBHOOK,
        srcPort: linux(rng),
        dstPort: 443,
        route: 'nat-gateway',
        segments: segs,
      },
      rng,
    );
  }
  if (ctx.plan.rejectAtSource) {
    // web's own group has no rule to the database: REJECT on web's interface, nothing on the database's.
    for (const iso of ['2026-11-13T10:02:44', '2026-11-13T10:03:51', '2026-11-13T10:07:02', '2026-11-20T16:30:19', '2026-11-20T16:31:05']) {
      connect(
        ctx,
        {
          purpose: 'web tries the database directly (a misconfigured job)',
          traps: ['rejected-at-source'],
          srcAddr: webs[iso.startsWith('2026-11-13') ? 0 : 1]!.ipv4,
          dstAddr: host(ctx, 'db').ipv4,
          srcPort: linux(rng),
          dstPort: 5432,
          route: 'in-vpc',
          outcome: 'rejected-at-source',
          segments: synAttempt(at(iso)),
        },
        rng,
      );
    }
  }
  if (ctx.plan.linkLocal) {
    for (const iso of ['2026-11-12T08:00:03', '2026-11-17T08:00:05']) {
      connect(
        ctx,
        {
          purpose: 'a sidecar on web calls a link-local address (observe must ignore it)',
          traps: ['link-local'],
          srcAddr: webs[0]!.ipv4,
          dstAddr: LINK_LOCAL,
          srcPort: linux(rng),
          dstPort: 80,
          route: 'in-vpc',
          segments: shortExchange(rng, at(iso), { request: [300, 500], response: [900, 1400] }),
        },
        rng,
      );
    }
  }
  if (ctx.plan.scanner) {
    // The security team's scanner probes web: port 22 is refused at web (inbound; not web's rejected egress),
    // port 80 answers (web's responses to the scanner are not egress either).
    const scanner = host(ctx, 'scanner');
    let t = at('2026-11-14T03:00:07');
    for (const web of webs) {
      for (const port of [22, 80, 22]) {
        connect(
          ctx,
          {
            purpose: 'vulnerability scan of web',
            traps: port === 22 ? ['inbound-rejected'] : ['inbound-response'],
            srcAddr: scanner.ipv4,
            dstAddr: web.ipv4,
            srcPort: ephemeralPort(rng, LINUX),
            dstPort: port,
            route: 'in-vpc',
            outcome: port === 22 ? 'rejected-at-peer' : 'established',
            segments: port === 22 ? synAttempt(t) : shortExchange(rng, t, { request: [300, 600], response: [600, 2000] }),
          },
          rng,
        );
        t += 11;
      }
    }
  }
}

// --- the API -----------------------------------------------------------------------------------------------------

function apiEgress(ctx: Ctx): void {
  const api = host(ctx, 'api');
  const db = host(ctx, 'db');
  const linux = (rng: Rng): number => ephemeralPort(rng, LINUX);

  // The connection pool: two long-lived connections a day, recycled every twelve hours.
  const pool = ctx.rng('db-pool');
  for (let day = 0; day < LOG_DAYS; day++) {
    for (const half of [0, 1]) {
      const start = LOG_START + day * DAY + half * 12 * HOUR + pool.int(30, 600);
      connect(
        ctx,
        {
          purpose: 'api connection pool to PostgreSQL',
          traps: ['keep-alive'],
          srcAddr: api.ipv4,
          dstAddr: db.ipv4,
          srcPort: linux(pool),
          dstPort: 5432,
          route: 'in-vpc',
          segments: session(pool, start, 12 * HOUR - pool.int(900, 1800), [540, 1500], { request: [500, 20000], response: [2000, 150000] }),
        },
        pool,
      );
    }
  }
  daily(ctx, 'dynamodb', ctx.plan.dynamodb, (rng, start) => {
    connect(
      ctx,
      {
        purpose: 'api reads sessions from DynamoDB',
        traps: ['gateway-endpoint'],
        srcAddr: api.ipv4,
        dstAddr: rng.pick(DYNAMODB_ADDRESSES),
        srcPort: linux(rng),
        dstPort: 443,
        route: 'gateway-endpoint',
        segments: shortExchange(rng, start, { request: [700, 3000], response: [900, 12000] }),
      },
      rng,
    );
  });
  daily(ctx, 'fraud-v6', ctx.plan.fraudV6, (rng, start) => {
    connect(
      ctx,
      {
        purpose: 'api asks the fraud-scoring partner (IPv6 only)',
        traps: ['ipv6'],
        srcAddr: api.ipv6!,
        dstAddr: FRAUD_V6,
        srcPort: linux(rng),
        dstPort: 443,
        route: 'internet-gateway',
        segments: shortExchange(rng, start, { request: [1500, 4000], response: [600, 1500] }),
      },
      rng,
    );
  });
  daily(ctx, 'saas', ctx.plan.saas, (rng, start) => {
    connect(
      ctx,
      {
        purpose: 'api calls its SaaS provider',
        traps: [],
        srcAddr: api.ipv4,
        dstAddr: SAAS,
        srcPort: linux(rng),
        dstPort: 443,
        route: 'nat-gateway',
        segments: shortExchange(rng, start, { request: [1000, 3000], response: [2000, 20000] }),
      },
      rng,
    );
  });
  daily(ctx, 'radius', ctx.plan.radius, (rng, start) => {
    connect(
      ctx,
      {
        purpose: 'api authenticates staff against the partner RADIUS server',
        traps: ['udp'],
        srcAddr: api.ipv4,
        dstAddr: RADIUS_PARTNER,
        srcPort: linux(rng),
        dstPort: 1812,
        protocol: 17,
        route: 'nat-gateway',
        segments: shortExchange(rng, start, { request: [120, 300], response: [40, 200] }, 17),
      },
      rng,
    );
  });
  daily(ctx, 'ping', ctx.plan.pings, (rng, start) => {
    // Only api pings the database; nothing pings api, so every ICMP record from api is a request.
    connect(
      ctx,
      {
        purpose: 'api health-checks the database with ping',
        traps: ['icmp'],
        srcAddr: api.ipv4,
        dstAddr: db.ipv4,
        srcPort: 0,
        dstPort: 0,
        protocol: 1,
        route: 'in-vpc',
        segments: echo(start),
      },
      rng,
    );
  });
  // Secrets at start-up, through the interface endpoint's ENIs in the endpoint subnets.
  const endpoints = hostsWithRole(ctx, 'endpoint');
  daily(ctx, 'secrets', 3, (rng, start) => {
    connect(
      ctx,
      {
        purpose: 'api reads database credentials from Secrets Manager',
        traps: ['interface-endpoint'],
        srcAddr: api.ipv4,
        dstAddr: rng.pick(endpoints).ipv4,
        srcPort: linux(rng),
        dstPort: 443,
        route: 'in-vpc',
        segments: shortExchange(rng, start, { request: [1500, 2500], response: [3000, 6000] }),
      },
      rng,
    );
  });
  // The cache admits the web tier only: api's attempts leave api (ACCEPT, never answered) and are REJECTed on
  // the cache's interface.
  const cacheRng = ctx.rng('cache');
  for (const iso of ['2026-11-12T09:15:02', '2026-11-12T09:15:40', '2026-11-17T14:00:31', '2026-11-21T07:45:10']) {
    connect(
      ctx,
      {
        purpose: "api tries the web tier's Redis",
        traps: ['rejected-at-peer'],
        srcAddr: api.ipv4,
        dstAddr: host(ctx, 'cache').ipv4,
        srcPort: linux(cacheRng),
        dstPort: 6379,
        route: 'in-vpc',
        outcome: 'rejected-at-peer',
        segments: synAttempt(at(iso)),
      },
      cacheRng,
    );
  }
}

// --- batch -------------------------------------------------------------------------------------------------------

function batchEgress(ctx: Ctx): void {
  const batch = host(ctx, 'batch');
  const client = (rng: Rng): number => ephemeralPort(rng, batch.ephemeral);
  const windows: Trap[] = batch.ephemeral === WINDOWS ? ['windows-client'] : [];
  const rng = ctx.rng('batch');
  for (let day = 0; day < LOG_DAYS; day++) {
    const night = LOG_START + day * DAY;
    // Input files and reports, over the S3 gateway endpoint.
    for (let i = 0; i < jitterCount(rng, ctx.plan.batchS3); i++) {
      connect(
        ctx,
        {
          purpose: 'batch reads input files from S3',
          traps: ['gateway-endpoint', ...windows],
          srcAddr: batch.ipv4,
          dstAddr: rng.pick(S3_ADDRESSES),
          srcPort: client(rng),
          dstPort: 443,
          route: 'gateway-endpoint',
          segments: shortExchange(rng, night + HOUR + rng.int(0, 1800), { request: [600, 2000], response: [50000, 4000000] }),
        },
        rng,
      );
    }
    // The nightly export; on the spike day it moves about fifty times its usual volume.
    const spike = ctx.plan.spikeDay !== null && utcDate(night) === ctx.plan.spikeDay;
    const exportStart = night + 2 * HOUR + rng.int(0, 900);
    connect(
      ctx,
      {
        purpose: spike ? 'batch export, fifty times the usual volume' : 'batch nightly export to the analytics provider',
        traps: spike ? ['volume-spike', ...windows] : windows,
        srcAddr: batch.ipv4,
        dstAddr: EXPORT_TARGET,
        srcPort: client(rng),
        dstPort: 443,
        route: 'nat-gateway',
        segments: spike
          ? session(rng, exportStart, 2400, [0, 5], { request: [2700000, 3300000], response: [20000, 40000] })
          : session(rng, exportStart, rng.int(240, 360), [0, 5], { request: [400000, 600000], response: [3000, 6000] }),
      },
      rng,
    );
    // The regulator's SFTP drop (reporting-partner).
    connect(
      ctx,
      {
        purpose: 'batch uploads the nightly report over SFTP',
        traps: windows,
        srcAddr: batch.ipv4,
        dstAddr: SFTP,
        srcPort: client(rng),
        dstPort: 22,
        route: 'nat-gateway',
        segments: session(rng, night + 3 * HOUR + rng.int(0, 600), rng.int(120, 300), [0, 10], {
          request: [200000, 900000],
          response: [4000, 9000],
        }),
      },
      rng,
    );
  }
}

/** Small connections every 300 s, give or take two seconds, to an unusual port: a triage item, not a rule. */
function beacon(ctx: Ctx): void {
  const plan = ctx.plan.beacon;
  if (!plan) return;
  const rng = ctx.rng('beacon');
  const from = ctx.hosts.find((h) => h.workload === plan.from)!;
  for (let t = at(plan.start); t < LOG_END - 60; t += 300 + rng.int(-2, 2)) {
    connect(
      ctx,
      {
        purpose: 'implant beacon',
        traps: ['beacon'],
        srcAddr: from.ipv4,
        dstAddr: BEACON,
        srcPort: ephemeralPort(rng, from.ephemeral),
        dstPort: 4444,
        route: 'nat-gateway',
        segments: shortExchange(rng, t, { request: [300, 420], response: [200, 330] }),
      },
      rng,
    );
  }
}

function statusRecords(ctx: Ctx): StatusRecord[] {
  const out: StatusRecord[] = [];
  const rng = ctx.rng('status');
  // The idle bastion has nothing to say: NODATA records, every few hours.
  for (let t = LOG_START + 120; t < LOG_END - HOUR; t += ctx.plan.noDataEveryHours * HOUR) {
    const start = t + rng.int(0, 300);
    out.push({ host: 'bastion', status: 'NODATA', start, end: start + rng.int(50, 59) });
  }
  // Capacity hiccups on web-1: holes in the observation window worth reporting.
  for (const iso of ctx.plan.skipData) {
    const start = at(iso);
    out.push({ host: 'web-1', status: 'SKIPDATA', start, end: start + 58 });
  }
  return out;
}

/**
 * The scenario of one environment: its hosts, every connection, the status records and the broken lines. `seed`
 * varies the random draws (times, ports, sizes, peers) over the same hosts and plan: the committed example is the
 * default seed; tests observe other seeds too, as organisations nobody tuned observe against.
 */
export function exampleScenario(env: ExampleEnv, seed = 'leastpath-examples'): Scenario {
  const net = NETS[env];
  const hosts = hostsOf(net);
  const ctx: Ctx = {
    env,
    plan: PLANS[env],
    hosts,
    byName: new Map(hosts.map((h) => [h.name, h])),
    connections: [],
    rng: (stream) => makeRng(`${seed}/${env}/${stream}`),
  };
  loadBalancerTraffic(ctx);
  webEgress(ctx);
  apiEgress(ctx);
  batchEgress(ctx);
  beacon(ctx);
  return {
    env,
    accountId: net.accountId,
    region: REGION,
    vpcId: net.vpcId,
    flowLogId: net.flowLogId,
    format: net.format,
    hosts,
    connections: ctx.connections,
    statusRecords: statusRecords(ctx),
    malformed: ctx.plan.malformed,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering: connections -> records on every interface that logs them

/** A flow-log record with every field (AWS's `-` where absent), and where it came from. */
export interface FlowRecord {
  fields: Record<FieldName, string>;
  start: number;
  end: number;
  /** The connection it belongs to; null for NODATA/SKIPDATA. */
  connection: number | null;
  /** Whose interface logged it: the initiator's, the responder's (in-VPC peer), or the NAT gateway's. */
  loggedBy: 'initiator' | 'responder' | 'nat' | null;
  /** request: initiator -> responder packets; response: the way back. */
  leg: 'request' | 'response' | null;
}

interface Packet {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  /** Original addresses (differ from src/dst only on the NAT gateway's interface). */
  pktSrc: string;
  pktDst: string;
}

function addressesOf(h: Host): string[] {
  return h.ipv6 ? [h.ipv4, h.ipv6] : [h.ipv4];
}

function record(
  s: Scenario,
  on: Host,
  p: Packet,
  protocol: number,
  leg: { start: number; end: number; packets: number; bytes: number; flags: number },
  action: 'ACCEPT' | 'REJECT',
  trafficPath: string,
  meta: Pick<FlowRecord, 'connection' | 'loggedBy' | 'leg'>,
): FlowRecord {
  const egress = addressesOf(on).includes(p.src);
  return {
    fields: {
      version: s.format === DEFAULT_FORMAT ? '2' : '5',
      'account-id': on.accountId,
      'interface-id': on.interfaceId,
      srcaddr: p.src,
      dstaddr: p.dst,
      srcport: String(p.srcPort),
      dstport: String(p.dstPort),
      protocol: String(protocol),
      packets: String(leg.packets),
      bytes: String(leg.bytes),
      start: String(leg.start),
      end: String(leg.end),
      action,
      'log-status': 'OK',
      'vpc-id': s.vpcId,
      'subnet-id': on.subnetId,
      'instance-id': on.instanceId ?? '-',
      'tcp-flags': protocol === 6 ? String(leg.flags) : '0',
      type: p.src.includes(':') ? 'IPv6' : 'IPv4',
      'pkt-srcaddr': p.pktSrc,
      'pkt-dstaddr': p.pktDst,
      region: s.region,
      'az-id': on.azId,
      'pkt-src-aws-service': AWS_ADDRESSES[p.pktSrc] ?? '-',
      'pkt-dst-aws-service': AWS_ADDRESSES[p.pktDst] ?? '-',
      'flow-direction': egress ? 'egress' : 'ingress',
      // traffic-path is defined for egress only.
      'traffic-path': egress ? trafficPath : '-',
    },
    start: leg.start,
    end: leg.end,
    ...meta,
  };
}

/**
 * traffic-path of the initiator's request leg: 1 in the VPC (a NAT gateway or an interface endpoint is "another
 * resource in the same VPC"), 7 gateway endpoint and 8 internet gateway (the instances are Nitro-based).
 */
const INITIATOR_PATH: Record<Route, string> = {
  'in-vpc': '1',
  'nat-gateway': '1',
  'gateway-endpoint': '7',
  'internet-gateway': '8',
  'from-internet': '-',
};

function renderConnection(s: Scenario, c: Connection, byAddress: Map<string, Host>, nat: Host, out: FlowRecord[]): void {
  const initiator = byAddress.get(c.srcAddr);
  const responder = byAddress.get(c.dstAddr);
  const request: Packet = { src: c.srcAddr, dst: c.dstAddr, srcPort: c.srcPort, dstPort: c.dstPort, pktSrc: c.srcAddr, pktDst: c.dstAddr };
  const response: Packet = { src: c.dstAddr, dst: c.srcAddr, srcPort: c.dstPort, dstPort: c.srcPort, pktSrc: c.dstAddr, pktDst: c.srcAddr };
  const answered = c.outcome === 'established';
  const leaves = c.outcome !== 'rejected-at-source';
  const id = c.id;
  for (const seg of c.segments) {
    const fwd = { start: seg.start, end: seg.end, packets: seg.fwdPackets, bytes: seg.fwdBytes, flags: seg.fwdFlags };
    const rev = { start: seg.start + seg.lag, end: seg.end, packets: seg.revPackets, bytes: seg.revBytes, flags: seg.revFlags };
    if (initiator) {
      // The instance's own interface shows the real destination even behind the NAT gateway (AWS docs, NAT example).
      out.push(
        record(s, initiator, request, c.protocol, fwd, leaves ? 'ACCEPT' : 'REJECT', INITIATOR_PATH[c.route], {
          connection: id,
          loggedBy: 'initiator',
          leg: 'request',
        }),
      );
      if (answered) {
        out.push(
          record(s, initiator, response, c.protocol, rev, 'ACCEPT', '-', { connection: id, loggedBy: 'initiator', leg: 'response' }),
        );
      }
    }
    if (c.route === 'nat-gateway' && leaves) {
      // The four records AWS documents on the NAT gateway's interface:
      // instance -> NAT (dstaddr the NAT, pkt-dstaddr the host), NAT -> host, host -> NAT,
      // NAT -> instance (srcaddr the NAT, pkt-srcaddr the host).
      const natIp = nat.ipv4;
      const meta = (leg: 'request' | 'response'): Pick<FlowRecord, 'connection' | 'loggedBy' | 'leg'> => ({
        connection: id,
        loggedBy: 'nat',
        leg,
      });
      const natPort = c.natPort!;
      out.push(record(s, nat, { ...request, dst: natIp }, c.protocol, fwd, 'ACCEPT', '1', meta('request')));
      out.push(
        record(
          s,
          nat,
          { src: natIp, dst: c.dstAddr, srcPort: natPort, dstPort: c.dstPort, pktSrc: natIp, pktDst: c.dstAddr },
          c.protocol,
          fwd,
          'ACCEPT',
          '2',
          meta('request'),
        ),
      );
      if (answered) {
        out.push(
          record(
            s,
            nat,
            { src: c.dstAddr, dst: natIp, srcPort: c.dstPort, dstPort: natPort, pktSrc: c.dstAddr, pktDst: natIp },
            c.protocol,
            rev,
            'ACCEPT',
            '-',
            meta('response'),
          ),
        );
        out.push(record(s, nat, { ...response, src: natIp }, c.protocol, rev, 'ACCEPT', '1', meta('response')));
      }
    }
    if (responder && leaves) {
      const refused = c.outcome === 'rejected-at-peer';
      out.push(
        record(s, responder, request, c.protocol, fwd, refused ? 'REJECT' : 'ACCEPT', '-', {
          connection: id,
          loggedBy: 'responder',
          leg: 'request',
        }),
      );
      if (answered) {
        // Answers to internet clients leave through the internet gateway (2: the ALB is not a Nitro instance).
        out.push(
          record(s, responder, response, c.protocol, rev, 'ACCEPT', c.route === 'from-internet' ? '2' : '1', {
            connection: id,
            loggedBy: 'responder',
            leg: 'response',
          }),
        );
      }
    }
  }
}

function statusRecord(s: Scenario, st: StatusRecord, on: Host): FlowRecord {
  const fields = {} as Record<FieldName, string>;
  for (const name of [...DEFAULT_FORMAT, ...PROD_FORMAT, ...DEV_FORMAT]) fields[name] = '-';
  Object.assign(fields, {
    version: s.format === DEFAULT_FORMAT ? '2' : '5',
    'account-id': on.accountId,
    'interface-id': on.interfaceId,
    start: String(st.start),
    end: String(st.end),
    'log-status': st.status,
    'vpc-id': s.vpcId,
    'subnet-id': on.subnetId,
    'instance-id': on.instanceId ?? '-',
    region: s.region,
    'az-id': on.azId,
  });
  return { fields, start: st.start, end: st.end, connection: null, loggedBy: null, leg: null };
}

/** Every record of the scenario, in a stable order (by start, then interface, then creation). */
export function renderRecords(s: Scenario): FlowRecord[] {
  const byAddress = new Map<string, Host>();
  for (const h of s.hosts) for (const a of addressesOf(h)) byAddress.set(a, h);
  const nat = s.hosts.find((h) => h.role === 'nat')!;
  const out: FlowRecord[] = [];
  for (const c of s.connections) renderConnection(s, c, byAddress, nat, out);
  const byName = new Map(s.hosts.map((h) => [h.name, h]));
  for (const st of s.statusRecords) out.push(statusRecord(s, st, byName.get(st.host)!));
  const order = new Map(out.map((r, i) => [r, i]));
  return out.sort(
    (a, b) =>
      a.start - b.start ||
      (a.fields['interface-id'] < b.fields['interface-id'] ? -1 : a.fields['interface-id'] > b.fields['interface-id'] ? 1 : 0) ||
      order.get(a)! - order.get(b)!,
  );
}

export function formatRecord(format: readonly FieldName[], r: FlowRecord): string {
  return format.map((f) => r.fields[f]).join(' ');
}

// ---------------------------------------------------------------------------------------------------------------
// Files, as S3 delivers them

/** One delivered log file, before compression. */
export interface FlowLogFile {
  /** Relative to the environment's folder: AWSLogs/<account>/vpcflowlogs/<region>/yyyy/mm/dd/<name>.log.gz */
  path: string;
  /** Header first, then one line per record (and the planted malformed lines). */
  lines: string[];
  /** Well-formed records in it. */
  records: number;
}

function slotStamp(slotStart: number): string {
  const iso = new Date(slotStart * 1000).toISOString(); // 2026-11-08T06:00:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}Z`;
}

function malformedLine(format: readonly FieldName[], kind: MalformedKind, neighbour: string): string {
  const parts = neighbour.split(' ');
  switch (kind) {
    case 'truncated':
      // A record cut short mid-line.
      return parts.slice(0, Math.ceil(parts.length / 2)).join(' ');
    case 'extra-field':
      return `${neighbour} -`;
    case 'non-numeric-port': {
      // Same shape as a record, but a port that is not a number.
      const copy = [...parts];
      copy[format.indexOf('srcport')] = 'https';
      return copy.join(' ');
    }
    case 'garbage':
      return '\u00bf?\u00bf corrupted block 7f3a9c -- -- ?? \u00bf';
  }
}

/** The files of one environment: records grouped by flow log and six-hour slot of their `end`, header first. */
export function renderFiles(s: Scenario, records: FlowRecord[] = renderRecords(s)): FlowLogFile[] {
  const slots = new Map<number, FlowRecord[]>();
  for (const r of records) {
    const slot = LOG_START + Math.floor((r.end - LOG_START) / FILE_SLOT) * FILE_SLOT;
    let list = slots.get(slot);
    if (!list) slots.set(slot, (list = []));
    list.push(r);
  }
  const header = s.format.join(' ');
  const files: FlowLogFile[] = [];
  for (const slot of [...slots.keys()].sort((a, b) => a - b)) {
    const stamp = slotStamp(slot);
    const lines = [header, ...slots.get(slot)!.map((r) => formatRecord(s.format, r))];
    // Insert from the last position backwards so `after` counts records, not earlier insertions.
    const planted = s.malformed.filter((m) => m.slot === stamp).sort((a, b) => b.after - a.after);
    for (const m of planted) {
      const pos = Math.min(m.after, lines.length - 1) + 1;
      lines.splice(pos, 0, malformedLine(s.format, m.kind, lines[pos - 1]!));
    }
    const name = `${s.accountId}_vpcflowlogs_${s.region}_${s.flowLogId}_${stamp}_${fnv1a(`${s.env}/${stamp}`).toString(16).padStart(8, '0')}.log.gz`;
    const date = `${stamp.slice(0, 4)}/${stamp.slice(4, 6)}/${stamp.slice(6, 8)}`;
    files.push({ path: `AWSLogs/${s.accountId}/vpcflowlogs/${s.region}/${date}/${name}`, lines, records: slots.get(slot)!.length });
  }
  for (const m of s.malformed) {
    if (!files.some((f) => f.path.includes(`_${m.slot}_`))) throw new Error(`${s.env}: no file for malformed line at ${m.slot}`);
  }
  return files;
}

// ---------------------------------------------------------------------------------------------------------------
// Ground truth

/**
 * An egress the generator intends, in the contract's terms (model/types.ts; the destination canonical, as
 * core/cidr.ts hostCidr() prints it), for its workload. Which rule decides the initiator is observe's to say.
 */
export type TruthEgress = Omit<ObservedEgress, 'decidedBy'> & { workload: string };

/** A rejection the generator intends, for its workload. */
export type TruthRejected = ObservedRejected & { workload: string };

export interface EnvTruth {
  env: string;
  window: { from: '2026-11-08'; to: '2026-11-21' };
  egress: TruthEgress[];
  rejected: TruthRejected[];
  /** SKIPDATA records (any interface) whose start lies in the window. */
  skippedWindows: number;
  /** Planted broken lines: file relative to examples/flow-logs/<env>/, line 1-based (the header is line 1). */
  malformedLines: { file: string; line: number }[];
  /** Well-formed records (OK + NODATA + SKIPDATA, every interface) whose start lies in the window. */
  records: number;
}

/** The service observe reports: AMAZON only says "some AWS service", so it is reported as not known (null). */
function knownService(addr: string): string | null {
  const s = AWS_ADDRESSES[addr];
  return s === undefined || s === 'AMAZON' ? null : s;
}

function protocolName(n: number): string {
  return n === 6 ? 'tcp' : n === 17 ? 'udp' : n === 1 ? 'icmp' : n === 58 ? 'icmpv6' : String(n);
}

function hasPorts(n: number): boolean {
  return n === 6 || n === 17;
}

function isLinkLocal(addr: string): boolean {
  return addr.startsWith('169.254.') || addr.toLowerCase().startsWith('fe80:');
}

/** Sort key order: destination (IPv4 before IPv6, numeric), then protocol name, then port (absent first). */
function compareEntries(a: { destination: string; protocol: string; port?: number }, b: typeof a): number {
  const byDest = compareCidr(parseCidr(a.destination)!, parseCidr(b.destination)!);
  if (byDest !== 0) return byDest;
  if (a.protocol !== b.protocol) return a.protocol < b.protocol ? -1 : 1;
  return (a.port ?? -1) - (b.port ?? -1);
}

function inWindow(start: number): boolean {
  return start >= WINDOW_START && start < WINDOW_END;
}

/**
 * What a correct `observe` must find in the environment's example logs for the window 2026-11-08..2026-11-21.
 *
 * egress: per workload, per (destination, protocol, port) of connections the workload INITIATED that were
 *   ACCEPTed and established (a response was logged), destination never link-local (169.254/16 is dropped):
 *   - flows = the number of records of the initiating direction (workload -> destination, action ACCEPT,
 *     log-status OK) whose `start` lies in [2026-11-08T00:00Z, 2026-11-22T00:00Z), counted on the workload's OWN
 *     interfaces only: never the NAT gateway's interface, never the peer's interface;
 *   - bytes = the sum of `bytes` of those same records (request direction only, not the responses);
 *   - firstSeen / lastSeen = UTC dates of the `start` of the first / last of those records;
 *   - destination = the real destination (pkt-dstaddr, which on the workload's own interface equals dstaddr),
 *     port = the destination (service) port, absent for ICMP;
 *   - service = the pkt-dst-aws-service AWS writes for that address (null for private addresses, including an
 *     interface endpoint's ENI: flow logs only name services behind public addresses). stg's v2 records carry no
 *     service field: there the same value has to come from ip-ranges.json.
 *   Responses to connections others opened (web:80 -> alb:51514, api:8080 -> web:ephemeral) are never egress.
 * rejected: attempts the workload initiated that were REJECTed, on the workload's own interface (its egress rules)
 *   or on an in-VPC peer's logged interface (the peer's ingress rules); flows = REJECT records of the attempt
 *   (request direction) on whichever interface logged the REJECT, start in the window; lastSeen likewise.
 *   Attempts others made against the workload (a scanner refused at web:22) are not the workload's.
 * Entries are sorted by workload, then (destination, protocol, port): IPv4 before IPv6 in numeric order,
 * protocol names alphabetically, ports ascending.
 */
export function exampleTruth(env: ExampleEnv, seed?: string): EnvTruth {
  const s = exampleScenario(env, seed);
  const records = renderRecords(s);
  const files = renderFiles(s, records);
  const byAddress = new Map<string, Host>();
  for (const h of s.hosts) for (const a of addressesOf(h)) byAddress.set(a, h);

  const egress = new Map<string, TruthEgress>();
  const rejected = new Map<string, TruthRejected>();
  let inWindowRecords = 0;
  let skipped = 0;
  for (const r of records) {
    if (!inWindow(r.start)) continue;
    inWindowRecords++;
    if (r.fields['log-status'] === 'SKIPDATA') skipped++;
    if (r.connection === null || r.leg !== 'request') continue;
    const c = s.connections[r.connection]!;
    const workload = byAddress.get(c.srcAddr)?.workload;
    if (!workload) continue;
    const destination = hostCidr(c.dstAddr)!;
    const protocol = protocolName(c.protocol);
    const port = hasPorts(c.protocol) ? c.dstPort : undefined;
    const key = `${workload} ${destination} ${protocol} ${port ?? ''}`;
    const day = utcDate(r.start);
    if (r.fields.action === 'ACCEPT' && r.loggedBy === 'initiator' && c.outcome === 'established' && !isLinkLocal(c.dstAddr)) {
      const e = egress.get(key);
      if (e) {
        e.flows++;
        e.bytes += Number(r.fields.bytes);
        e.lastSeen = day > e.lastSeen ? day : e.lastSeen;
        e.firstSeen = day < e.firstSeen ? day : e.firstSeen;
      } else {
        egress.set(key, {
          workload,
          destination,
          protocol,
          ...(port === undefined ? {} : { port }),
          service: knownService(c.dstAddr),
          flows: 1,
          bytes: Number(r.fields.bytes),
          firstSeen: day,
          lastSeen: day,
        });
      }
    }
    if (r.fields.action === 'REJECT' && (r.loggedBy === 'initiator' || r.loggedBy === 'responder')) {
      const e = rejected.get(key);
      if (e) {
        e.flows++;
        e.lastSeen = day > e.lastSeen ? day : e.lastSeen;
      } else {
        rejected.set(key, { workload, destination, protocol, ...(port === undefined ? {} : { port }), flows: 1, lastSeen: day });
      }
    }
  }

  const byWorkloadThen = <T extends { workload: string; destination: string; protocol: string; port?: number }>(a: T, b: T): number =>
    compareText(a.workload, b.workload) || compareEntries(a, b);

  const malformedLines: { file: string; line: number }[] = [];
  for (const f of files) {
    f.lines.forEach((line, i) => {
      if (i > 0 && !isWellFormed(s.format, line)) malformedLines.push({ file: f.path, line: i + 1 });
    });
  }

  return {
    env,
    window: { from: '2026-11-08', to: '2026-11-21' },
    egress: [...egress.values()].sort(byWorkloadThen),
    rejected: [...rejected.values()].sort(byWorkloadThen),
    skippedWindows: skipped,
    malformedLines,
    records: inWindowRecords,
  };
}

/** True when a line has the header's field count and numbers where the format has numbers (or `-`). */
export function isWellFormed(format: readonly FieldName[], line: string): boolean {
  const parts = line.split(' ');
  if (parts.length !== format.length) return false;
  const numeric = new Set<FieldName>([
    'version',
    'srcport',
    'dstport',
    'protocol',
    'packets',
    'bytes',
    'start',
    'end',
    'tcp-flags',
    'traffic-path',
  ]);
  return format.every((f, i) => !numeric.has(f) || /^(\d+|-)$/.test(parts[i]!));
}
