/**
 * The stack of one environment: the resolved rule model rendered as CDK for Terraform constructs. A thin,
 * pure renderer (no files, network, clock or environment variables): every decision was made by the generators;
 * this file only maps the model onto AWS provider resources, checks the guard rails once more (defence in depth),
 * and names everything from its content so the Terraform JSON is byte-identical across runs.
 *
 * Rendered with CDK Terrain (cdktn, the maintained successor of cdktf, same programming model). Provider classes
 * are imported by deep path: the provider's root index loads all of its ~1500 resources.
 */
import { Ec2ManagedPrefixList } from '@cdktn/provider-aws/lib/ec2-managed-prefix-list/index.js';
import { Ec2Tag } from '@cdktn/provider-aws/lib/ec2-tag/index.js';
import { NetworkAclRule } from '@cdktn/provider-aws/lib/network-acl-rule/index.js';
import { AwsProvider } from '@cdktn/provider-aws/lib/provider/index.js';
import { SecurityGroup } from '@cdktn/provider-aws/lib/security-group/index.js';
import { VpcEndpoint, type VpcEndpointConfig } from '@cdktn/provider-aws/lib/vpc-endpoint/index.js';
import { VpcSecurityGroupEgressRule } from '@cdktn/provider-aws/lib/vpc-security-group-egress-rule/index.js';
import { VpcSecurityGroupIngressRule } from '@cdktn/provider-aws/lib/vpc-security-group-ingress-rule/index.js';
import { LocalBackend, S3Backend, TerraformOutput, TerraformStack } from 'cdktn';
import type { Construct } from 'constructs';
import { compareCidr, parseCidr } from '../core/cidr.js';
import { LeastpathError } from '../core/errors.js';
import { isSafeName } from '../core/names.js';
import { protocolFromNumber, type Protocol } from '../core/ports.js';
import { compareText } from '../core/text.js';
import type { NaclRule, Peer, ResolvedEndpoint, ResolvedEnvironment, ResolvedGroup, ResolvedPrefixList, ResolvedRule } from '../generators/model.js';
import { awsDescription } from './description.js';
import { renderDnsFirewall } from './dns-firewall.js';
import { renderNetworkFirewall } from './network-firewall.js';
import { ids } from './ids.js';

/** The model breaks a rule the stack enforces itself (a guard rail, a quota, a dangling reference). */
export class StackError extends LeastpathError {}

/** `terraform.required_version`: `import` blocks need Terraform 1.5 (OpenTofu has them from 1.5 on as well). */
export const REQUIRED_TERRAFORM = '>= 1.5.0';
/** With S3's own lock file (`use_lockfile`), which Terraform and OpenTofu have from 1.10 on. */
export const REQUIRED_TERRAFORM_LOCKFILE = '>= 1.10.0';

/**
 * Where the stack keeps its state. Without `state` in environment.yaml: a local file, at a relative path (cdktn's
 * default writes process.cwd(), an absolute path of this machine, into the JSON). With it: S3, encrypted, locked by
 * a DynamoDB table when one is named, else by S3's own lock file (`use_lockfile`, which cdktf 0.21's S3Backend
 * does not know yet, hence the override; it also raises the required Terraform to 1.10).
 * https://developer.hashicorp.com/terraform/language/backend/s3
 */
function renderBackend(stack: TerraformStack, env: ResolvedEnvironment): { requiredVersion: string; lockfile: boolean } {
  const state = env.state;
  if (!state) {
    new LocalBackend(stack, { path: `terraform.${env.environment}.tfstate` });
    return { requiredVersion: REQUIRED_TERRAFORM, lockfile: false };
  }
  new S3Backend(stack, {
    bucket: state.bucket,
    key: state.key,
    region: state.region,
    encrypt: true,
    ...(state.kmsKeyId !== undefined ? { kmsKeyId: state.kmsKeyId } : {}),
    ...(state.lock.kind === 'dynamodb' ? { dynamodbTable: state.lock.table } : {}),
  });
  const lockfile = state.lock.kind === 'lockfile';
  return { requiredVersion: lockfile ? REQUIRED_TERRAFORM_LOCKFILE : REQUIRED_TERRAFORM, lockfile };
}

