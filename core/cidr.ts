/** CIDR parsing and canonical forms (validation by ip-cidr; arithmetic on bigint). */
import IPCIDR from 'ip-cidr';

export type Family = 4 | 6;

export interface Cidr {
  family: Family;
  /** Network address as an unsigned integer (host bits cleared). */
  network: bigint;
  prefix: number;
  /** Canonical text: dotted quad or compressed IPv6, with `/prefix`. */
  text: string;
  /** True when the input had host bits set (10.0.0.1/24). */
  hostBitsSet: boolean;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

const IPV4_CIDR = /^(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(?:\/(\d{1,2}))?$/;

function parseIpv4(addr: string, prefixText: string | undefined): Cidr | undefined {
  const given = addressToBigInt(addr, 4);
  if (given === undefined) return undefined;
  // Octets with leading zeros (010.0.0.1) are ambiguous (octal to some parsers): refused, as ip-cidr refuses them.
  if (addr.split('.').some((o) => o.length > 1 && o.startsWith('0'))) return undefined;
  const prefix = prefixText === undefined ? 32 : Number(prefixText);
  if (prefix > 32) return undefined;
  const hostBits = BigInt(32 - prefix);
  const network = (given >> hostBits) << hostBits;
  return { family: 4, network, prefix, text: formatCidr(4, network, prefix), hostBitsSet: network !== given };
}

/** Hex groups and colons only (no embedded IPv4, no zone), with an optional prefix. */
const IPV6_CIDR = /^([0-9a-fA-F:]{2,39})(?:\/(\d{1,3}))?$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * The plain IPv6 forms (eight groups, or fewer around one `::`) as a number; undefined for anything else, which
 * then goes to ip-cidr. ip-cidr parses through a general address library at ~100 µs a call, and observe meets
 * hundreds of thousands of addresses; test/core/cidr.test.ts checks this path against ip-cidr.
 */
function ipv6PlainToBigInt(addr: string): bigint | undefined {
  const halves = addr.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 1 || halves[1] === '' ? [] : halves[1]!.split(':');
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill('0'), ...tail];
  let v = 0n;
  for (const g of groups) {
    if (!HEX_GROUP.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  return v;
}

function parseIpv6Plain(addr: string, prefixText: string | undefined): Cidr | undefined {
  const given = ipv6PlainToBigInt(addr);
  if (given === undefined) return undefined;
  const prefix = prefixText === undefined ? 128 : Number(prefixText);
  if (prefix > 128) return undefined;
  const hostBits = BigInt(128 - prefix);
  const network = (given >> hostBits) << hostBits;
  return { family: 6, network, prefix, text: formatCidr(6, network, prefix), hostBitsSet: network !== given };
}

/** Parses `a.b.c.d/n`, an IPv6 CIDR, or a bare address (as /32 or /128); undefined when it is not one. */
export function parseCidr(input: string): Cidr | undefined {
  const s = input.trim();
  // IPv4 is most of what flow logs hold: parsed here directly (ip-cidr costs ~20 µs a call), IPv6 through ip-cidr.
  const v4 = IPV4_CIDR.exec(s);
  if (v4) return parseIpv4(v4[1]!, v4[2]);
  const v6 = IPV6_CIDR.exec(s);
  if (v6) {
    const fast = parseIpv6Plain(v6[1]!, v6[2]);
    if (fast) return fast;
  }
  const withPrefix = s.includes('/') ? s : `${s}/${s.includes(':') ? 128 : 32}`;
  if (!/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(withPrefix) || !IPCIDR.isValidCIDR(withPrefix)) return undefined;
  const family: Family = withPrefix.includes(':') ? 6 : 4;
  const prefix = Number(withPrefix.split('/')[1]);
  if (prefix > BITS[family]) return undefined;
  const c = new IPCIDR(withPrefix);
  const given = addressToBigInt(withPrefix.split('/')[0]!, family);
  if (given === undefined) return undefined;
  const network = BigInt(c.start({ type: 'bigInteger' }) as bigint);
  return { family, network, prefix, text: formatCidr(family, network, prefix), hostBitsSet: network !== given };
}

/** The address as an unsigned integer; undefined when it is not an address of that family. */
function addressToBigInt(addr: string, family?: Family): bigint | undefined {
  const fam: Family = family ?? (addr.includes(':') ? 6 : 4);
  if (fam === 4) {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
    if (!m) return undefined;
    let v = 0n;
    for (let i = 1; i <= 4; i++) {
      const o = Number(m[i]);
      if (o > 255) return undefined;
      v = (v << 8n) | BigInt(o);
    }
    return v;
  }
  const plain = ipv6PlainToBigInt(addr);
  if (plain !== undefined) return plain;
  if (!IPCIDR.isValidAddress(addr) || !addr.includes(':')) return undefined;
  return BigInt(new IPCIDR(`${addr}/128`).start({ type: 'bigInteger' }) as bigint);
}

/** Canonical text of an address: dotted quad, or RFC 5952 compressed IPv6. */
export function formatAddress(family: Family, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // Longest run of two or more zero groups becomes `::` (first one on a tie).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function formatCidr(family: Family, network: bigint, prefix: number): string {
  return `${formatAddress(family, network)}/${prefix}`;
}

/** Canonical `/32` or `/128` CIDR of an address; undefined when it is not an address. */
export function hostCidr(addr: string): string | undefined {
  const family: Family = addr.includes(':') ? 6 : 4;
  const v = addressToBigInt(addr, family);
  return v === undefined ? undefined : formatCidr(family, v, BITS[family]);
}

export function bits(family: Family): number {
  return BITS[family];
}

/** Number of addresses in the CIDR. */
export function size(c: Pick<Cidr, 'family' | 'prefix'>): bigint {
  return 1n << BigInt(BITS[c.family] - c.prefix);
}

/** True when `inner` lies inside `outer` (same family). */
export function contains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || inner.prefix < outer.prefix) return false;
  const shift = BigInt(BITS[outer.family] - outer.prefix);
  return inner.network >> shift === outer.network >> shift;
}

/** True when the address (as integer of the CIDR's family) lies inside the CIDR. */
export function containsAddress(c: Cidr, family: Family, addr: bigint): boolean {
  if (c.family !== family) return false;
  const shift = BigInt(BITS[family] - c.prefix);
  return addr >> shift === c.network >> shift;
}

/** Sort order for CIDRs: IPv4 before IPv6, then by network, then by prefix. */
export function compareCidr(a: Cidr, b: Cidr): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.network !== b.network) return a.network < b.network ? -1 : 1;
  return a.prefix - b.prefix;
}
