/**
 * The order of entries in observed/<env>/<workload>.yaml: (destination, protocol, port). observe writes in this
 * order and validate checks it, so both use this one comparator.
 */
import { compareCidr, parseCidr } from '../core/cidr.js';
import { IANA } from '../core/ports.js';
import { compareText } from '../core/text.js';

export interface ObservedKey {
  destination: string;
  protocol: string;
  port?: number;
}

/**
 * Destinations by address (IPv4 before IPv6, then network, then prefix length), protocols by IANA number
 * (icmp 1, tcp 6, udp 17, icmpv6 58, others by their number), then port, an absent port first.
 */
export function compareObservedKeys(a: ObservedKey, b: ObservedKey): number {
  return (
    compareDestination(a.destination, b.destination) ||
    protocolNumber(a.protocol) - protocolNumber(b.protocol) ||
    (a.port ?? -1) - (b.port ?? -1)
  );
}

/** The identity of an entry: two entries with one key are duplicates. */
export function observedKey(e: ObservedKey): string {
  const c = parseCidr(e.destination);
  return `${c?.text ?? e.destination} ${protocolNumber(e.protocol)} ${e.port ?? '-'}`;
}

function compareDestination(a: string, b: string): number {
  const ca = parseCidr(a);
  const cb = parseCidr(b);
  // Unparseable destinations are reported by cidr-valid; order them last, by text, so the comparison stays total.
  if (ca && cb) return compareCidr(ca, cb);
  if (ca) return -1;
  if (cb) return 1;
  return compareText(a, b);
}

function protocolNumber(p: string): number {
  return IANA[p] ?? (/^\d+$/.test(p) ? Number(p) : 256);
}