/** The marker at the top of every cdk.tf.json (`"//"` sorts first), as the style guide asks of generated files. */
export const GENERATED_MARKER = 'leastpath synth, from policies/ and observed/: do not edit';

/**
 * The AWS provider versions a stack admits when environment.yaml names none (`terraform.awsProvider`): every
 * resource and argument rendered here exists in 5.100 (which `npm run check:terraform` validates against) and in
 * 6.x, so a root module that also needs a newer 6.x (terraform-aws-modules v6) can share the stack's provider.
 */
export const DEFAULT_AWS_PROVIDER = '>= 5.100, < 7.0';

/**
 * A stack whose Terraform JSON holds no CDK Terrain metadata: each resource's construct path and unique id, the
 * stack's backend kind, override list and outputs map are bookkeeping of the CDK CLI (about a third of the file)
 * that a reviewer of the JSON would otherwise wade through. Only the generated-by marker stays at the top.
 */
class ReadableStack extends TerraformStack {
  override toTerraform(): Record<string, unknown> {
    const tf = super.toTerraform() as Record<string, unknown>;
    const resources = tf.resource as Record<string, Record<string, Record<string, unknown>>> | undefined;
    for (const byName of Object.values(resources ?? {})) {
      for (const attributes of Object.values(byName)) delete attributes['//'];
    }
    return { ...tf, '//': { 'generated-by': GENERATED_MARKER } };
  }
}

/** Names in AWS (group names must be unique in the VPC); all start with `leastpath-<env>-`. */
const awsName = {
  group: (env: ResolvedEnvironment, workload: string) => `leastpath-${env.environment}-${workload}`,
  endpoint: (env: ResolvedEnvironment, service: string) => `leastpath-${env.environment}-${service.replace(/\./g, '-')}`,
  endpointGroup: (env: ResolvedEnvironment, service: string) => `${awsName.endpoint(env, service)}-vpce`,
  prefixList: (env: ResolvedEnvironment, name: string) => `leastpath-${env.environment}-${name}`,
};

/** What an egress rule says to the provider: protocol and ports the way EC2 wants them. */
interface RulePorts {
  ipProtocol: string;
  fromPort?: number;
  toPort?: number;
}

/** The destination argument of an egress rule: exactly one of the four AWS knows. */
type Destination = { cidrIpv4: string } | { cidrIpv6: string } | { prefixListId: string } | { referencedSecurityGroupId: string };

interface Rendered {
  groups: Map<string, SecurityGroup>;
  endpointGroups: Map<string, SecurityGroup>;
  endpoints: Map<string, VpcEndpoint>;
  prefixLists: Map<string, Ec2ManagedPrefixList>;
}

