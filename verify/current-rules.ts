/**
 * The rules AWS has today, for `report --current FILE`: the JSON answer of `aws ec2 describe-security-group-rules`
 * (with an optional `PrefixLists` from describe-managed-prefix-lists) read and checked, each rule attributed to a
 * workload through environment.yaml `securityGroup` and turned into a rule to count. Pure.
 */
import { parseCidr } from '../core/cidr.js';
import { InputError } from '../core/errors.js';
import type { EnvironmentConfig, PrefixList } from '../model/types.js';
import { rangeMatch } from '../observe/observe.js';
import { protocolCode, type RuleToCount } from './report.js';

/** One entry of EC2 DescribeSecurityGroupRules' `SecurityGroupRules`, the fields the report reads. */
interface CurrentRule {
  SecurityGroupRuleId?: string;
  GroupId: string;
  IsEgress: boolean;
  IpProtocol: string;
  FromPort?: number;
  ToPort?: number;
  CidrIpv4?: string;
  CidrIpv6?: string;
  PrefixListId?: string;
  ReferencedGroupInfo?: { GroupId?: string };
  Description?: string;
  /** The rule's tags (only when it has any). */
  Tags?: { Key: string; Value: string }[];
}

/**
 * A prefix list as DescribeManagedPrefixLists names it. The --current file may carry them (`PrefixLists`) so that
 * a customer-managed list can be tied by name to prefix-lists.yaml; without that, no list's entries are known.
 */
interface CurrentPrefixList {
  PrefixListId: string;
  PrefixListName?: string;
  OwnerId?: string;
}

interface CurrentRules {
  rules: CurrentRule[];
  prefixLists: CurrentPrefixList[];
}

/** Parses the JSON answer of `aws ec2 describe-security-group-rules` (and optional `PrefixLists`). */
export function parseCurrentRules(text: string, file: string): CurrentRules {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError(`not JSON: ${(err as Error).message}`, { file });
  }
  const obj = doc as { SecurityGroupRules?: unknown; PrefixLists?: unknown };
  if (typeof doc !== 'object' || doc === null || !Array.isArray(obj.SecurityGroupRules)) {
    throw new InputError('expected the answer of DescribeSecurityGroupRules: {"SecurityGroupRules": [...]}', {
      file,
      path: 'SecurityGroupRules',
    });
  }
  const rules = obj.SecurityGroupRules.map((r, i): CurrentRule => {
    const where = { file, path: `SecurityGroupRules[${i}]` };
    const x = r as Record<string, unknown>;
    if (typeof x !== 'object' || x === null) throw new InputError('expected an object', where);
    if (typeof x.GroupId !== 'string') throw new InputError('GroupId is missing', where);
    if (typeof x.IsEgress !== 'boolean') throw new InputError('IsEgress must be true or false', where);
    if (typeof x.IpProtocol !== 'string') throw new InputError('IpProtocol is missing', where);
    const port = (k: 'FromPort' | 'ToPort') => {
      if (x[k] === undefined || x[k] === null) return {};
      if (typeof x[k] !== 'number' || !Number.isInteger(x[k])) throw new InputError(`${k} must be a whole number`, where);
      return { [k]: x[k] };
    };
    const text = (k: string) => (typeof x[k] === 'string' ? { [k]: x[k] as string } : {});
    const ref = x.ReferencedGroupInfo as { GroupId?: unknown } | undefined;
    const tags = Array.isArray(x.Tags)
      ? x.Tags.filter(
          (t): t is { Key: string; Value: string } =>
            typeof t === 'object' && t !== null && typeof t.Key === 'string' && typeof t.Value === 'string',
        ).map((t) => ({ Key: t.Key, Value: t.Value }))
      : [];
    const peers = [x.CidrIpv4, x.CidrIpv6, x.PrefixListId, ref?.GroupId].filter((v) => typeof v === 'string');
    if (peers.length !== 1)
      throw new InputError('a rule needs exactly one of CidrIpv4, CidrIpv6, PrefixListId, ReferencedGroupInfo.GroupId', where);
    return {
      GroupId: x.GroupId,
      IsEgress: x.IsEgress,
      IpProtocol: x.IpProtocol,
      ...port('FromPort'),
      ...port('ToPort'),
      ...text('SecurityGroupRuleId'),
      ...text('CidrIpv4'),
      ...text('CidrIpv6'),
      ...text('PrefixListId'),
      ...text('Description'),
      ...(typeof ref?.GroupId === 'string' ? { ReferencedGroupInfo: { GroupId: ref.GroupId } } : {}),
      ...(tags.length > 0 ? { Tags: tags } : {}),
    };
  });
  const prefixLists = Array.isArray(obj.PrefixLists)
    ? obj.PrefixLists.filter(
        (p): p is CurrentPrefixList => typeof p === 'object' && p !== null && typeof (p as CurrentPrefixList).PrefixListId === 'string',
      )
    : [];
  return { rules, prefixLists };
}

