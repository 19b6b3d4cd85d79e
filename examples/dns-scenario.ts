/**
 * The example's Route 53 Resolver query logs, derived from the SAME connection list as its flow logs (pure): a
 * workload host asks for the destination's name a few seconds before each connection it opens, CDN and AWS names
 * answer through CNAME chains, a few names are NXDOMAIN, the beacon's implant tunnels through DNS, and a peered
 * VPC's queries land in the same files (to be ignored). `exampleDnsTruth` is the ground truth tests check against.
 */
import {
  BEACON,
  CARD_PARTNER,
  DENIED_IR42,
  DYNAMODB_ADDRESSES,
  EXPORT_TARGET,
  FRAUD_V6,
  GONE_WEBHOOK,
  LOG_START,
  LONG_WEBHOOK,
  RADIUS_PARTNER,
  S3_ADDRESSES,
  SAAS,
  SFTP,
  SQS_ADDRESS,
  WEBHOOKS_V4,
  WEBHOOKS_V6,
  WINDOW_END,
  exampleScenario,
  fnv1a,
  makeRng,
  type Connection,
  type ExampleEnv,
  type Host,
  type Rng,
  type Scenario,
  type Workload,
} from './scenario.js';

const DAY = 86_400;
const FILE_SLOT = 6 * 3600;

export interface DnsAnswer {
  Rdata: string;
  Type: 'A' | 'AAAA' | 'CNAME' | 'TXT';
  Class: 'IN';
}

/** One query as the Resolver logs it, and what it is there for. */
export interface DnsQuery {
  ts: number;
  /** The asking host's name in the scenario; null for the peered VPC's hosts. */
  host: string | null;
  /** The workload whose host asked; null for other hosts and the peered VPC. */
  workload: Workload | null;
  vpcId: string;
  srcAddr: string;
  srcPort: number;
  instanceId: string | null;
  /** The name asked for, lowercase, without the trailing dot. */
  name: string;
  type: 'A' | 'AAAA' | 'TXT';
  rcode: 'NOERROR' | 'NXDOMAIN';
  answers: DnsAnswer[];
  /** The connection it resolved the address of (null: no connection follows). */
  connection: number | null;
  /** What an existing DNS Firewall did (firewall_rule_action), when one matched. */
  firewallAction: 'ALERT' | null;
  purpose: 'connection' | 'nxdomain' | 'nxdomain-burst' | 'tunnel' | 'peered-vpc';
}

/** A name and the chain that answers it: CNAME targets first, then the A/AAAA records at the end of the chain. */
interface Named {
  name: string;
  cnames: string[];
  /** All addresses the name answers with (a CDN answers with several); default: the connection's address. */
  addresses?: readonly string[];
}

/** The name a connection's destination has, as the asking workload knows it; undefined: connected by address. */
function nameOf(env: ExampleEnv, c: Connection, hosts: readonly Host[], from: Host): Named | undefined {
  const d = c.dstAddr;
  const peer = hosts.find((h) => h.ipv4 === d || h.ipv6 === d);
  if (peer) {
    if (peer.role === 'endpoint')
      return {
        name: 'secretsmanager.eu-west-1.amazonaws.com',
        cnames: [],
        addresses: hosts.filter((h) => h.role === 'endpoint').map((h) => h.ipv4),
      };
    if (peer.role === 'database' || peer.role === 'cache' || peer.role === 'api')
      return { name: `${peer.role === 'database' ? 'db' : peer.role}.${env}.corp.internal`, cnames: [] };
    return undefined;
  }
  if (S3_ADDRESSES.includes(d)) {
    const bucket = from.role === 'batch' ? `exports-${env}` : `assets-${env}`;
    return { name: `${bucket}.s3.eu-west-1.amazonaws.com`, cnames: ['s3-r-w.eu-west-1.amazonaws.com'] };
  }
  if (DYNAMODB_ADDRESSES.includes(d)) return { name: 'dynamodb.eu-west-1.amazonaws.com', cnames: [] };
  if (d === SQS_ADDRESS) return { name: 'sqs.eu-west-1.amazonaws.com', cnames: [] };
  if (CARD_PARTNER.includes(d))
    return { name: 'api.cardpay.example.net', cnames: ['cardpay.edgecdn.example.org'], addresses: CARD_PARTNER };
  const hook = WEBHOOKS_V4.indexOf(d);
  if (hook >= 0) return { name: `hooks.customer-${hook + 1}.example.com`, cnames: [] };
  const hook6 = WEBHOOKS_V6.indexOf(d);
  if (hook6 >= 0) return { name: `hooks6.customer-${hook6 + 1}.example.com`, cnames: [] };
  if (d === DENIED_IR42) return { name: 'drop.files-share.example.org', cnames: [] };
  if (d === LONG_WEBHOOK) return { name: 'stream.customer-long.example.com', cnames: [] };
  if (d === GONE_WEBHOOK) return { name: 'hooks.customer-gone.example.com', cnames: [] };
  if (d === SAAS) return { name: 'api.saas-vendor.example.com', cnames: ['saas-vendor.global.example.net'] };
  if (d === RADIUS_PARTNER) return { name: 'radius.partner.example.net', cnames: [] };
  if (d === FRAUD_V6) return { name: 'score.fraud-check.example.net', cnames: [] };
  if (d === SFTP) return { name: 'sftp.regulator.example.org', cnames: [] };
  if (d === EXPORT_TARGET) return { name: 'ingest.datalake.example.com', cnames: [] };
  // Everything else (the implant's BEACON above all) is connected to by address: no name.
  return undefined;
}