/** Renders `env` as a TerraformStack named after the environment, under `scope` (the cdktf App). */
export function renderStack(scope: Construct, env: ResolvedEnvironment): TerraformStack {
  checkEnvironment(env);
  const stack = new ReadableStack(scope, env.environment);
  const backend = renderBackend(stack, env);
  stack.addOverride('terraform.required_version', backend.requiredVersion);
  if (backend.lockfile) stack.addOverride('terraform.backend.s3.use_lockfile', true);
  // The provider package pins the exact version it was generated from; the stack needs a range (see DEFAULT_AWS_PROVIDER).
  stack.addOverride('terraform.required_providers.aws.version', env.awsProvider ?? DEFAULT_AWS_PROVIDER);
  new AwsProvider(stack, 'aws', {
    region: env.region,
    // A guard: credentials for another account make plan and apply fail instead of changing the wrong account.
    allowedAccountIds: [env.account],
    defaultTags: [{ tags: { ManagedBy: 'leastpath', Environment: env.environment } }],
  });

  if (env.mode === 'audit') {
    // Audit mode plans and reports only, so the stack takes nothing over: no groups (creating one attaches
    // nothing, but adopting one would start managing live rules), no egress rules, no endpoints (a gateway
    // endpoint adds routes and an interface endpoint with private DNS reroutes a service's traffic), and no
    // NACL rules. Switching the environment to `enforce` is the one step that changes the network.
    new TerraformOutput(stack, 'mode', { value: 'audit', description: 'leastpath audit mode: this stack manages nothing; plan and report only' });
    renderDnsFirewall(stack, env);
    renderNetworkFirewall(stack, env);
    return stack;
  }

  const rendered: Rendered = { groups: new Map(), endpointGroups: new Map(), endpoints: new Map(), prefixLists: new Map() };
  for (const pl of sortBy(env.prefixLists, (p) => p.name)) rendered.prefixLists.set(pl.name, renderPrefixList(stack, env, pl));
  for (const ep of sortBy(env.endpoints, (e) => e.service)) renderEndpoint(stack, env, ep, rendered);
  for (const g of sortBy(env.groups, (x) => x.workload)) rendered.groups.set(g.workload, renderGroup(stack, env, g));
  for (const ep of sortBy(env.endpoints, (e) => e.service)) renderEndpointIngress(stack, env, ep, rendered);
  for (const g of sortBy(env.groups, (x) => x.workload)) {
    for (const r of sortBy(g.rules, ruleId)) renderEgressRule(stack, env, r, rendered);
  }
  for (const n of sortBy(env.quarantine, (q) => ids.naclRule(q.networkAcl, q.egress, q.ruleNumber))) renderNaclRule(stack, n);
  renderDnsFirewall(stack, env);
  renderNetworkFirewall(stack, env);

  const imports = sortBy(
    env.groups.filter((g) => g.adoptId !== undefined),
    (g) => g.workload,
  ).map((g) => ({ to: `aws_security_group.${ids.workloadGroup(g.workload)}`, id: g.adoptId! }));
  // A raw `import` block rather than cdktf's importFrom(): importFrom adds a validation that runs `terraform
  // version` (a child process at synth time, failing where no `terraform` is on the PATH, as on OpenTofu-only
  // machines). The version requirement is stated once, in terraform.required_version.
  if (imports.length > 0) stack.addOverride('import', imports);

  new TerraformOutput(stack, 'mode', { value: 'enforce', description: 'leastpath enforce mode: this stack owns the egress rules of its groups' });
  new TerraformOutput(stack, 'security_group_ids', {
    value: Object.fromEntries([...rendered.groups].map(([w, sg]) => [w, sg.id])),
    description: 'The security group of each workload, to attach to its network interfaces',
  });
  return stack;
}

/**
 * A workload's group. Created: named `leastpath-<env>-<workload>` with no inline rules. Adopted: the existing
 * group is imported by id and keeps its own name, description and tags.
 *
 * Ownership. Inline `egress`/`ingress` are left unset on purpose: the provider then does not manage rules
 * through the group at all, and every egress rule is its own `aws_vpc_security_group_egress_rule` (mixing the
 * two makes them revoke each other's rules on every apply). So the stack owns exactly the rules it declares:
 * importing a group does not remove the rules it already has (typically the default allow-all egress), and
 * those must be revoked once when the group is adopted, or the group keeps allowing what they allow (`report
 * --current` lists them, by the ManagedBy=leastpath tag every rule here carries, with the command that revokes each).
 * `revoke_rules_on_delete` only matters when Terraform deletes the group: created groups revoke all their
 * rules first, so a rule added by hand cannot block the delete; adopted groups are never deleted by the stack
 * (`prevent_destroy`: they existed before leastpath and interfaces still use them), so it stays off there.
 */
