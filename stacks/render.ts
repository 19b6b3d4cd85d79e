/**
 * The stack of one environment: the resolved rule model rendered as CDK for Terraform constructs. A thin,
 * pure renderer (no files, network, clock or environment variables): every decision was made by the generators;
 * this file only maps the model onto AWS provider resources, after guard-rails.ts has checked it once more, and
 * names everything from its content so the Terraform JSON is byte-identical across runs.
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
import { compareText } from '../core/text.js';
import type {
  NaclRule,
  Peer,
  ResolvedEndpoint,
  ResolvedEnvironment,
  ResolvedGroup,
  ResolvedPrefixList,
  ResolvedRule,
} from '../generators/model.js';
import { awsDescription } from './description.js';
import { renderDnsFirewall } from './dns-firewall.js';
import { canonicalCidr, checkEnvironment } from './guard-rails.js';
import { awsName, ids, normalProtocol, ruleId } from './ids.js';
import { renderNetworkFirewall } from './network-firewall.js';

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
    new TerraformOutput(stack, 'mode', {
      value: 'audit',
      description: 'leastpath audit mode: this stack manages nothing; plan and report only',
    });
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

  new TerraformOutput(stack, 'mode', {
    value: 'enforce',
    description: 'leastpath enforce mode: this stack owns the egress rules of its groups',
  });
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
