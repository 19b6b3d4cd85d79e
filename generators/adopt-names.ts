/**
 * `adoptNames`: an `observed: adopt` workload adopts names instead of addresses where its names explain them. Pure.
 * A name explains an observed entry when the entry's `names` hold it (the workload resolved the name to that
 * address before connecting). An adopted name allows the addresses the workload saw it resolve to (never the
 * VPC's own, link-local or denied ones) on the ports it used with the name, as domain intent does: it never widens
 * past the window's answers, and deny entries win per address and port.
 */
import { compareCidr, hostCidr, parseCidr } from '../core/cidr.js';
import { compareText } from '../core/text.js';
import type { ObservedEgress, ObservedFile } from '../model/types.js';
import type { Flow } from './match.js';
import type { AdoptedName, ResolvedRule } from './model.js';

export type { AdoptedName };

/** An entry the workload would adopt by its (external) address, with its index in the observed file. */
export interface AdoptCandidate {
  entry: ObservedEgress;
  index: number;
}

/** The resolver's own rules for observed entries, passed in so both ways of adopting stay one. */
export interface AdoptHelpers {
  toFlow(e: Pick<ObservedEgress, 'destination' | 'protocol' | 'port' | 'service'>): Flow;
  portsOf(e: Pick<ObservedEgress, 'protocol' | 'port'>): Pick<ResolvedRule, 'protocol' | 'fromPort' | 'toPort'>;
  /** The why of the deny entry that forbids this flow, if any. */
  denyFor(flow: Flow): string | undefined;
  /** The VPC's own, a workload's, or a link-local address. */
  ownAddress(address: string): boolean;
}

export interface AdoptByName {
  /** Rules of the adopted names, provenance `observed-domain`. */
  rules: ResolvedRule[];
  adopted: AdoptedName[];
  /** Candidates no name explains: adopted by address as before, in file order. */
  byAddress: AdoptCandidate[];
}

/** Splits the candidates into names adopted (with their rules) and entries left to adopt by address. */
export function adoptByName(
  workload: string,
  observedFile: string,
  observed: ObservedFile,
  candidates: readonly AdoptCandidate[],
  helpers: AdoptHelpers,
): AdoptByName {
  // Only names that answered outside the VPC: NXDOMAIN and the VPC's own names explain nothing a group could allow.
  const usable = new Map<string, number>();
  (observed.domains ?? []).forEach((d, i) => {
    if (!d.nxdomain && !d.internal) usable.set(d.name, i);
  });
  const explained = new Map<string, AdoptCandidate[]>();
  const byAddress: AdoptCandidate[] = [];
  for (const c of candidates) {
    const names = (c.entry.names ?? []).filter((n) => usable.has(n));
    if (names.length === 0 || helpers.ownAddress(c.entry.destination)) {
      byAddress.push(c);
      continue;
    }
    for (const n of names) explained.set(n, [...(explained.get(n) ?? []), c]);
  }
  const rules: ResolvedRule[] = [];
  const adopted: AdoptedName[] = [];
  for (const name of [...explained.keys()].sort(compareText)) {
    const entries = explained.get(name)!;
    const index = usable.get(name)!;
    const domain = observed.domains![index]!;
    const ports = new Map<string, Pick<ObservedEgress, 'protocol' | 'port'>>();
    for (const { entry } of entries)
      ports.set(`${entry.protocol}/${entry.port ?? ''}`, {
        protocol: entry.protocol,
        ...(entry.port !== undefined ? { port: entry.port } : {}),
      });
    // The entries' own destinations stay allowed even when this window's answers no longer hold them (kept entries).
    const addresses = new Set(entries.map((c) => c.entry.destination));
    for (const a of domain.addresses) {
      const host = hostCidr(a);
      if (host && !helpers.ownAddress(host)) addresses.add(host);
    }
    const source = { file: observedFile, path: `domains[${index}]` };
    const allowed = new Set<string>();
    for (const address of [...addresses].sort(compareCidrText)) {
      for (const p of [...ports.values()]) {
        const flow = helpers.toFlow({
          destination: address,
          protocol: p.protocol,
          ...(p.port !== undefined ? { port: p.port } : {}),
          service: null,
        });
        // A query log's answer is input, not truth: a deny entry wins over a name, address by address and port by port.
        if (helpers.denyFor(flow)) continue;
        allowed.add(address);
        const seen = entries
          .filter((c) => c.entry.destination === address && c.entry.protocol === p.protocol && c.entry.port === p.port)
          .map((c) => c.entry);
        rules.push({
          workload,
          peer: { kind: 'cidr', cidr: address },
          ...helpers.portsOf(p),
          provenance: 'observed-domain',
          why: `adopted name ${name} from query logs`,
          source,
          evidence: {
            flows: seen.reduce((n, e) => n + e.flows, 0),
            bytes: seen.reduce((n, e) => n + e.bytes, 0),
            firstSeen: [domain.firstSeen, ...seen.map((e) => e.firstSeen)].sort()[0]!,
            lastSeen: [domain.lastSeen, ...seen.map((e) => e.lastSeen)].sort().at(-1)!,
            decidedBy: seen[0]?.decidedBy ?? entries[0]!.entry.decidedBy,
            destinations: [address],
          },
        });
      }
    }
    adopted.push({
      workload,
      name,
      ports: [...ports.values()].map((p) => (p.port !== undefined ? `${p.protocol}/${p.port}` : p.protocol)).sort(compareText),
      addresses: [...allowed].sort(compareCidrText),
      explains: [...new Set(entries.map((c) => c.entry.destination))].sort(compareCidrText),
      source: `${source.file} ${source.path}`,
    });
  }
  return { rules, adopted, byAddress };
}

/** IPv4 before IPv6, then by address. */
function compareCidrText(a: string, b: string): number {
  const ca = parseCidr(a);
  const cb = parseCidr(b);
  return ca && cb ? compareCidr(ca, cb) : compareText(a, b);
}