function renderGroup(stack: TerraformStack, env: ResolvedEnvironment, g: ResolvedGroup): SecurityGroup {
  const id = ids.workloadGroup(g.workload);
  const tags = { Workload: g.workload, Owner: g.owner };
  if (g.adoptId !== undefined) {
    const group = new SecurityGroup(stack, id, {
      // Set so that a group of another VPC fails the plan (vpc_id forces replacement, which prevent_destroy refuses).
      vpcId: env.vpc,
      lifecycle: {
        preventDestroy: true,
        // description: the provider's default differs from the group's own, and it forces replacement.
        // tags: the map is authoritative, so declaring it would delete the tags the group already has.
        ignoreChanges: ['description', 'tags', 'tags_all'],
      },
    });
    // Each tag on its own instead (aws_ec2_tag manages one key and leaves the others alone).
    const all = baseTags(env, tags);
    for (const key of Object.keys(all).sort()) {
      new Ec2Tag(stack, ids.groupTag(g.workload, key), { resourceId: group.id, key, value: all[key]! });
    }
    return group;
  }
  const name = awsName.group(env, g.workload);
  return new SecurityGroup(stack, id, {
    name,
    // Fixed text: the description forces replacement, so nothing that changes (like the owner) goes in it.
    description: awsDescription(`leastpath egress of workload ${g.workload}`),
    vpcId: env.vpc,
    revokeRulesOnDelete: true,
    tags: baseTags(env, { Name: name, ...tags }),
  });
}

function renderPrefixList(stack: TerraformStack, env: ResolvedEnvironment, pl: ResolvedPrefixList): Ec2ManagedPrefixList {
  const entries = pl.entries
    .map((e) => ({ cidr: canonicalCidr(e.cidr, `prefix list ${pl.name}`), description: awsDescription(e.description) }))
    .sort((a, b) => compareCidr(parseCidr(a.cidr)!, parseCidr(b.cidr)!));
  return new Ec2ManagedPrefixList(stack, ids.prefixList(pl.name), {
    name: awsName.prefixList(env, pl.name),
    addressFamily: pl.family === 4 ? 'IPv4' : 'IPv6',
    maxEntries: pl.maxEntries,
    entry: entries.map((e) => (e.description ? e : { cidr: e.cidr })),
    tags: baseTags(env, { Name: awsName.prefixList(env, pl.name) }),
  });
}

function renderEndpoint(stack: TerraformStack, env: ResolvedEnvironment, ep: ResolvedEndpoint, out: Rendered): void {
  // A gateway endpoint is reached through route tables; an interface endpoint sits in subnets behind a group of its own.
  let where: Pick<VpcEndpointConfig, 'routeTableIds' | 'subnetIds' | 'securityGroupIds' | 'privateDnsEnabled'>;
  if (ep.type === 'Gateway') {
    where = { routeTableIds: [...ep.routeTables].sort() };
  } else {
    const groupName = awsName.endpointGroup(env, ep.service);
    const group = new SecurityGroup(stack, ids.endpointGroup(ep.service), {
      name: groupName,
      description: awsDescription(`leastpath ${ep.service} interface endpoint: HTTPS from the workloads that use it`),
      vpcId: env.vpc,
      revokeRulesOnDelete: true,
      tags: baseTags(env, { Name: groupName }),
    });
    out.endpointGroups.set(ep.service, group);
    where = { subnetIds: [...ep.subnets].sort(), securityGroupIds: [group.id], privateDnsEnabled: true };
  }
  out.endpoints.set(
    ep.service,
    new VpcEndpoint(stack, ids.endpoint(ep.service), {
      vpcId: env.vpc,
      serviceName: `com.amazonaws.${env.region}.${ep.service}`,
      vpcEndpointType: ep.type,
      ...where,
      tags: baseTags(env, { Name: awsName.endpoint(env, ep.service) }),
    }),
  );
}

