/** Port specifications of the policy files: `tcp/443`, `udp/53`, `tcp/8000-8100`, `icmp`, `icmpv6`, `all`, or an IANA number. */

type NamedProtocol = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'all';
/** A protocol: a name above, or another IANA protocol number (47 GRE, 50 ESP, ...). */
export type Protocol = NamedProtocol | number;

export interface PortSpec {
  protocol: Protocol;
  /** First and last port, for tcp and udp only; both absent means every port. */
  from?: number;
  to?: number;
}

export const IANA: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58 };

/** Parses one port specification; returns an error message instead when it is not one. */
export function parsePortSpec(text: string): PortSpec | { error: string } {
  const s = text.trim();
  if (s === 'all' || s === 'icmp' || s === 'icmpv6') return { protocol: s };
  if (/^\d{1,3}$/.test(s)) {
    const n = Number(s);
    if (n > 255) return { error: `protocol number ${n} is above 255` };
    const named = protocolFromNumber(n);
    if (named === 'tcp' || named === 'udp') return { error: `protocol ${n} is ${named}: write ${named}/PORT` };
    return { protocol: named };
  }
  const m = /^(tcp|udp)\/(\d{1,5})(?:-(\d{1,5}))?$/.exec(s);
  if (!m)
    return { error: `expected a port like "tcp/443", "udp/53", "tcp/8000-8100", "icmp", "icmpv6" or "all", got ${JSON.stringify(text)}` };
  const from = Number(m[2]);
  const to = m[3] === undefined ? from : Number(m[3]);
  if (from > 65535 || to > 65535) return { error: `port above 65535 in ${JSON.stringify(text)}` };
  if (from > to) return { error: `port range ${from}-${to} runs backwards` };
  return { protocol: m[1] as 'tcp' | 'udp', from, to };
}

/** The protocol's name when it has one here, else its number. */
export function protocolFromNumber(n: number): Protocol {
  switch (n) {
    case 6:
      return 'tcp';
    case 17:
      return 'udp';
    case 1:
      return 'icmp';
    case 58:
      return 'icmpv6';
    default:
      return n;
  }
}

/** `tcp/443`, `tcp/8000-8100`, `icmp`, `all`, `47`. */
export function formatPortSpec(p: PortSpec): string {
  if (typeof p.protocol === 'number') return String(p.protocol);
  if (p.protocol === 'tcp' || p.protocol === 'udp') {
    if (p.from === undefined || p.to === undefined) return `${p.protocol}/0-65535`;
    return `${p.protocol}/${portRange(p.from, p.to)}`;
  }
  return p.protocol;
}

/** `443`, or `8000-8100` for a range. */
export function portRange(from: number, to: number): string {
  return from === to ? String(from) : `${from}-${to}`;
}

/** A flow's protocol and port: `tcp/443`, or the protocol alone (`icmp`, `47`) when it has no port. */
export function protocolPort(f: { protocol: string | number; port?: number }): string {
  return `${f.protocol}${f.port !== undefined ? `/${f.port}` : ''}`;
}

/** How many ports the spec opens (65536 for a protocol without ports or `all`). */
export function portCount(p: PortSpec): number {
  if ((p.protocol === 'tcp' || p.protocol === 'udp') && p.from !== undefined && p.to !== undefined) return p.to - p.from + 1;
  return 65536;
}

/** True when the spec admits traffic of `protocol` (IANA number) to `port` (undefined for portless protocols). */
export function admits(p: PortSpec, protocol: number, port: number | undefined): boolean {
  if (p.protocol === 'all') return true;
  const want = typeof p.protocol === 'number' ? p.protocol : IANA[p.protocol];
  if (want !== protocol) return false;
  if (p.protocol !== 'tcp' && p.protocol !== 'udp') return true;
  if (p.from === undefined || p.to === undefined) return true;
  return port !== undefined && port >= p.from && port <= p.to;
}