/** Where the implant's DNS tunnel goes: many distinct long random labels under one registrable domain. */
export const TUNNEL_DOMAIN = 'exfil-cdn.test';

/** The day (dev only) a workload's package mirror vanished and it asked for it over and over: an NXDOMAIN burst. */
const NX_BURST: Partial<Record<ExampleEnv, { workload: Workload; start: string; count: number }>> = {
  dev: { workload: 'web', start: '2026-11-15T03:10:00Z', count: 80 },
};

function answersFor(named: Named, address: string): DnsAnswer[] {
  const out: DnsAnswer[] = named.cnames.map((target) => ({ Rdata: `${target}.`, Type: 'CNAME', Class: 'IN' }));
  for (const a of named.addresses ?? [address]) out.push({ Rdata: a, Type: a.includes(':') ? 'AAAA' : 'A', Class: 'IN' });
  return out;
}

function hex(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[rng.int(0, 15)];
  return s;
}

/** Every query of the environment's logs, in time order. */
export function dnsQueries(s: Scenario, seed = 'leastpath-examples'): DnsQuery[] {
  const rng = makeRng(`${seed}/${s.env}/dns`);
  const out: DnsQuery[] = [];
  const byAddr = new Map<string, Host>();
  for (const h of s.hosts) {
    byAddr.set(h.ipv4, h);
    if (h.ipv6) byAddr.set(h.ipv6, h);
  }
  const ask = (
    h: Host,
    ts: number,
    q: Pick<DnsQuery, 'name' | 'type' | 'rcode' | 'answers' | 'connection' | 'firewallAction' | 'purpose'>,
  ): void => {
    out.push({
      ts,
      host: h.name,
      workload: h.workload,
      vpcId: s.vpcId,
      srcAddr: h.ipv4,
      srcPort: rng.int(32768, 60999),
      instanceId: h.instanceId,
      ...q,
    });
  };
  let beacons = 0;
  for (const c of s.connections) {
    const from = byAddr.get(c.srcAddr);
    if (!from || from.workload === null) continue;
    const named = nameOf(s.env, c, s.hosts, from);
    const first = c.segments[0]!.start;
    if (c.dstAddr === BEACON && beacons++ % 5 === 0) {
      // The implant checks in over DNS too: a TXT query every fifth beacon, a fresh random label each time.
      ask(from, first - rng.int(2, 20), {
        name: `${hex(rng, 32)}.t.${TUNNEL_DOMAIN}`,
        type: 'TXT',
        rcode: 'NOERROR',
        answers: [{ Rdata: `"${hex(rng, 16)}"`, Type: 'TXT', Class: 'IN' }],
        connection: null,
        firewallAction: null,
        purpose: 'tunnel',
      });
    }
    if (!named) continue;
    const ts = first - rng.int(2, 20);
    if (ts < LOG_START) continue;
    ask(from, ts, {
      name: named.name,
      type: c.dstAddr.includes(':') ? 'AAAA' : 'A',
      rcode: 'NOERROR',
      answers: answersFor(named, c.dstAddr),
      connection: c.id,
      firewallAction: c.dstAddr === DENIED_IR42 ? 'ALERT' : null,
      purpose: 'connection',
    });
  }
  const web = s.hosts.find((h) => h.workload === 'web')!;
  const api = s.hosts.find((h) => h.workload === 'api')!;
  for (let day = LOG_START; day < WINDOW_END; day += DAY) {
    // A customer who left: their webhook name no longer exists.
    for (let i = 0; i < 2; i++) {
      ask(web, day + rng.int(8 * 3600, 18 * 3600), {
        name: 'hooks.customer-old.example.com',
        type: 'A',
        rcode: 'NXDOMAIN',
        answers: [],
        connection: null,
        firewallAction: null,
        purpose: 'nxdomain',
      });
    }
    // A typo in api's configuration, fixed later the same day.
    if (rng.chance(0.5)) {
      ask(api, day + rng.int(9 * 3600, 17 * 3600), {
        name: 'api.saas-vendr.example.com',
        type: 'A',
        rcode: 'NXDOMAIN',
        answers: [],
        connection: null,
        firewallAction: null,
        purpose: 'nxdomain',
      });
    }
    // A peered VPC logging to the same destination: one of its hosts shares web's address (overlapping CIDRs).
    out.push({
      ts: day + rng.int(0, DAY - 1),
      host: null,
      workload: null,
      vpcId: 'vpc-0ffee0ffee0ffee01',
      srcAddr: web.ipv4,
      srcPort: rng.int(32768, 60999),
      instanceId: null,
      name: 'peer-only.example.org',
      type: 'A',
      rcode: 'NOERROR',
      answers: [{ Rdata: '198.51.100.250', Type: 'A', Class: 'IN' }],
      connection: null,
      firewallAction: null,
      purpose: 'peered-vpc',
    });
  }
  const burst = NX_BURST[s.env];
  if (burst) {
    const h = s.hosts.find((x) => x.workload === burst.workload)!;
    const start = Date.parse(burst.start) / 1000;
    for (let i = 0; i < burst.count; i++) {
      ask(h, start + i * 30, {
        name: `mirror-${i % 8}.pkgs.example.org`,
        type: 'A',
        rcode: 'NXDOMAIN',
        answers: [],
        connection: null,
        firewallAction: null,
        purpose: 'nxdomain-burst',
      });
    }
  }
  return out.sort((a, b) => a.ts - b.ts || a.srcAddr.localeCompare(b.srcAddr) || a.name.localeCompare(b.name));
}

