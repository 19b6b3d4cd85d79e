/**
 * Deterministic destination sets for the compaction bench, shaped like what a busy workload talks to: dense
 * clusters of CDN and SaaS edges (a few /24s or /48s inside a provider's block, many hosts in each) plus hosts
 * scattered over the whole address space. Classes get skewed shares (one port carries most of the traffic).
 */
import { formatCidr, type Family } from '../../core/cidr.js';
import { makeRng, type Rng } from '../../examples/scenario.js';
import type { AddressClass } from '../../generators/compaction.js';

export interface Scenario {
  name: string;
  addresses: number;
  classes: number;
  family: Family | 'mixed';
  /** Share of addresses inside clusters (the rest are scattered). */
  clustered: number;
}

/** Provider-like blocks: [network, prefix]; clusters are drawn inside them. */
const V4_BLOCKS: [string, number][] = [
  ['13.224.0.0', 14],
  ['52.84.0.0', 15],
  ['104.16.0.0', 13],
  ['151.101.0.0', 16],
  ['140.82.112.0', 20],
  ['35.190.0.0', 17],
  ['20.33.0.0', 16],
  ['185.199.108.0', 22],
];
const V6_BLOCKS: [string, number][] = [
  ['2600:9000::', 28],
  ['2606:4700::', 32],
  ['2a04:4e42::', 32],
  ['2620:1ec::', 36],
  ['2a00:1450::', 32],
];
/** Where scattered hosts live: large cloud-provider blocks (partners, webhooks, APIs on cloud VMs). */
const V4_SCATTER: [string, number][] = [
  ['3.0.0.0', 8],
  ['13.0.0.0', 8],
  ['18.0.0.0', 8],
  ['20.0.0.0', 8],
  ['34.0.0.0', 8],
  ['35.0.0.0', 8],
  ['52.0.0.0', 8],
  ['54.0.0.0', 8],
  ['104.0.0.0', 8],
];
const V6_SCATTER: [string, number][] = [
  ['2600:1f00::', 24],
  ['2a05:d000::', 25],
  ['2600:1900::', 28],
  ['2603:1000::', 24],
];

function v4(addr: string): bigint {
  return addr.split('.').reduce((v, o) => (v << 8n) | BigInt(o), 0n);
}

function v6(addr: string): bigint {
  const [head, tail = ''] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((v, g) => (v << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function randomBits(rng: Rng, n: number): bigint {
  let v = 0n;
  for (let i = 0; i < n; i += 16) v = (v << 16n) | BigInt(rng.int(0, 0xffff));
  return v & ((1n << BigInt(n)) - 1n);
}

/** Host addresses of one class. */
function hosts(rng: Rng, family: Family, count: number, clustered: number): string[] {
  const width = family === 4 ? 32 : 128;
  const blocks = family === 4 ? V4_BLOCKS : V6_BLOCKS;
  const out = new Set<string>();
  // Clusters: a /24 (IPv4) or a /64 in a /48 (IPv6) inside a provider block, filled with many hosts.
  const clusterCount = Math.max(1, Math.round(Math.sqrt(count) / 2));
  const clusters: { base: bigint; hostBits: number }[] = [];
  for (let i = 0; i < clusterCount; i++) {
    const [addr, prefix] = rng.pick(blocks);
    const base = family === 4 ? v4(addr) : v6(addr);
    const sub = family === 4 ? 24 : 64;
    const net = base | (randomBits(rng, sub - prefix) << BigInt(width - sub));
    clusters.push({ base: net, hostBits: width - sub });
  }
  let guard = 0;
  while (out.size < count && guard++ < count * 20) {
    let a: bigint;
    if (rng.chance(clustered)) {
      const c = clusters[Math.floor(Math.pow(rng.next(), 2) * clusters.length)]!;
      // IPv6 edges mostly use small interface ids; some use random ones.
      const low = family === 6 && rng.chance(0.7) ? BigInt(rng.int(1, 4096)) : randomBits(rng, c.hostBits);
      a = c.base | low;
    } else {
      const [addr, prefix] = rng.pick(family === 4 ? V4_SCATTER : V6_SCATTER);
      a = (family === 4 ? v4(addr) : v6(addr)) | randomBits(rng, width - prefix);
    }
    out.add(formatCidr(family, a, width));
  }
  return [...out];
}

/** The classes of a scenario: deterministic in its name. */
export function generate(s: Scenario): AddressClass[] {
  const rng = makeRng(`leastpath-bench-compaction/${s.name}`);
  // Skewed shares: class i gets weight 1 / (i + 1).
  const weights = Array.from({ length: s.classes }, (_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const ports = [443, 80, 8443, 5432, 6379, 9092, 27017, 3306, 22, 25, 587, 993, 5671, 9200, 2181, 11211, 8080, 8000, 1521, 53];
  return weights.map((w, i) => {
    const family: Family = s.family === 'mixed' ? (i % 3 === 2 ? 6 : 4) : s.family;
    const count = Math.max(1, Math.round((s.addresses * w) / total));
    const port = ports[i % ports.length]!;
    return { key: `tcp|${port}|${port}|${family}`, family, cidrs: hosts(rng, family, count, s.clustered) };
  });
}
