/** Hand-made resolved environments for the stack tests, and helpers to read the Terraform JSON they render. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Protocol } from '../../core/ports.js';
import type { NaclRule, Peer, ResolvedEnvironment, ResolvedGroup, ResolvedRule } from '../../generators/model.js';
import { stackFile, synthesize } from '../../stacks/synth.js';

export interface RuleOptions {
  from?: number;
  to?: number;
  why?: string;
  provenance?: ResolvedRule['provenance'];
  exception?: ResolvedRule['exception'];
  index?: number;
}

/** A rule of `workload`; `ports` like `443`, `8000-8100`, or absent. */
export function rule(workload: string, peer: Peer, protocol: Protocol, o: RuleOptions = {}): ResolvedRule {
  return {
    workload,
    peer,
    protocol,
    ...(o.from !== undefined ? { fromPort: o.from } : {}),
    ...(o.to !== undefined
      ? { toPort: o.to }
      : o.from !== undefined && (protocol === 'tcp' || protocol === 'udp')
        ? { toPort: o.from }
        : {}),
    provenance: o.provenance ?? 'intent',
    why: o.why ?? `${workload} needs this`,
    source: { file: `policies/dev/workloads/${workload}.yaml`, path: `egress[${o.index ?? 0}]` },
    ...(o.exception ? { exception: o.exception } : {}),
  };
}

export function group(workload: string, rules: ResolvedRule[], extra: Partial<ResolvedGroup> = {}): ResolvedGroup {
  return {
    workload,
    owner: `team-${workload}`,
    rules,
    quota: { workload, limit: 60, rules: rules.length, prefixListEntries: 0, used: rules.length },
    ...extra,
  };
}

export const EXCEPTION = { reason: 'customer-defined webhook URLs', owner: 'jane@example.com', ticket: 'SEC-101', expires: '2027-03-01' };

/** An environment with nothing in it: add what a test needs. */
export function emptyEnv(extra: Partial<ResolvedEnvironment> = {}): ResolvedEnvironment {
  return {
    environment: 'dev',
    account: '111111111111',
    region: 'eu-west-1',
    vpc: 'vpc-0a1b2c3d4e5f60718',
    mode: 'enforce',
    groups: [],
    prefixLists: [],
    endpoints: [],
    quarantine: [],
    notAdopted: [],
    compaction: [],
    exceptions: [],
    ...extra,
  };
}

function nacl(ruleNumber: number, egress: boolean, action: NaclRule['action'], cidr: string): NaclRule {
  return { subnet: 'subnet-0bad', networkAcl: 'acl-0123', ruleNumber, egress, action, cidr, reason: 'IR-42 suspected compromise' };
}

/**
 * The rich fixture (golden file): created and adopted groups, every peer kind, tcp/udp ranges, icmp, icmpv6,
 * all traffic and a bare protocol number, IPv4 and IPv6, a prefix list of each family, gateway and interface
 * endpoints, a quarantine, an exception to 0.0.0.0/0, and a why that needs cleaning.
 */