function isoSeconds(ts: number): string {
  return new Date(ts * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** One query as the JSON line AWS delivers (field order as AWS writes it; prod's files carry a newer minor version). */
export function formatDnsQuery(s: Scenario, q: DnsQuery): string {
  const newer = s.env === 'prod';
  const line: Record<string, unknown> = {
    version: newer ? '1.200000' : '1.100000',
    account_id: s.accountId,
    region: s.region,
    vpc_id: q.vpcId,
    query_timestamp: isoSeconds(q.ts),
    query_name: `${q.name}.`,
    query_type: q.type,
    query_class: 'IN',
    rcode: q.rcode,
    answers: q.answers,
    srcaddr: q.srcAddr,
    srcport: String(q.srcPort),
    transport: 'UDP',
    srcids: q.instanceId ? { instance: q.instanceId } : { resolver_endpoint: 'rslvr-in-0example0000001' },
  };
  if (q.firewallAction) {
    line.firewall_rule_group_id = 'rslvr-frg-0example000000001';
    line.firewall_rule_action = q.firewallAction;
    line.firewall_domain_list_id = 'rslvr-fdl-0example000000001';
  }
  // A field a newer minor version adds: readers must ignore it.
  if (newer) line.query_id = fnv1a(`${q.ts}/${q.srcPort}/${q.name}`).toString(16);
  return JSON.stringify(line);
}

export interface DnsLogFile {
  /** AWSLogs/<account>/vpcdnsquerylogs/<vpc>/YYYY/MM/DD/<file>.log.gz, as S3 delivers them. */
  path: string;
  lines: string[];
}

/** The query-log files of an environment, one per six hours, in the S3 layout AWS writes. */
export function renderDnsFiles(s: Scenario, queries: readonly DnsQuery[] = dnsQueries(s)): DnsLogFile[] {
  const slots = new Map<number, DnsQuery[]>();
  for (const q of queries) {
    const slot = LOG_START + Math.floor((q.ts - LOG_START) / FILE_SLOT) * FILE_SLOT;
    const list = slots.get(slot);
    if (list) list.push(q);
    else slots.set(slot, [q]);
  }
  return [...slots.keys()]
    .sort((a, b) => a - b)
    .map((slot) => {
      const iso = new Date(slot * 1000).toISOString();
      const [y, m, d] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10)];
      const stamp = `${y}${m}${d}T${iso.slice(11, 13)}${iso.slice(14, 16)}Z`;
      const lines = slots.get(slot)!.map((q) => formatDnsQuery(s, q));
      const tag = fnv1a(`${s.env}/${stamp}`).toString(16).padStart(8, '0').slice(0, 8);
      return {
        path: `AWSLogs/${s.accountId}/vpcdnsquerylogs/${s.vpcId}/${y}/${m}/${d}/${s.accountId}_vpcdnsquerylogs_${s.vpcId}_${stamp}_${tag}.log.gz`,
        lines,
      };
    });
}

/** The generator's truth of an environment's names: every query, and the scenario it was derived from. */
export function exampleDnsTruth(env: ExampleEnv, seed?: string): { scenario: Scenario; queries: DnsQuery[] } {
  const scenario = exampleScenario(env, seed);
  return { scenario, queries: dnsQueries(scenario, seed) };
}
