/** Structural checks of the Terraform JSON of the rich fixture (Terraform itself cannot run offline here). */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAwsDescription } from '../../stacks/description.js';
import { DEFAULT_AWS_PROVIDER, GENERATED_MARKER, REQUIRED_TERRAFORM, REQUIRED_TERRAFORM_LOCKFILE } from '../../stacks/render.js';
import { emptyEnv, group, removeTemps, renderJson, resources, richEnv, rule, tempDir, type TerraformJson } from './fixtures.js';

const DESTINATIONS = ['cidr_ipv4', 'cidr_ipv6', 'prefix_list_id', 'referenced_security_group_id'];

let tf: TerraformJson;
beforeAll(async () => {
  tf = await renderJson(richEnv());
});
afterAll(removeTemps);

/** Every string in the JSON, with where it is. */
function strings(value: unknown, path = ''): { path: string; text: string }[] {
  if (typeof value === 'string') return [{ path, text: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => strings(v, `${path}.${k}`));
  return [];
}

describe('egress rules', () => {
  it('each has exactly one destination of the four AWS knows', () => {
    const rules = resources(tf, 'aws_vpc_security_group_egress_rule');
    expect(Object.keys(rules).length).toBe(richEnv().groups.reduce((n, g) => n + g.rules.length, 0));
    for (const [name, r] of Object.entries(rules)) {
      expect(
        DESTINATIONS.filter((d) => d in r),
        name,
      ).toHaveLength(1);
    }
  });

  it('carry protocol and ports the way EC2 takes them', () => {
    const rules = resources(tf, 'aws_vpc_security_group_egress_rule');
    const ports = (name: string) => {
      const r = rules[name]!;
      return [r.ip_protocol, r.from_port, r.to_port];
    };
    expect(ports('egress_web_tcp-443_cidr_203-0-113-10_32')).toEqual(['tcp', 443, 443]);
    expect(ports('egress_api_tcp-5432-5433_cidr_10-20-10-0_24')).toEqual(['tcp', 5432, 5433]);
    expect(ports('egress_batch_tcp-all_sg_web')).toEqual(['tcp', 0, 65535]);
    expect(ports('egress_web_udp-123_cidr_2001-db8--1_128')).toEqual(['udp', 123, 123]);
    expect(ports('egress_web_icmp_cidr_10-20-0-0_16')).toEqual(['icmp', -1, -1]);
    expect(ports('egress_api_icmpv6-128_cidr_2001-db8--_32')).toEqual(['icmpv6', 128, -1]);
    expect(ports('egress_api_all_cidr_10-30-0-0_16')).toEqual(['-1', undefined, undefined]);
    expect(ports('egress_api_proto-47_cidr_10-40-0-0_16')).toEqual(['47', undefined, undefined]);
  });

  it('put IPv4 in cidr_ipv4 and IPv6 in cidr_ipv6', () => {
    const rules = resources(tf, 'aws_vpc_security_group_egress_rule');
    expect(rules['egress_web_tcp-443_cidr_203-0-113-10_32']!.cidr_ipv4).toBe('203.0.113.10/32');
    expect(rules['egress_web_udp-123_cidr_2001-db8--1_128']!.cidr_ipv6).toBe('2001:db8::1/128');
  });

  it('refer to the group of their workload, and to the resources of their peers', () => {
    const rules = resources(tf, 'aws_vpc_security_group_egress_rule');
    expect(rules['egress_web_tcp-8080_sg_api']).toMatchObject({
      security_group_id: '${aws_security_group.sg_web.id}',
      referenced_security_group_id: '${aws_security_group.sg_api.id}',
    });
    expect(rules['egress_web_tcp-443_pl_card-partner']!.prefix_list_id).toBe('${aws_ec2_managed_prefix_list.pl_card-partner.id}');
    expect(rules['egress_web_tcp-443_vpce_ecr-api-fa7287']!.referenced_security_group_id).toBe(
      '${aws_security_group.sg_vpce_ecr-api-fa7287.id}',
    );
  });

  it('carry the why as description, within the AWS character set and 255 characters', () => {
    const described = [
      ...Object.values(resources(tf, 'aws_vpc_security_group_egress_rule')),
      ...Object.values(resources(tf, 'aws_vpc_security_group_ingress_rule')),
      ...Object.values(resources(tf, 'aws_security_group')),
    ];
    for (const r of described)
      if (r.description !== undefined) expect(isAwsDescription(r.description as string), String(r.description)).toBe(true);
    for (const pl of Object.values(resources(tf, 'aws_ec2_managed_prefix_list'))) {
      for (const e of pl.entry as { description?: string }[])
        if (e.description !== undefined) expect(isAwsDescription(e.description)).toBe(true);
    }
    const rules = resources(tf, 'aws_vpc_security_group_egress_rule');
    expect(rules['egress_web_tcp-443_vpce_ecr-api-fa7287']!.description).toBe(
      'Container images - ECR - pulls for the deploiement (50 percent of traffic) (fast)',
    );
    expect(rules['egress_web_tcp-443_cidr_203-0-113-10_32']!.description).toBe(
      'observed: 120 flows 2026-11-08..2026-11-21 (initiator by tcp-flags)',
    );
  });

  it('are tagged with their workload and provenance, exceptions with their expiry', () => {
    for (const [name, r] of Object.entries(resources(tf, 'aws_vpc_security_group_egress_rule'))) {
      const workload = name.split('_')[1];
      expect((r.tags as Record<string, string>).Workload, name).toBe(workload);
      expect(['intent', 'observed']).toContain((r.tags as Record<string, string>).Provenance);
    }
    const open = resources(tf, 'aws_vpc_security_group_egress_rule')['egress_web_tcp-443_cidr_0-0-0-0_0']!;
    expect(open.cidr_ipv4).toBe('0.0.0.0/0');
    expect((open.tags as Record<string, string>).ExceptionExpires).toBe('2027-03-01');
  });
});

describe('references', () => {
  it('every ${type.name.attr} names a resource of this JSON', () => {
    const refs = strings(tf).flatMap(({ path, text }) =>
      [...text.matchAll(/\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}/g)].map((m) => ({ path, type: m[1]!, name: m[2]! })),
    );
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) expect(resources(tf, ref.type)[ref.name], `${ref.path}: ${ref.type}.${ref.name}`).toBeDefined();
  });

  it('import blocks point at resources of this JSON', () => {
    for (const imp of tf.import ?? []) {
      const [type, name] = imp.to.split('.');
      expect(resources(tf, type!)[name!], imp.to).toBeDefined();
    }
  });
});

