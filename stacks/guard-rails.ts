/**
 * The stack's guard rails: what must never reach Terraform (a rule to the whole internet without an exception, a
 * group over its quota, a dangling reference, two things with one Terraform address). The generators guarantee
 * all of this; the stack checks again because it is the last step before AWS. Pure.
 */
import { parseCidr } from '../core/cidr.js';
import { LeastpathError } from '../core/errors.js';
import { isSafeName } from '../core/names.js';
import type { ResolvedEndpoint, ResolvedEnvironment, ResolvedPrefixList, ResolvedRule } from '../generators/model.js';
import { awsName, ids, normalProtocol, ruleId } from './ids.js';

/** The model breaks a rule the stack enforces itself (a guard rail, a quota, a dangling reference). */
export class StackError extends LeastpathError {}

/** Throws a StackError for the first thing in `env` that must not reach Terraform. */
export function checkEnvironment(env: ResolvedEnvironment): void {
  const where = `environment ${JSON.stringify(env.environment)}`;
  if (!isSafeName(env.environment))
    throw new StackError(`${where}: the name must match [a-z0-9][a-z0-9-]* (it names the stack and its folder)`);
  if (!/^\d{12}$/.test(env.account))
    throw new StackError(`${where}: account ${JSON.stringify(env.account)} is not a 12-digit AWS account id`);
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(env.region))
    throw new StackError(`${where}: region ${JSON.stringify(env.region)} is not an AWS region name`);
  if (!/^vpc-[0-9a-f]+$/.test(env.vpc)) throw new StackError(`${where}: ${JSON.stringify(env.vpc)} is not a VPC id`);
  if (env.mode === 'audit') return;

  const seen = new Map<string, string>();
  const claim = (id: string, what: string) => {
    const before = seen.get(id);
    if (before !== undefined)
      throw new StackError(`${where}: ${what} and ${before} would be the same Terraform resource ${id}: the model has a duplicate`);
    seen.set(id, what);
  };

  // Group names must be unique in the VPC: a workload `sts-vpce` would meet the group of the sts endpoint.
  const groupNames = new Map<string, string>();
  const claimName = (name: string, what: string) => {
    const before = groupNames.get(name);
    if (before !== undefined) throw new StackError(`${where}: ${what} and ${before} would both be the security group named ${name}`);
    groupNames.set(name, what);
  };

  const groups = new Set<string>();
  for (const g of env.groups) {
    claim(ids.workloadGroup(g.workload), `the group of workload ${g.workload}`);
    if (g.adoptId === undefined) claimName(awsName.group(env, g.workload), `the group of workload ${g.workload}`);
    groups.add(g.workload);
    if (g.adoptId !== undefined && !/^sg-[0-9a-f]{8,17}$/.test(g.adoptId)) {
      throw new StackError(`${where}: workload ${g.workload} adopts ${JSON.stringify(g.adoptId)}, which is not a security group id`);
    }
    // Quota use including prefix-list weights is the resolver's; a group with more rules than its quota is
    // certain to fail at apply, half-way through, so it stops here.
    if (g.rules.length > g.quota.limit) {
      throw new StackError(
        `${where}: workload ${g.workload} has ${g.rules.length} egress rules, over its quota of ${g.quota.limit} rules per group`,
      );
    }
  }
  const prefixLists = new Map(env.prefixLists.map((p) => [p.name, p]));
  for (const pl of env.prefixLists) {
    claim(ids.prefixList(pl.name), `prefix list ${pl.name}`);
    checkPrefixList(where, pl);
  }
  const endpoints = new Map(env.endpoints.map((e) => [e.service, e]));
  for (const ep of env.endpoints) {
    claim(ids.endpoint(ep.service), `the ${ep.service} endpoint`);
    if (ep.type === 'Gateway' && ep.routeTables.length === 0)
      throw new StackError(`${where}: the ${ep.service} gateway endpoint has no route tables`);
    if (ep.type === 'Interface') {
      claim(ids.endpointGroup(ep.service), `the group of the ${ep.service} endpoint`);
      claimName(awsName.endpointGroup(env, ep.service), `the group of the ${ep.service} endpoint`);
      if (ep.subnets.length === 0) throw new StackError(`${where}: the ${ep.service} interface endpoint has no subnets`);
      for (const w of ep.workloads) {
        if (!groups.has(w)) throw new StackError(`${where}: the ${ep.service} endpoint admits workload ${w}, which has no group`);
      }
    }
  }
  for (const g of env.groups) {
    for (const r of g.rules) {
      const at = `${r.source.file} ${r.source.path}`;
      if (r.workload !== g.workload)
        throw new StackError(`${where}: ${at}: a rule of workload ${r.workload} is listed in the group of ${g.workload}`);
      checkPorts(at, r);
      checkPeer(at, r, { groups, prefixLists, endpoints });
      claim(ruleId(r), `the rule at ${at}`);
    }
  }
  for (const n of env.quarantine) {
    const at = `quarantine of ${n.subnet} (${n.networkAcl})`;
    if (!Number.isInteger(n.ruleNumber) || n.ruleNumber < 1 || n.ruleNumber > 32766)
      throw new StackError(`${where}: ${at}: rule number ${n.ruleNumber} is outside 1-32766`);
    if (!/^acl-[0-9a-f]+$/.test(n.networkAcl))
      throw new StackError(`${where}: ${at}: ${JSON.stringify(n.networkAcl)} is not a network ACL id`);
    canonicalCidr(n.cidr, at);
    claim(ids.naclRule(n.networkAcl, n.egress, n.ruleNumber), `${at} rule ${n.ruleNumber} (${n.egress ? 'egress' : 'ingress'})`);
  }
}

