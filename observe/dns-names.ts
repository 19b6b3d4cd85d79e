/**
 * Names as evidence (pure): the window's query-log rows attributed to workloads, each observed egress entry given
 * the names that workload resolved to its address before connecting, and each file its `domains`.
 */
import { dayOf } from '../core/dates.js';
import { containsAddress, hostCidr, parseCidr, type Cidr } from '../core/cidr.js';
import { protocolFromNumber } from '../core/ports.js';
import { compareText } from '../core/text.js';
import type { EnvironmentConfig, ObservedDomain, ObservedEgress, ObservedFile } from '../model/types.js';
import type { ObserveRow } from './assemble.js';
import type { DnsRead } from './dns-read.js';

const PORTED = new Set([6, 17, 132]);

/** Maps a query's source (srcaddr, srcids.instance) to the workload it belongs to, with the selectors of flows. */
export type QuerySource = (srcaddr: string, instance: string | null) => string | undefined;

/**
 * The workload of a query: by `srcids.instance` (instance selectors), by `srcaddr` inside a workload's CIDRs, or by
 * `srcaddr` being one of the workload's own addresses observe learned from the flow logs (interface and subnet
 * selectors, which a query log cannot name).
 */
export function querySource(config: EnvironmentConfig, ownAddresses: ReadonlyMap<string, readonly string[]>): QuerySource {
  const byInstance = new Map<string, string>();
  const byAddress = new Map<string, string>();
  const ranges: { workload: string; cidr: Cidr }[] = [];
  for (const name of Object.keys(config.workloads).sort(compareText)) {
    const sel = config.workloads[name]!;
    for (const i of sel.instances) if (!byInstance.has(i)) byInstance.set(i, name);
    for (const c of sel.cidrs) {
      const cidr = parseCidr(c);
      if (cidr) ranges.push({ workload: name, cidr });
    }
    for (const a of ownAddresses.get(name) ?? []) if (!byAddress.has(a)) byAddress.set(a, name);
  }
  const cache = new Map<string, string | undefined>();
  return (srcaddr, instance) => {
    if (instance && byInstance.has(instance)) return byInstance.get(instance);
    if (cache.has(srcaddr)) return cache.get(srcaddr);
    const host = hostCidr(srcaddr);
    const c = host ? parseCidr(host) : undefined;
    let found: string | undefined;
    if (host && c) found = ranges.find((r) => containsAddress(r.cidr, c.family, c.network))?.workload ?? byAddress.get(host);
    cache.set(srcaddr, found);
    return found;
  };
}

/** A plain address as the answers give it, normalised (IPv6 compressed); undefined when it is none. */
export function plainAddress(text: string): string | undefined {
  const host = hostCidr(text);
  return host?.replace(/\/\d+$/, '');
}

/** Whether a name is the VPC's own: `*.internal`, a private zone's, a VPC endpoint's, or answered only inside the VPC. */
export function isInternalName(
  name: string,
  privateZones: readonly string[],
  addresses: readonly string[],
  vpcCidrs: readonly string[],
): boolean {
  if (name === 'internal' || name.endsWith('.internal') || name.endsWith('.vpce.amazonaws.com')) return true;
  if (privateZones.some((z) => name === z || name.endsWith(`.${z}`))) return true;
  if (addresses.length === 0 || vpcCidrs.length === 0) return false;
  const vpc = vpcCidrs.map(parseCidr).filter((c): c is Cidr => c !== undefined);
  return addresses.every((a) => {
    const c = parseCidr(hostCidr(a) ?? '');
    return c !== undefined && vpc.some((v) => containsAddress(v, c.family, c.network));
  });
}

function entryKey(destination: string, protocol: string, port: number | undefined): string {
  return `${destination}|${protocol}|${port ?? ''}`;
}

/**
 * The observed files with `names` on every egress entry and `domains`. A name counts for an entry when the
 * workload resolved it to the entry's address at least a second before the entry's first record in the window;
 * an entry kept from an earlier run (not seen in this window) keeps the names it had.
 */