describe('the stack', () => {
  it('has the provider with region, the account guard and the default tags', () => {
    expect(tf.provider.aws).toEqual([
      {
        region: 'eu-west-1',
        allowed_account_ids: ['111111111111'],
        default_tags: [{ tags: { ManagedBy: 'leastpath', Environment: 'dev' } }],
      },
    ]);
  });

  it('says it is generated, needs Terraform 1.5 for imports, and keeps state on a relative path', () => {
    expect(tf['//']['generated-by']).toBe(GENERATED_MARKER);
    expect(tf.terraform.required_version).toBe(REQUIRED_TERRAFORM);
    expect(tf.terraform.backend).toEqual({ local: { path: 'terraform.dev.tfstate' } });
  });

  it('admits a range of AWS provider versions (5.100 on to 6.x by default, or what environment.yaml says), not the one the provider package was built from', async () => {
    expect(tf.terraform.required_providers).toEqual({ aws: { source: 'hashicorp/aws', version: '>= 5.100, < 7.0' } });
    expect(DEFAULT_AWS_PROVIDER).toBe('>= 5.100, < 7.0');
    const pinned = await renderJson(emptyEnv({ awsProvider: '~> 6.29' }));
    expect(pinned.terraform.required_providers).toEqual({ aws: { source: 'hashicorp/aws', version: '~> 6.29' } });
  });

  it('holds no CDK metadata for a reviewer to wade through: the generated-by marker is the only "//" block', () => {
    const blocks: string[] = [];
    const walk = (v: unknown, path: string): void => {
      if (!v || typeof v !== 'object') return;
      for (const [k, x] of Object.entries(v)) {
        if (k === '//') blocks.push(path || '.');
        walk(x, `${path}.${k}`);
      }
    };
    walk(tf, '');
    expect(blocks).toEqual(['.']);
    expect(tf['//']).toEqual({ 'generated-by': GENERATED_MARKER });
  });

  it("keeps state in S3 when environment.yaml says so: encrypted, with S3's own lock file (Terraform 1.10) or a DynamoDB table", async () => {
    const lockfile = await renderJson(
      emptyEnv({ state: { bucket: 'acme-tfstate', key: 'leastpath/dev.tfstate', region: 'eu-central-1', lock: { kind: 'lockfile' } } }),
    );
    expect(lockfile.terraform.backend).toEqual({
      s3: { bucket: 'acme-tfstate', key: 'leastpath/dev.tfstate', region: 'eu-central-1', encrypt: true, use_lockfile: true },
    });
    expect(lockfile.terraform.required_version).toBe(REQUIRED_TERRAFORM_LOCKFILE);
    const table = await renderJson(
      emptyEnv({
        state: {
          bucket: 'acme-tfstate',
          key: 'k/dev.tfstate',
          region: 'eu-west-1',
          lock: { kind: 'dynamodb', table: 'tf-locks' },
          kmsKeyId: 'alias/tfstate',
        },
      }),
    );
    expect(table.terraform.backend).toEqual({
      s3: {
        bucket: 'acme-tfstate',
        key: 'k/dev.tfstate',
        region: 'eu-west-1',
        encrypt: true,
        dynamodb_table: 'tf-locks',
        kms_key_id: 'alias/tfstate',
      },
    });
    expect(table.terraform.required_version).toBe(REQUIRED_TERRAFORM);
  });

  it('creates groups in the VPC, named after environment and workload, without inline rules', () => {
    const web = resources(tf, 'aws_security_group').sg_web!;
    expect(web).toMatchObject({ name: 'leastpath-dev-web', vpc_id: 'vpc-0a1b2c3d4e5f60718', revoke_rules_on_delete: true });
    expect(web.tags).toEqual({ ManagedBy: 'leastpath', Environment: 'dev', Name: 'leastpath-dev-web', Workload: 'web', Owner: 'team-web' });
    for (const g of Object.values(resources(tf, 'aws_security_group'))) {
      expect(g).not.toHaveProperty('egress');
      expect(g).not.toHaveProperty('ingress');
    }
  });

  it('adopts a group by importing its id, keeps its name and tags, and never destroys it', () => {
    expect(tf.import).toEqual([{ to: 'aws_security_group.sg_api', id: 'sg-0123456789abcdef0' }]);
    const api = resources(tf, 'aws_security_group').sg_api!;
    expect(api).not.toHaveProperty('name');
    expect(api).not.toHaveProperty('tags');
    expect(api.lifecycle).toEqual({ prevent_destroy: true, ignore_changes: ['description', 'tags', 'tags_all'] });
    const tags = Object.values(resources(tf, 'aws_ec2_tag')).filter((t) => t.resource_id === '${aws_security_group.sg_api.id}');
    expect(Object.fromEntries(tags.map((t) => [t.key, t.value]))).toEqual({
      ManagedBy: 'leastpath',
      Environment: 'dev',
      Workload: 'api',
      Owner: 'team-api',
    });
  });

  it('renders prefix lists with family, max entries and sorted entries', () => {
    const pls = resources(tf, 'aws_ec2_managed_prefix_list');
    expect(pls['pl_card-partner']).toMatchObject({
      name: 'leastpath-dev-card-partner',
      address_family: 'IPv4',
      max_entries: 4,
      entry: [
        { cidr: '198.51.100.16/29', description: 'card processor DR site' },
        { cidr: '203.0.113.0/28', description: 'card processor, per contract annex 3' },
      ],
    });
    expect(pls['pl_web-v6-partners']).toMatchObject({
      address_family: 'IPv6',
      entry: [{ cidr: '2001:db8:10::/48' }, { cidr: '2001:db8:20::/48' }],
    });
  });

  it('puts a gateway endpoint for s3 on the route tables, and the rule targets its prefix_list_id', () => {
    const s3 = resources(tf, 'aws_vpc_endpoint').vpce_s3!;
    expect(s3).toMatchObject({
      vpc_id: 'vpc-0a1b2c3d4e5f60718',
      service_name: 'com.amazonaws.eu-west-1.s3',
      vpc_endpoint_type: 'Gateway',
      route_table_ids: ['rtb-0a1b2c3d', 'rtb-0b2c3d4e'],
    });
    expect(s3).not.toHaveProperty('subnet_ids');
    expect(resources(tf, 'aws_vpc_security_group_egress_rule')['egress_web_tcp-443_awspl_s3']!.prefix_list_id).toBe(
      '${aws_vpc_endpoint.vpce_s3.prefix_list_id}',
    );
  });

  it('gives an interface endpoint private DNS, its subnets and a group admitting 443 from each using workload', () => {
    const ecr = resources(tf, 'aws_vpc_endpoint')['vpce_ecr-api-fa7287']!;
    expect(ecr).toMatchObject({
      service_name: 'com.amazonaws.eu-west-1.ecr.api',
      vpc_endpoint_type: 'Interface',
      private_dns_enabled: true,
      subnet_ids: ['subnet-0a1b2c3d', 'subnet-0e5f6a7b'],
      security_group_ids: ['${aws_security_group.sg_vpce_ecr-api-fa7287.id}'],
    });
    const ingress = Object.values(resources(tf, 'aws_vpc_security_group_ingress_rule')).filter(
      (r) => r.security_group_id === '${aws_security_group.sg_vpce_ecr-api-fa7287.id}',
    );
    expect(ingress.map((r) => [r.ip_protocol, r.from_port, r.to_port, r.referenced_security_group_id]).sort()).toEqual([
      ['tcp', 443, 443, '${aws_security_group.sg_api.id}'],
      ['tcp', 443, 443, '${aws_security_group.sg_web.id}'],
    ]);
  });

  it('renders quarantine NACL rules numbered as given, IPv4 and IPv6 apart, all protocols', () => {
    const nacl = resources(tf, 'aws_network_acl_rule');
    const got = Object.values(nacl)
      .map((r) => [r.network_acl_id, r.egress, r.rule_number, r.rule_action, r.protocol, r.cidr_block ?? null, r.ipv6_cidr_block ?? null])
      .sort((a, b) => String(a).localeCompare(String(b)));
    expect(got).toEqual([
      ['acl-0123', false, 1, 'allow', '-1', '10.99.0.0/24', null],
      ['acl-0123', false, 2, 'deny', '-1', '0.0.0.0/0', null],
      ['acl-0123', false, 3, 'deny', '-1', null, '::/0'],
      ['acl-0123', true, 1, 'allow', '-1', '10.99.0.0/24', null],
      ['acl-0123', true, 2, 'deny', '-1', '0.0.0.0/0', null],
      ['acl-0123', true, 3, 'deny', '-1', null, '::/0'],
    ]);
  });

  it('outputs the mode and the group of each workload', () => {
    expect(tf.output.mode!.value).toBe('enforce');
    expect(tf.output.security_group_ids!.value).toEqual({
      api: '${aws_security_group.sg_api.id}',
      batch: '${aws_security_group.sg_batch.id}',
      web: '${aws_security_group.sg_web.id}',
    });
  });

  it('in audit mode takes nothing over: provider and an output only', async () => {
    const audit = await renderJson({ ...richEnv(), mode: 'audit' });
    expect(audit.resource).toBeUndefined();
    expect(audit.import).toBeUndefined();
    expect(audit.provider.aws).toHaveLength(1);
    expect(Object.keys(audit.output)).toEqual(['mode']);
    expect(audit.output.mode!.value).toBe('audit');
  });

  it('an environment without groups still renders (provider, outputs)', async () => {
    const empty = await renderJson(
      emptyEnv({ groups: [group('web', [rule('web', { kind: 'cidr', cidr: '10.0.0.0/8' }, 'tcp', { from: 443 })])] }),
    );
    expect(Object.keys(resources(empty, 'aws_vpc_security_group_egress_rule'))).toEqual(['egress_web_tcp-443_cidr_10-0-0-0_8']);
    expect(empty.import).toBeUndefined();
  });
});

// Terraform is a stated need of the suite (README): without it this fails, by name, instead of passing unseen.
const terraform = await promisify(execFile)('terraform', ['version'], { env: { ...process.env, CHECKPOINT_DISABLE: '1' } }).then(
  () => true,
  () => false,
);

describe('terraform itself', () => {
  it('is on PATH (the README lists Terraform among what the tests need)', () => {
    expect(terraform, 'terraform is not on PATH').toBe(true);
  });

  it('parses the JSON: blocks, import, lifecycle and meta-arguments (offline: `terraform providers`)', async () => {
    // No provider can be installed here, so `validate` cannot run; `providers` loads and decodes the whole
    // configuration without them. The backend is left out: it would ask for `init` first.
    const dir = await tempDir('leastpath-tf-');
    const { terraform: block, ...rest } = tf;
    await writeFile(join(dir, 'main.tf.json'), JSON.stringify({ ...rest, terraform: { ...block, backend: undefined } }));
    const run = await promisify(execFile)('terraform', ['providers', '-no-color'], {
      cwd: dir,
      env: { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' },
    });
    expect(run.stdout).toContain('provider[registry.terraform.io/hashicorp/aws] >= 5.100.0, < 7.0.0');
  });
});