function checkPrefixList(where: string, pl: ResolvedPrefixList): void {
  const at = `${where}: prefix list ${pl.name}`;
  if (!Number.isInteger(pl.maxEntries) || pl.maxEntries < 1 || pl.maxEntries > 1000)
    throw new StackError(`${at}: max entries ${pl.maxEntries} is outside 1-1000`);
  if (pl.entries.length > pl.maxEntries)
    throw new StackError(`${at}: ${pl.entries.length} entries exceed its max entries ${pl.maxEntries}`);
  const cidrs = new Set<string>();
  for (const e of pl.entries) {
    const c = parseCidr(canonicalCidr(e.cidr, at))!;
    if (c.family !== pl.family) throw new StackError(`${at}: ${e.cidr} is not an IPv${pl.family} CIDR`);
    if (cidrs.has(c.text)) throw new StackError(`${at}: ${c.text} is listed twice`);
    cidrs.add(c.text);
  }
}

function checkPorts(at: string, r: ResolvedRule): void {
  const p = normalProtocol(r.protocol);
  const given = [r.fromPort, r.toPort].filter((x) => x !== undefined);
  const ports = `${r.fromPort ?? ''}-${r.toPort ?? ''}`;
  if (p === 'tcp' || p === 'udp') {
    // Evidence names one port: an observed tcp/udp rule (by address or adopted by name) without one would open all of
    // them, past every guard rail.
    const observed = r.provenance === 'observed' || r.provenance === 'observed-domain';
    if (observed && (given.length === 0 || r.fromPort !== r.toPort || r.fromPort! < 1)) {
      throw new StackError(
        `${at}: an observed ${p} destination without one port (${ports}) would allow every port: re-run leastpath observe`,
      );
    }
    if (given.length === 1) throw new StackError(`${at}: ${p} ports ${ports}: give both ends of the range or neither`);
    if (given.length === 2 && !(isInt(r.fromPort!, 0, 65535) && isInt(r.toPort!, r.fromPort!, 65535)))
      throw new StackError(`${at}: ${p} ports ${ports} are not a range within 0-65535`);
  } else if (p === 'icmp' || p === 'icmpv6') {
    const type = r.fromPort ?? -1;
    const code = r.toPort ?? -1;
    if (!isInt(type, -1, 255) || !isInt(code, -1, 255) || (type === -1 && code !== -1))
      throw new StackError(`${at}: ${p} type ${type} code ${code} is not a valid ICMP type and code`);
  } else {
    if (given.length > 0) throw new StackError(`${at}: protocol ${p === 'all' ? 'all' : p} has no ports, got ${ports}`);
    if (p !== 'all' && !isInt(p, 0, 255)) throw new StackError(`${at}: protocol ${p} is not an IANA protocol number`);
  }
}

function checkPeer(
  at: string,
  r: ResolvedRule,
  known: { groups: Set<string>; prefixLists: Map<string, ResolvedPrefixList>; endpoints: Map<string, ResolvedEndpoint> },
): void {
  const peer = r.peer;
  switch (peer.kind) {
    case 'cidr': {
      const c = parseCidr(canonicalCidr(peer.cidr, at))!;
      // The contract's hard line: the whole internet only with an exception, whatever the resolver decided.
      if (c.prefix === 0 && !r.exception)
        throw new StackError(
          `${at}: egress to ${c.text} without an exception: the whole internet needs an exception block (reason, owner, expires)`,
        );
      return;
    }
    case 'workload':
      if (!known.groups.has(peer.workload))
        throw new StackError(`${at}: refers to workload ${peer.workload}, which has no group in this environment`);
      return;
    case 'prefixList':
      if (!known.prefixLists.has(peer.name))
        throw new StackError(`${at}: refers to prefix list ${peer.name}, which this environment does not define`);
      return;
    case 'endpoint': {
      const ep = known.endpoints.get(peer.service);
      if (ep?.type !== 'Interface')
        throw new StackError(`${at}: refers to the ${peer.service} interface endpoint, which this environment does not define`);
      // Otherwise the endpoint's group would not admit the workload and the rule would allow nothing.
      if (!ep.workloads.includes(r.workload))
        throw new StackError(`${at}: the ${peer.service} endpoint does not list workload ${r.workload} among those it admits`);
      return;
    }
    case 'awsPrefixList': {
      const ep = known.endpoints.get(peer.service);
      if (ep?.type !== 'Gateway')
        throw new StackError(
          `${at}: refers to the prefix list of the ${peer.service} gateway endpoint, which this environment does not define`,
        );
      return;
    }
  }
}

/** The canonical text of `cidr`; throws when it is not a CIDR or has host bits set (it would mean another network). */
export function canonicalCidr(cidr: string, at: string): string {
  const c = parseCidr(cidr);
  if (!c) throw new StackError(`${at}: ${JSON.stringify(cidr)} is not a CIDR`);
  if (c.hostBitsSet) throw new StackError(`${at}: ${cidr} has host bits set (the network is ${c.text})`);
  return c.text;
}

function isInt(n: number, min: number, max: number): boolean {
  return Number.isInteger(n) && n >= min && n <= max;
}