/** The rules AWS has today, attributed to workloads through environment.yaml `securityGroup` (adopted groups). */
export function rulesFromCurrent(
  current: CurrentRules,
  config: EnvironmentConfig,
  prefixLists: Readonly<Record<string, PrefixList>>,
): RuleToCount[] {
  const groupToWorkload = new Map<string, string>();
  for (const [name, sel] of Object.entries(config.workloads)) if (sel.securityGroup) groupToWorkload.set(sel.securityGroup, name);
  const listById = new Map(current.prefixLists.map((p) => [p.PrefixListId, p]));
  const out = current.rules.map((r): RuleToCount => {
    const workload = groupToWorkload.get(r.GroupId);
    const protocol = r.IpProtocol;
    const tcpUdp = protocol === 'tcp' || protocol === 'udp' || protocol === '6' || protocol === '17';
    const ports =
      tcpUdp && r.FromPort !== undefined && r.ToPort !== undefined && r.FromPort >= 0 && !(r.FromPort === 0 && r.ToPort === 65535)
        ? { fromPort: r.FromPort, toPort: r.ToPort }
        : { fromPort: null, toPort: null };
    const refGroup = r.ReferencedGroupInfo?.GroupId;
    const refWorkload = refGroup ? groupToWorkload.get(refGroup) : undefined;
    const peerLabel = r.CidrIpv4 ?? r.CidrIpv6 ?? r.PrefixListId ?? (refWorkload ? `workload:${refWorkload}` : refGroup!);
    const outside = workload !== undefined && r.IsEgress && !writtenByLeastpath(r);
    const rule: RuleToCount['rule'] = {
      group: workload ?? r.GroupId,
      direction: r.IsEgress ? 'egress' : 'ingress',
      protocol,
      ...ports,
      peer: peerLabel,
      ...(r.SecurityGroupRuleId ? { ruleId: r.SecurityGroupRuleId } : {}),
      ...(r.Description ? { why: r.Description } : {}),
      ...(outside
        ? { outside: { groupId: r.GroupId, ...(r.SecurityGroupRuleId ? { revoke: revokeCommand(r.GroupId, r.SecurityGroupRuleId) } : {}) } }
        : {}),
    };
    const notCounted = (why: string): RuleToCount => ({ rule: { ...rule, notCounted: why }, match: null });
    if (!workload) return notCounted(`not attributable: ${r.GroupId} is no workload's securityGroup in environment.yaml`);
    const code = protocolCode(protocol);
    if (Number.isNaN(code)) return notCounted(`unknown IpProtocol ${JSON.stringify(protocol)}`);
    const base = { workload, direction: rule.direction, protocol: code, ...ports };
    if (r.CidrIpv4 || r.CidrIpv6) {
      const cidr = (r.CidrIpv4 ?? r.CidrIpv6)!;
      if (!parseCidr(cidr)) return notCounted(`${cidr} is not a CIDR`);
      return { rule, match: { ...base, peer: rangeMatch([cidr]), peerWorkloads: [] } };
    }
    if (refGroup) {
      if (!refWorkload)
        return notCounted(`referenced group ${refGroup} is no workload's securityGroup in environment.yaml: its members are not known`);
      return { rule, match: { ...base, peer: rangeMatch([]), peerWorkloads: [refWorkload] } };
    }
    const pl = listById.get(r.PrefixListId!);
    if (!pl)
      return notCounted(`prefix list ${r.PrefixListId}: its entries are not known offline (AWS-managed, or not described in the file)`);
    if (pl.OwnerId === 'AWS')
      return notCounted(`AWS-managed prefix list ${pl.PrefixListName ?? r.PrefixListId}: its entries are not known offline`);
    const named = pl.PrefixListName ? prefixListByName(pl.PrefixListName, config.environment, prefixLists) : undefined;
    if (!named)
      return notCounted(
        `prefix list ${r.PrefixListId} (${pl.PrefixListName ?? 'no name'}) is not in prefix-lists.yaml: its entries are not known offline`,
      );
    return {
      rule: { ...rule, peer: `prefixList:${named.name} (${r.PrefixListId})` },
      match: { ...base, peer: rangeMatch(named.cidrs), peerWorkloads: [] },
    };
  });
  return out;
}

/** True when synth wrote the rule: it carries the tag every resource of the stack has (stacks/render.ts baseTags). */
function writtenByLeastpath(r: CurrentRule): boolean {
  return (r.Tags ?? []).some((t) => t.Key === 'ManagedBy' && t.Value === 'leastpath');
}

/** The AWS CLI command that revokes one egress rule by its id. */
function revokeCommand(groupId: string, ruleId: string): string {
  return `aws ec2 revoke-security-group-egress --group-id ${groupId} --security-group-rule-ids ${ruleId}`;
}

/** A prefix-lists.yaml list by its AWS name: the name itself, or the `<prefix>-<env>-<name>` form synth gives it. */
function prefixListByName(awsName: string, env: string, lists: Readonly<Record<string, PrefixList>>): PrefixList | undefined {
  if (lists[awsName]) return lists[awsName];
  return Object.values(lists).find((pl) => awsName.endsWith(`-${env}-${pl.name}`) || awsName.endsWith(`-${pl.name}`));
}