/** The interface endpoint's group admits tcp/443 from the group of each workload that uses it. */
function renderEndpointIngress(stack: TerraformStack, env: ResolvedEnvironment, ep: ResolvedEndpoint, out: Rendered): void {
  if (ep.type !== 'Interface') return;
  const group = out.endpointGroups.get(ep.service)!;
  for (const workload of [...new Set(ep.workloads)].sort()) {
    const from = out.groups.get(workload)!;
    new VpcSecurityGroupIngressRule(stack, ids.endpointIngress(ep.service, workload), {
      securityGroupId: group.id,
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      referencedSecurityGroupId: from.id,
      description: awsDescription(`HTTPS from ${workload} to the ${ep.service} endpoint`),
      tags: baseTags(env, { Workload: workload }),
    });
  }
}

function renderEgressRule(stack: TerraformStack, env: ResolvedEnvironment, r: ResolvedRule, out: Rendered): void {
  const tags: Record<string, string> = { Workload: r.workload, Provenance: r.provenance };
  if (r.exception) tags.ExceptionExpires = r.exception.expires;
  const description = awsDescription(r.why);
  new VpcSecurityGroupEgressRule(stack, ruleId(r), {
    securityGroupId: out.groups.get(r.workload)!.id,
    ...rulePorts(r),
    ...destination(r.peer, out),
    ...(description ? { description } : {}),
    tags: baseTags(env, tags),
  });
}

function renderNaclRule(stack: TerraformStack, n: NaclRule): void {
  const cidr = parseCidr(n.cidr)!;
  new NetworkAclRule(stack, ids.naclRule(n.networkAcl, n.egress, n.ruleNumber), {
    networkAclId: n.networkAcl,
    ruleNumber: n.ruleNumber,
    egress: n.egress,
    protocol: '-1',
    ruleAction: n.action,
    ...(cidr.family === 4 ? { cidrBlock: cidr.text } : { ipv6CidrBlock: cidr.text }),
  });
}

/** The one destination of a rule, as a reference to the resource that provides it where there is one. */
function destination(peer: Peer, out: Rendered): Destination {
  switch (peer.kind) {
    case 'cidr': {
      const c = parseCidr(peer.cidr)!;
      return c.family === 4 ? { cidrIpv4: c.text } : { cidrIpv6: c.text };
    }
    case 'workload':
      return { referencedSecurityGroupId: out.groups.get(peer.workload)!.id };
    case 'endpoint':
      return { referencedSecurityGroupId: out.endpointGroups.get(peer.service)!.id };
    case 'prefixList':
      return { prefixListId: out.prefixLists.get(peer.name)!.id };
    case 'awsPrefixList':
      // The gateway endpoint exports the id of its service's AWS-managed list (pl-...), region-specific.
      return { prefixListId: out.endpoints.get(peer.service)!.prefixListId };
  }
}

/**
 * Protocol and ports the way EC2 takes them: tcp/udp a port range (all ports 0-65535), icmp/icmpv6 type and
 * code (-1 = all), `-1` (all traffic) and other protocol numbers no ports at all.
 */
function rulePorts(r: Pick<ResolvedRule, 'protocol' | 'fromPort' | 'toPort'>): RulePorts {
  const protocol = normalProtocol(r.protocol);
  if (protocol === 'tcp' || protocol === 'udp') {
    return { ipProtocol: protocol, fromPort: r.fromPort ?? 0, toPort: r.toPort ?? 65535 };
  }
  if (protocol === 'icmp' || protocol === 'icmpv6') {
    return { ipProtocol: protocol, fromPort: r.fromPort ?? -1, toPort: r.toPort ?? -1 };
  }
  return { ipProtocol: protocol === 'all' ? '-1' : String(protocol) };
}

/** 6, 17, 1 and 58 by their names, so that their ports are rendered too. */
function normalProtocol(p: Protocol): Protocol {
  return typeof p === 'number' ? protocolFromNumber(p) : p;
}