export function withNames(input: {
  files: ReadonlyMap<string, ObservedFile>;
  rows: readonly ObserveRow[];
  dns: DnsRead;
  config: EnvironmentConfig;
}): Map<string, ObservedFile> {
  const { files, rows, dns, config } = input;
  const own = new Map([...files].map(([w, f]) => [w, f.addresses ?? []]));
  const sourceOf = querySource(config, own);
  // First record of each entry in this window, epoch seconds.
  const firstOf = new Map<string, number>();
  for (const r of rows) {
    if (r.kind !== 'egress' || r.raddr === null || r.proto === null || r.firstSeen === null) continue;
    const destination = hostCidr(r.raddr);
    if (!destination) continue;
    const port = PORTED.has(r.proto) && r.rport !== null && r.rport > 0 ? r.rport : undefined;
    const key = `${r.workload}|${entryKey(destination, String(protocolFromNumber(r.proto)), port)}`;
    const prev = firstOf.get(key);
    if (prev === undefined || r.firstSeen < prev) firstOf.set(key, r.firstSeen);
  }
  // workload -> address (host CIDR) -> name -> first time resolved.
  const resolved = new Map<string, Map<string, Map<string, number>>>();
  // workload -> name -> addresses answered.
  const answered = new Map<string, Map<string, Set<string>>>();
  for (const r of dns.resolutions) {
    const workload = sourceOf(r.srcaddr, r.instance);
    if (!workload || !files.has(workload)) continue;
    const host = hostCidr(r.address);
    if (!host) continue;
    const byAddr = getOr(resolved, workload, () => new Map<string, Map<string, number>>());
    const byName = getOr(byAddr, host, () => new Map<string, number>());
    const t = byName.get(r.name);
    if (t === undefined || r.firstTs < t) byName.set(r.name, r.firstTs);
    getOr(
      getOr(answered, workload, () => new Map<string, Set<string>>()),
      r.name,
      () => new Set<string>(),
    ).add(host);
  }
  const out = new Map<string, ObservedFile>();
  for (const [workload, file] of files) {
    const egress = file.egress.map((e): ObservedEgress => {
      const first = firstOf.get(`${workload}|${entryKey(e.destination, e.protocol, e.port)}`);
      if (first === undefined) return { ...e, names: e.names ?? [] };
      const names = [...(resolved.get(workload)?.get(e.destination) ?? new Map<string, number>())]
        .filter(([, t]) => t + 1 <= first)
        .map(([n]) => n)
        .sort(compareText);
      return { ...e, names };
    });
    const connected = new Set(egress.flatMap((e) => e.names ?? []));
    const domains = domainsOf(workload, dns, sourceOf, answered.get(workload), connected, config);
    out.set(workload, { ...file, egress, domains });
  }
  return out;
}

function domainsOf(
  workload: string,
  dns: DnsRead,
  sourceOf: QuerySource,
  answered: ReadonlyMap<string, ReadonlySet<string>> | undefined,
  connected: ReadonlySet<string>,
  config: EnvironmentConfig,
): ObservedDomain[] {
  const acc = new Map<string, { queries: number; first: number; last: number; noerror: boolean; nxdomain: boolean }>();
  for (const q of dns.queries) {
    if (sourceOf(q.srcaddr, q.instance) !== workload) continue;
    const a = getOr(acc, q.name, () => ({ queries: 0, first: q.firstTs, last: q.lastTs, noerror: false, nxdomain: false }));
    a.queries += q.queries;
    a.first = Math.min(a.first, q.firstTs);
    a.last = Math.max(a.last, q.lastTs);
    if (q.rcode === 'NOERROR') a.noerror = true;
    if (q.rcode === 'NXDOMAIN') a.nxdomain = true;
  }
  const out: ObservedDomain[] = [];
  for (const [name, a] of [...acc].sort(([x], [y]) => compareText(x, y))) {
    // Only names that got an answer, or only ever NXDOMAIN; SERVFAIL and REFUSED alone say nothing of the name.
    if (!a.noerror && !a.nxdomain) continue;
    const hosts = [...(answered?.get(name) ?? [])];
    const addresses = sortedPlain(hosts);
    const internal = isInternalName(name, config.dnsLogs?.privateZones ?? [], addresses, config.vpcCidrs);
    out.push({
      name,
      queries: a.queries,
      connected: connected.has(name),
      firstSeen: dayOf(a.first),
      lastSeen: dayOf(a.last),
      addresses,
      ...(!a.noerror ? { nxdomain: true } : {}),
      ...(internal ? { internal: true } : {}),
    });
  }
  return out;
}

/** Host CIDRs as plain addresses, IPv4 first, numerically. */
function sortedPlain(hosts: readonly string[]): string[] {
  return hosts
    .map((h) => ({ h, c: parseCidr(h)! }))
    .sort((x, y) => x.c.family - y.c.family || (x.c.network < y.c.network ? -1 : x.c.network > y.c.network ? 1 : 0))
    .map((x) => x.h.replace(/\/\d+$/, ''));
}

function getOr<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) m.set(k, (v = make()));
  return v;
}