export function richEnv(): ResolvedEnvironment {
  const web = group('web', [
    rule('web', { kind: 'workload', workload: 'api' }, 'tcp', { from: 8080, why: 'renders pages from the API', index: 0 }),
    rule('web', { kind: 'awsPrefixList', service: 's3' }, 'tcp', { from: 443, why: 'static assets', index: 1 }),
    rule('web', { kind: 'prefixList', name: 'card-partner' }, 'tcp', { from: 443, why: 'card payments', index: 2 }),
    rule('web', { kind: 'cidr', cidr: '0.0.0.0/0' }, 'tcp', {
      from: 443,
      why: 'webhooks to customer endpoints',
      exception: EXCEPTION,
      index: 3,
    }),
    rule('web', { kind: 'endpoint', service: 'ecr.api' }, 'tcp', {
      from: 443,
      why: 'Container images → ECR – “pulls” for the déploiement (50% of traffic) <fast>',
      index: 4,
    }),
    rule('web', { kind: 'cidr', cidr: '203.0.113.10/32' }, 'tcp', {
      from: 443,
      provenance: 'observed',
      why: 'observed: 120 flows 2026-11-08..2026-11-21 (initiator by tcp-flags)',
      index: 14,
    }),
    rule('web', { kind: 'cidr', cidr: '2001:db8::1/128' }, 'udp', { from: 123, why: 'NTP over IPv6', index: 5 }),
    rule('web', { kind: 'cidr', cidr: '10.20.0.0/16' }, 'icmp', { why: 'path MTU discovery and ping inside the VPC', index: 6 }),
    rule('web', { kind: 'prefixList', name: 'web-v6-partners' }, 'tcp', { from: 8000, to: 8100, why: 'partner APIs over IPv6', index: 7 }),
  ]);
  const api = group(
    'api',
    [
      rule('api', { kind: 'cidr', cidr: '10.20.10.0/24' }, 'tcp', {
        from: 5432,
        to: 5433,
        why: 'PostgreSQL primary and replica',
        index: 0,
      }),
      rule('api', { kind: 'cidr', cidr: '10.30.0.0/16' }, 'all', {
        why: 'legacy flat network',
        exception: { ...EXCEPTION, reason: 'migration' },
        index: 1,
      }),
      rule('api', { kind: 'cidr', cidr: '10.40.0.0/16' }, 47, { why: 'GRE tunnel to the branch office', index: 2 }),
      rule('api', { kind: 'endpoint', service: 'ecr.api' }, 'tcp', { from: 443, why: 'container images', index: 3 }),
      rule('api', { kind: 'cidr', cidr: '2001:db8::/32' }, 'icmpv6', { from: 128, why: 'echo requests', index: 4 }),
      rule('api', { kind: 'awsPrefixList', service: 'dynamodb' }, 'tcp', { from: 443, why: 'sessions table', index: 5 }),
    ],
    { adoptId: 'sg-0123456789abcdef0', owner: 'team-api' },
  );
  const batch = group('batch', [
    rule('batch', { kind: 'endpoint', service: 'sts' }, 'tcp', { from: 443, why: 'assume role', index: 0 }),
    rule('batch', { kind: 'workload', workload: 'web' }, 'tcp', { why: 'health checks on any port', index: 1 }),
  ]);
  return emptyEnv({
    groups: [web, api, batch],
    prefixLists: [
      {
        name: 'card-partner',
        family: 4,
        entries: [
          { cidr: '203.0.113.0/28', description: 'card processor, per contract annex 3' },
          { cidr: '198.51.100.16/29', description: 'card processor DR site' },
        ],
        maxEntries: 4,
        why: 'card processor, per contract annex 3',
        origin: 'policy',
      },
      {
        name: 'web-v6-partners',
        family: 6,
        entries: [
          { cidr: '2001:db8:20::/48', description: 'partner B' },
          { cidr: '2001:db8:10::/48', description: 'partner A' },
        ],
        maxEntries: 2,
        why: 'merged by compaction',
        origin: 'compaction',
      },
    ],
    endpoints: [
      {
        service: 's3',
        type: 'Gateway',
        routeTables: ['rtb-0b2c3d4e', 'rtb-0a1b2c3d'],
        subnets: [],
        workloads: ['web'],
        why: 'static assets',
      },
      { service: 'dynamodb', type: 'Gateway', routeTables: ['rtb-0a1b2c3d'], subnets: [], workloads: ['api'], why: 'sessions' },
      {
        service: 'ecr.api',
        type: 'Interface',
        routeTables: [],
        subnets: ['subnet-0e5f6a7b', 'subnet-0a1b2c3d'],
        workloads: ['web', 'api'],
        why: 'container images',
      },
      { service: 'sts', type: 'Interface', routeTables: [], subnets: ['subnet-0a1b2c3d'], workloads: ['batch'], why: 'assume role' },
    ],
    quarantine: [
      nacl(1, false, 'allow', '10.99.0.0/24'),
      nacl(2, false, 'deny', '0.0.0.0/0'),
      nacl(3, false, 'deny', '::/0'),
      nacl(1, true, 'allow', '10.99.0.0/24'),
      nacl(2, true, 'deny', '0.0.0.0/0'),
      nacl(3, true, 'deny', '::/0'),
    ],
  });
}

/** A deterministic shuffle (the order of the model must not matter). */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** `env` with every list (and every group's rules) in another order. */
export function shuffledEnv(env: ResolvedEnvironment, seed: number): ResolvedEnvironment {
  return {
    ...env,
    groups: shuffled(env.groups, seed).map((g) => ({ ...g, rules: shuffled(g.rules, seed + 1) })),
    prefixLists: shuffled(env.prefixLists, seed + 2).map((p) => ({ ...p, entries: shuffled(p.entries, seed + 3) })),
    endpoints: shuffled(env.endpoints, seed + 4).map((e) => ({
      ...e,
      routeTables: shuffled(e.routeTables, seed),
      subnets: shuffled(e.subnets, seed),
      workloads: shuffled(e.workloads, seed),
    })),
    quarantine: shuffled(env.quarantine, seed + 5),
  };
}

/** The Terraform JSON of one environment, as parsed objects (rendered in memory, without writing files). */
export interface TerraformJson {
  '//': { 'generated-by'?: string; metadata?: Record<string, unknown>; outputs?: Record<string, unknown> };
  terraform: { required_version?: string; backend: Record<string, unknown>; required_providers: Record<string, unknown> };
  provider: { aws: Record<string, unknown>[] };
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  import?: { to: string; id: string }[];
  output: Record<string, { value: unknown; description?: string }>;
}

/** Synthesizes `env` through the real App (into a temp dir) and returns its Terraform JSON, parsed. */
export async function renderJson(env: ResolvedEnvironment): Promise<TerraformJson> {
  const { dir, text } = await synthText([env]);
  await rm(dir, { recursive: true, force: true });
  return JSON.parse(text) as TerraformJson;
}

const temps: string[] = [];

/** A fresh temp dir, removed by `removeTemps`. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** Removes the temp dirs made so far (an afterAll of the files that keep them). */
export async function removeTemps(): Promise<void> {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** Synthesizes `envs` through the real App into a fresh temp dir; returns that dir and one stack's bytes. */
export async function synthText(envs: ResolvedEnvironment[], environment = envs[0]!.environment): Promise<{ dir: string; text: string }> {
  const dir = await tempDir('leastpath-synth-');
  synthesize(envs, dir);
  return { dir, text: await readFile(join(dir, stackFile(environment)), 'utf8') };
}

/** The resources of one type, by name. */
export function resources(tf: TerraformJson, type: string): Record<string, Record<string, unknown>> {
  return tf.resource?.[type] ?? {};
}