function ruleId(r: ResolvedRule): string {
  return ids.egressRule(r.workload, normalProtocol(r.protocol), r.fromPort, r.toPort, r.peer);
}

// ---------------------------------------------------------------------------------------------------------------
// Checks. The generators guarantee all of this; the stack checks again because it is the last step before AWS.

/** Throws a StackError for the first thing in `env` that must not reach Terraform. */
function checkEnvironment(env: ResolvedEnvironment): void {
  const where = `environment ${JSON.stringify(env.environment)}`;
  if (!isSafeName(env.environment)) throw new StackError(`${where}: the name must match [a-z0-9][a-z0-9-]* (it names the stack and its folder)`);
  if (!/^\d{12}$/.test(env.account)) throw new StackError(`${where}: account ${JSON.stringify(env.account)} is not a 12-digit AWS account id`);
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(env.region)) throw new StackError(`${where}: region ${JSON.stringify(env.region)} is not an AWS region name`);
  if (!/^vpc-[0-9a-f]+$/.test(env.vpc)) throw new StackError(`${where}: ${JSON.stringify(env.vpc)} is not a VPC id`);
  if (env.mode === 'audit') return;

  const seen = new Map<string, string>();
  const claim = (id: string, what: string) => {
    const before = seen.get(id);
    if (before !== undefined) throw new StackError(`${where}: ${what} and ${before} would be the same Terraform resource ${id}: the model has a duplicate`);
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
      throw new StackError(`${where}: workload ${g.workload} has ${g.rules.length} egress rules, over its quota of ${g.quota.limit} rules per group`);
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
    if (ep.type === 'Gateway' && ep.routeTables.length === 0) throw new StackError(`${where}: the ${ep.service} gateway endpoint has no route tables`);
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
      if (r.workload !== g.workload) throw new StackError(`${where}: ${at}: a rule of workload ${r.workload} is listed in the group of ${g.workload}`);
      checkPorts(at, r);
      checkPeer(at, r, { groups, prefixLists, endpoints });
      claim(ruleId(r), `the rule at ${at}`);
    }
  }
  for (const n of env.quarantine) {
    const at = `quarantine of ${n.subnet} (${n.networkAcl})`;
    if (!Number.isInteger(n.ruleNumber) || n.ruleNumber < 1 || n.ruleNumber > 32766) throw new StackError(`${where}: ${at}: rule number ${n.ruleNumber} is outside 1-32766`);
    if (!/^acl-[0-9a-f]+$/.test(n.networkAcl)) throw new StackError(`${where}: ${at}: ${JSON.stringify(n.networkAcl)} is not a network ACL id`);
    canonicalCidr(n.cidr, at);
    claim(ids.naclRule(n.networkAcl, n.egress, n.ruleNumber), `${at} rule ${n.ruleNumber} (${n.egress ? 'egress' : 'ingress'})`);
  }
}

function checkPrefixList(where: string, pl: ResolvedPrefixList): void {
  const at = `${where}: prefix list ${pl.name}`;
  if (!Number.isInteger(pl.maxEntries) || pl.maxEntries < 1 || pl.maxEntries > 1000) throw new StackError(`${at}: max entries ${pl.maxEntries} is outside 1-1000`);
  if (pl.entries.length > pl.maxEntries) throw new StackError(`${at}: ${pl.entries.length} entries exceed its max entries ${pl.maxEntries}`);
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
    // Evidence names one port: an observed tcp/udp rule without one would open all of them, past every guard rail.
    if (r.provenance === 'observed' && (given.length === 0 || r.fromPort !== r.toPort || r.fromPort! < 1)) {
      throw new StackError(`${at}: an observed ${p} destination without one port (${ports}) would allow every port: re-run leastpath observe`);
    }
    if (given.length === 1) throw new StackError(`${at}: ${p} ports ${ports}: give both ends of the range or neither`);
    if (given.length === 2 && !(isInt(r.fromPort!, 0, 65535) && isInt(r.toPort!, r.fromPort!, 65535))) throw new StackError(`${at}: ${p} ports ${ports} are not a range within 0-65535`);
  } else if (p === 'icmp' || p === 'icmpv6') {
    const type = r.fromPort ?? -1;
    const code = r.toPort ?? -1;
    if (!isInt(type, -1, 255) || !isInt(code, -1, 255) || (type === -1 && code !== -1)) throw new StackError(`${at}: ${p} type ${type} code ${code} is not a valid ICMP type and code`);
  } else {
    if (given.length > 0) throw new StackError(`${at}: protocol ${p === 'all' ? 'all' : p} has no ports, got ${ports}`);
    if (p !== 'all' && !isInt(p, 0, 255)) throw new StackError(`${at}: protocol ${p} is not an IANA protocol number`);
  }
}

