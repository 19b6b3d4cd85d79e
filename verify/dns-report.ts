/**
 * The report's name layer (pure): queries per allowed name (and the allowed names nobody asked for), names an
 * existing DNS Firewall blocked or alerted on (`firewall_rule_action` in the query logs), and DNS anomalies:
 * tunnelling (many distinct long or high-entropy labels under one registrable domain) and bursts of NXDOMAIN.
 */
import { dayOf } from '../core/dates.js';
import { anyNameMatches, nameMatches, normaliseName, registrableDomain } from '../core/domains.js';
import { compareText } from '../core/text.js';
import type { QuerySource } from '../observe/dns-names.js';
import type { DnsRead } from '../observe/dns-read.js';
import type { Anomaly } from './anomaly.js';

/** Distinct suspicious names under one registrable domain from one workload that make a tunnel. */
export const TUNNEL_MIN_NAMES = 20;
/** A label this long, or this long and this random (bits per character), carries data rather than a name. */
const LONG_LABEL = 24;
const ENTROPY_LABEL = { minLength: 12, bits: 3.5 };
/** NXDOMAIN answers to one workload within one hour that make a burst. */
export const NXDOMAIN_BURST = 50;

export interface DnsAllowedName {
  /** An allowlist entry (a name or `*.x.y`). */
  name: string;
  queries: number;
  workloads: string[];
}

export interface DnsFirewallHit {
  workload: string;
  name: string;
  action: string;
  queries: number;
}

export interface DnsReport {
  /** Queries of the environment's VPC in the window: none means no evidence, so no allowed name is called unused. */
  queries: number;
  allowed: DnsAllowedName[];
  /** Allowlist entries no query in the window matched (only when there were queries at all). */
  unused: string[];
  firewall: DnsFirewallHit[];
}

/** Shannon entropy of a text, bits per character. */
export function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Whether a label looks like data (an encoded chunk) rather than a name a person chose. */
export function suspiciousLabel(label: string): boolean {
  return label.length >= LONG_LABEL || (label.length >= ENTROPY_LABEL.minLength && entropy(label) >= ENTROPY_LABEL.bits);
}

export function dnsReport(dns: DnsRead, sourceOf: QuerySource, allowlist: readonly string[]): DnsReport {
  const allowed = new Map<string, { queries: number; workloads: Set<string> }>(
    allowlist.map((a) => [a, { queries: 0, workloads: new Set<string>() }]),
  );
  const firewall = new Map<string, DnsFirewallHit>();
  let total = 0;
  for (const q of dns.queries) {
    total += q.queries;
    const workload = sourceOf(q.srcaddr, q.instance) ?? '(other)';
    for (const [pattern, acc] of allowed) {
      if (!nameMatches(pattern, q.name)) continue;
      acc.queries += q.queries;
      acc.workloads.add(workload);
    }
    if (q.action === 'ALERT' || q.action === 'BLOCK') {
      const key = `${workload}\t${q.name}\t${q.action}`;
      const hit = firewall.get(key) ?? { workload, name: q.name, action: q.action, queries: 0 };
      hit.queries += q.queries;
      firewall.set(key, hit);
    }
  }
  const list = [...allowed].map(([name, a]) => ({ name, queries: a.queries, workloads: [...a.workloads].sort(compareText) }));
  return {
    queries: total,
    allowed: list,
    unused: total > 0 ? list.filter((a) => a.queries === 0).map((a) => a.name) : [],
    firewall: [...firewall.values()].sort(
      (a, b) => compareText(a.workload, b.workload) || compareText(a.name, b.name) || compareText(a.action, b.action),
    ),
  };
}

/** Tunnels and NXDOMAIN bursts, as report anomalies (destination: the registrable domain; udp/53). */
export function dnsAnomalies(dns: DnsRead, sourceOf: QuerySource, allowlist: readonly string[] = []): Anomaly[] {
  const out: Anomaly[] = [];
  const tunnels = new Map<string, { workload: string; domain: string; names: Set<string>; queries: number; first: number; last: number }>();
  for (const q of dns.queries) {
    const workload = sourceOf(q.srcaddr, q.instance);
    if (!workload || anyNameMatches(allowlist, q.name)) continue;
    const name = normaliseName(q.name);
    const domain = registrableDomain(name);
    const below = name.length > domain.length ? name.slice(0, name.length - domain.length - 1) : '';
    if (!below.split('.').some(suspiciousLabel)) continue;
    const key = `${workload}\t${domain}`;
    const t = tunnels.get(key) ?? { workload, domain, names: new Set<string>(), queries: 0, first: q.firstTs, last: q.lastTs };
    t.names.add(name);
    t.queries += q.queries;
    t.first = Math.min(t.first, q.firstTs);
    t.last = Math.max(t.last, q.lastTs);
    tunnels.set(key, t);
  }
  for (const t of [...tunnels.values()].sort((a, b) => compareText(a.workload, b.workload) || compareText(a.domain, b.domain))) {
    if (t.names.size < TUNNEL_MIN_NAMES) continue;
    out.push({
      kind: 'dns-tunnel',
      workload: t.workload,
      domain: t.domain,
      destination: t.domain,
      protocol: 'udp',
      port: 53,
      flows: t.queries,
      bytes: 0,
      from: dayOf(t.first),
      to: dayOf(t.last),
      why: `${t.names.size} distinct names with long or random labels under ${t.domain}: data carried in DNS queries (tunnelling)`,
      names: t.names.size,
    });
  }
  const bursts = new Map<string, { workload: string; hour: number; queries: number; domains: Map<string, number> }>();
  for (const h of dns.hours) {
    if (h.rcode !== 'NXDOMAIN') continue;
    const workload = sourceOf(h.srcaddr, h.instance);
    if (!workload) continue;
    const key = `${workload}\t${h.hour}`;
    const b = bursts.get(key) ?? { workload, hour: h.hour, queries: 0, domains: new Map<string, number>() };
    b.queries += h.queries;
    const d = registrableDomain(h.name);
    b.domains.set(d, (b.domains.get(d) ?? 0) + h.queries);
    bursts.set(key, b);
  }
  for (const b of [...bursts.values()].sort((x, y) => compareText(x.workload, y.workload) || x.hour - y.hour)) {
    if (b.queries < NXDOMAIN_BURST) continue;
    const [domain] = [...b.domains].sort((x, y) => y[1] - x[1] || compareText(x[0], y[0]))[0]!;
    const at = new Date(b.hour * 3600 * 1000).toISOString().slice(0, 13);
    out.push({
      kind: 'nxdomain-burst',
      workload: b.workload,
      domain,
      destination: domain,
      protocol: 'udp',
      port: 53,
      flows: b.queries,
      bytes: 0,
      from: dayOf(b.hour * 3600),
      to: dayOf(b.hour * 3600),
      why: `${b.queries} NXDOMAIN answers within the hour from ${at}:00Z, most under ${domain}: a broken dependency, or a domain-generation algorithm`,
    });
  }
  return out;
}
