/**
 * Construct ids of the stack, which cdktf uses verbatim as Terraform resource names (a construct directly under
 * the stack keeps its id as its logical id). They are derived from content only, never from input order, so a
 * rule keeps its address across runs and Terraform never sees a rename as a destroy and create.
 *
 * Every id is `<kind>_<part>_<part>...`: parts are joined with `_` and never contain one, and each part is an
 * injective rendering of its value, so two different things cannot get one id. Values that cannot be rendered
 * losslessly carry a short hash of the original text. The names resources get in AWS (`awsName`) are here too, so
 * that the renderer and the guard rails (which refuse two things with one address or one name) share them.
 */
import { createHash } from 'node:crypto';
import { protocolFromNumber, type Protocol } from '../core/ports.js';
import type { Peer, ResolvedEnvironment, ResolvedRule } from '../generators/model.js';

/** Terraform's rule for names: a letter or underscore first, then letters, digits, underscores and hyphens. */
export const TERRAFORM_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Longer ids are cut and hashed; Terraform has no limit but people read these in plans. */
const MAX_ID = 200;

/** The first 6 hex digits of the SHA-256 of `text`: stable, and plenty to tell a handful of near-equal names apart. */
function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 6);
}

/**
 * One part of an id from a name (workload, prefix list, AWS service, ACL id). A name of `[a-z0-9-]` is kept as
 * it is; any other (`ecr.api`) has its other characters replaced by `-` and a hash of the name appended
 * (`ecr-api-1a2b3c`), so it cannot meet the id of a name that really is `ecr-api`.
 */
export function namePart(name: string): string {
  if (/^[a-z0-9][a-z0-9-]*$/.test(name)) return name;
  const readable = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `${readable || 'x'}-${shortHash(name)}`;
}

/**
 * A canonical CIDR as an id part: `10.20.0.0/16` -> `10-20-0-0_16`, `2001:db8::/32` -> `2001-db8--_32`.
 * Injective on canonical text (the separators map one to one and the prefix length is always last), so no hash.
 * The `_` before the prefix length is inside one part: callers only ever put a CIDR last.
 */
export function cidrPart(cidr: string): string {
  const [address, prefix] = cidr.split('/');
  if (address === undefined || prefix === undefined || !/^[0-9a-f.:]+$/.test(address) || !/^\d+$/.test(prefix)) {
    return `cidr-${shortHash(cidr)}`;
  }
  return `${address.replace(/[.:]/g, '-')}_${prefix}`;
}

/** `tcp-443`, `tcp-8000-8100`, `udp-all`, `icmp`, `icmp-8`, `icmp-3-4`, `all`, `proto-47`. */
export function portsPart(protocol: Protocol, fromPort?: number, toPort?: number): string {
  if (protocol === 'all') return 'all';
  if (typeof protocol === 'number') return `proto-${protocol}`;
  if (protocol === 'tcp' || protocol === 'udp') {
    if (fromPort === undefined || toPort === undefined) return `${protocol}-all`;
    return fromPort === toPort ? `${protocol}-${fromPort}` : `${protocol}-${fromPort}-${toPort}`;
  }
  // icmp / icmpv6: type and code, -1 (or absent) meaning all.
  const type = fromPort ?? -1;
  const code = toPort ?? -1;
  if (type === -1) return protocol;
  return code === -1 ? `${protocol}-${type}` : `${protocol}-${type}-${code}`;
}

/** The destination of a rule as the last part(s) of its id: `sg_api`, `cidr_10-0-0-0_8`, `pl_card-partner`... */
function peerPart(peer: Peer): string {
  switch (peer.kind) {
    case 'cidr':
      return `cidr_${cidrPart(peer.cidr)}`;
    case 'workload':
      return `sg_${namePart(peer.workload)}`;
    case 'endpoint':
      return `vpce_${namePart(peer.service)}`;
    case 'prefixList':
      return `pl_${namePart(peer.name)}`;
    case 'awsPrefixList':
      return `awspl_${namePart(peer.service)}`;
  }
}

/** Joins parts and keeps the result a valid, bounded Terraform name. */
function joinId(...parts: string[]): string {
  const id = parts.join('_');
  if (!TERRAFORM_NAME.test(id)) throw new Error(`internal: ${JSON.stringify(id)} is not a valid Terraform name`);
  return id.length <= MAX_ID ? id : `${id.slice(0, MAX_ID - 7)}_${shortHash(id)}`;
}

/** The ids of everything the renderer creates, in one place so that their shapes are easy to review. */
export const ids = {
  workloadGroup: (workload: string) => joinId('sg', namePart(workload)),
  groupTag: (workload: string, key: string) => joinId('tag', 'sg', namePart(workload), namePart(key.toLowerCase())),
  endpointGroup: (service: string) => joinId('sg', 'vpce', namePart(service)),
  endpoint: (service: string) => joinId('vpce', namePart(service)),
  prefixList: (name: string) => joinId('pl', namePart(name)),
  egressRule: (workload: string, protocol: Protocol, fromPort: number | undefined, toPort: number | undefined, peer: Peer) =>
    joinId('egress', namePart(workload), portsPart(protocol, fromPort, toPort), peerPart(peer)),
  endpointIngress: (service: string, workload: string) => joinId('ingress', 'vpce', namePart(service), 'from', namePart(workload)),
  naclRule: (networkAcl: string, egress: boolean, ruleNumber: number) =>
    joinId('nacl', namePart(networkAcl), egress ? 'egress' : 'ingress', String(ruleNumber)),
};

/** Names in AWS (group names must be unique in the VPC); all start with `leastpath-<env>-`. */
export const awsName = {
  group: (env: ResolvedEnvironment, workload: string) => `leastpath-${env.environment}-${workload}`,
  endpoint: (env: ResolvedEnvironment, service: string) => `leastpath-${env.environment}-${service.replace(/\./g, '-')}`,
  endpointGroup: (env: ResolvedEnvironment, service: string) => `${awsName.endpoint(env, service)}-vpce`,
  prefixList: (env: ResolvedEnvironment, name: string) => `leastpath-${env.environment}-${name}`,
};

/** 6, 17, 1 and 58 by their names, so that their ports are rendered too. */
export function normalProtocol(p: Protocol): Protocol {
  return typeof p === 'number' ? protocolFromNumber(p) : p;
}

/** The construct id of an egress rule. */
export function ruleId(r: ResolvedRule): string {
  return ids.egressRule(r.workload, normalProtocol(r.protocol), r.fromPort, r.toPort, r.peer);
}