function checkPeer(at: string, r: ResolvedRule, known: { groups: Set<string>; prefixLists: Map<string, ResolvedPrefixList>; endpoints: Map<string, ResolvedEndpoint> }): void {
  const peer = r.peer;
  switch (peer.kind) {
    case 'cidr': {
      const c = parseCidr(canonicalCidr(peer.cidr, at))!;
      // The contract's hard line: the whole internet only with an exception, whatever the resolver decided.
      if (c.prefix === 0 && !r.exception) throw new StackError(`${at}: egress to ${c.text} without an exception: the whole internet needs an exception block (reason, owner, expires)`);
      return;
    }
    case 'workload':
      if (!known.groups.has(peer.workload)) throw new StackError(`${at}: refers to workload ${peer.workload}, which has no group in this environment`);
      return;
    case 'prefixList':
      if (!known.prefixLists.has(peer.name)) throw new StackError(`${at}: refers to prefix list ${peer.name}, which this environment does not define`);
      return;
    case 'endpoint': {
      const ep = known.endpoints.get(peer.service);
      if (ep?.type !== 'Interface') throw new StackError(`${at}: refers to the ${peer.service} interface endpoint, which this environment does not define`);
      // Otherwise the endpoint's group would not admit the workload and the rule would allow nothing.
      if (!ep.workloads.includes(r.workload)) throw new StackError(`${at}: the ${peer.service} endpoint does not list workload ${r.workload} among those it admits`);
      return;
    }
    case 'awsPrefixList': {
      const ep = known.endpoints.get(peer.service);
      if (ep?.type !== 'Gateway') throw new StackError(`${at}: refers to the prefix list of the ${peer.service} gateway endpoint, which this environment does not define`);
      return;
    }
  }
}

/** The canonical text of `cidr`; throws when it is not a CIDR or has host bits set (it would mean another network). */
function canonicalCidr(cidr: string, at: string): string {
  const c = parseCidr(cidr);
  if (!c) throw new StackError(`${at}: ${JSON.stringify(cidr)} is not a CIDR`);
  if (c.hostBitsSet) throw new StackError(`${at}: ${cidr} has host bits set (the network is ${c.text})`);
  return c.text;
}

function isInt(n: number, min: number, max: number): boolean {
  return Number.isInteger(n) && n >= min && n <= max;
}

/** A sorted copy by a string key: the stack is built in one order whatever the order of the model. */
function sortBy<T>(items: readonly T[], key: (t: T) => string): T[] {
  return items
    .map((item) => ({ item, k: key(item) }))
    .sort((a, b) => compareText(a.k, b.k))
    .map((x) => x.item);
}

/**
 * Tags of every resource: ManagedBy and Environment on the resource itself as well as in the provider's
 * default_tags, so a reader of the JSON (or of one resource in the console) sees them without the provider block.
 */
function baseTags(env: ResolvedEnvironment, extra: Record<string, string>): Record<string, string> {
  return { ManagedBy: 'leastpath', Environment: env.environment, ...extra };
}
