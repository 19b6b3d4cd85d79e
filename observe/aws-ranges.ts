/**
 * AWS service attribution for addresses whose records do not carry pkt-dst-aws-service (v2 logs): AWS's
 * published ip-ranges.json, pinned in observe/data/ and refreshed by `npm run refresh:ip-ranges`.
 * https://docs.aws.amazon.com/vpc/latest/userguide/aws-ip-ranges.html
 */
import { readFileSync } from 'node:fs';
import { assetPath } from '../core/assets.js';
import { containsAddress, parseCidr, type Cidr } from '../core/cidr.js';
import { compareText } from '../core/text.js';

export interface IpRangesFile {
  syncToken: string;
  createDate: string;
  prefixes: { ip_prefix: string; region: string; service: string; network_border_group?: string }[];
  ipv6_prefixes: { ipv6_prefix: string; region: string; service: string; network_border_group?: string }[];
}

/** Services that say nothing about an endpoint: AMAZON is the superset of all, EC2 is anyone's instance. */
const GENERIC = new Set(['AMAZON', 'EC2']);

export const IP_RANGES_FILE = 'observe/data/aws-ip-ranges.json';

interface Entry {
  cidr: Cidr;
  service: string;
  region: string;
}

/** Keeps the prefixes that name a specific service, most specific first. */
function serviceEntries(data: IpRangesFile): Entry[] {
  const out: Entry[] = [];
  for (const p of data.prefixes) {
    const cidr = parseCidr(p.ip_prefix);
    if (cidr && !GENERIC.has(p.service)) out.push({ cidr, service: p.service, region: p.region });
  }
  for (const p of data.ipv6_prefixes) {
    const cidr = parseCidr(p.ipv6_prefix);
    if (cidr && !GENERIC.has(p.service)) out.push({ cidr, service: p.service, region: p.region });
  }
  return out.sort((a, b) => b.cidr.prefix - a.cidr.prefix || compareText(a.service, b.service));
}

/** A lookup from a /32 or /128 destination to the service that publishes it; the region's own entries win. */
function serviceLookup(data: IpRangesFile, region: string): (destination: string) => string | null {
  const entries = serviceEntries(data);
  return (destination) => {
    const d = parseCidr(destination);
    if (!d) return null;
    let fallback: string | null = null;
    for (const e of entries) {
      if (!containsAddress(e.cidr, d.family, d.network)) continue;
      if (e.region === region) return e.service;
      fallback ??= e.service;
    }
    return fallback;
  };
}

let pinned: IpRangesFile | undefined;

/** The lookup over the pinned copy of ip-ranges.json. */
export function awsServiceLookup(region: string): (destination: string) => string | null {
  pinned ??= JSON.parse(readFileSync(assetPath(IP_RANGES_FILE), 'utf8')) as IpRangesFile;
  return serviceLookup(pinned, region);
}

/** The pinned form: only service-specific prefixes (AMAZON and EC2 say nothing and are most of the file), sorted. */
export function slimIpRanges(data: IpRangesFile): IpRangesFile {
  const key = (p: string, s: string, r: string) => `${s}|${r}|${p}`;
  return {
    syncToken: data.syncToken,
    createDate: data.createDate,
    prefixes: data.prefixes
      .filter((p) => !GENERIC.has(p.service))
      .map(({ ip_prefix, region, service }) => ({ ip_prefix, region, service }))
      .sort((a, b) => (key(a.ip_prefix, a.service, a.region) < key(b.ip_prefix, b.service, b.region) ? -1 : 1)),
    ipv6_prefixes: data.ipv6_prefixes
      .filter((p) => !GENERIC.has(p.service))
      .map(({ ipv6_prefix, region, service }) => ({ ipv6_prefix, region, service }))
      .sort((a, b) => (key(a.ipv6_prefix, a.service, a.region) < key(b.ipv6_prefix, b.service, b.region) ? -1 : 1)),
  };
}
