/** Reading a repository into the model: defaults, left-out files, typed errors, and the schema files themselves. */
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { assetPath, packageRoot } from '../../core/assets.js';
import { InputError, UsageError, ValidationFailed } from '../../core/errors.js';
import { endpointType } from '../../model/aws-services.js';
import { compareObservedKeys } from '../../model/observed-order.js';
import { loadRepository as loadRepo, loadValidRepository as loadRepoOrThrow } from '../../cli/load.js';
import { readRepo } from '../../model/read-repo.js';
import { BASE, TODAY, web, type Files } from '../validate/org.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];

async function writeOrg(files: Files): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'leastpath-model-'));
  dirs.push(dir);
  for (const [rel, content] of Object.entries({ ...BASE, ...files })) {
    if (content === null) continue;
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), content);
  }
  return dir;
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('loadRepo', () => {
  it('reads the example organisation into the model without errors', async () => {
    const { repo, findings } = await loadRepo(REPO_ROOT, { today: TODAY });
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect([...repo.environments.keys()]).toEqual(['dev', 'prod', 'stg']);
    expect(repo.environmentNames).toEqual(['dev', 'prod', 'stg']);
    expect(repo.guardrails.exceptions.requireTicket).toBe(true);
    const dev = repo.environments.get('dev')!;
    expect(Object.keys(dev.environment.value.workloads)).toEqual(['api', 'batch', 'web']);
    expect(dev.environment.value.promoteFrom).toBeNull();
    expect(repo.environments.get('prod')!.environment.value.promoteFrom).toBe('stg');
    const webRules = dev.workloads.get('web')!.value.egress;
    expect(webRules[1]).toMatchObject({
      index: 1,
      to: { kind: 'service', service: 's3' },
      ports: [{ protocol: 'tcp', from: 443, to: 443 }],
    });
    // An unquoted date stays a string (the yaml package's core schema has no timestamp type).
    expect(webRules[3]!.exception).toEqual({
      reason: 'customer-defined webhook URLs',
      owner: 'jane@example.com',
      ticket: 'SEC-101',
      expires: '2027-03-01',
    });
    expect(dev.prefixLists['card-partner']).toEqual({
      name: 'card-partner',
      cidrs: ['203.0.113.0/28', '198.51.100.16/29'],
      why: 'card processor, per contract annex 3',
      maxEntries: 2,
    });
  });

  it('fills in the contract defaults', async () => {
    const root = await writeOrg({
      'policies/dev/environment.yaml': `environment: dev
account: "111111111111"
region: eu-west-1
vpc: vpc-0a1b
flowLogs: { engine: duckdb, files: [flows/*.log] }
workloads:
  web: { cidrs: [10.20.1.0/24] }
  api: { interfaces: [eni-0aa11bb2] }
`,
      'policies/dev/workloads/web.yaml': web('  - to: { workload: api }\n    ports: [tcp/8080]\n    why: renders pages\n'),
    });
    const { repo, findings } = await loadRepo(root, { today: TODAY });
    expect(findings).toEqual([]);
    const env = repo.environments.get('dev')!.environment.value;
    expect(env).toMatchObject({
      vpcCidrs: [],
      mode: 'audit',
      promoteFrom: null,
      soakDays: 0,
      window: { days: 14, retainDays: 30 },
      endpoints: { routeTables: [], subnets: [] },
      quarantine: [],
      quotas: { rulesPerGroup: 60, naclRulesPerDirection: 20 },
    });
    expect(env.workloads.api).toEqual({ cidrs: [], interfaces: ['eni-0aa11bb2'], instances: [], subnets: [] });
    expect(repo.environments.get('dev')!.workloads.get('web')!.value.deny).toEqual([]);
    expect(repo.guardrails).toEqual({
      exceptions: { maxPrefixIPv4: 24, maxPrefixIPv6: 56, maxPorts: 1, allProtocols: true, maxDays: 180, requireTicket: false },
      expiringSoonDays: 30,
    });
  });

  it('keeps the defaults in place of guardrails that would loosen them, and tighter values as given', async () => {
    const root = await writeOrg({
      'policies/guardrails.yaml': 'exceptions:\n  maxPrefixIPv4: 8\n  maxPrefixIPv6: 64\n  maxDays: 400\n  allProtocols: false\n',
    });
    const { repo } = await readRepo(root);
    expect(repo.guardrails.exceptions).toMatchObject({ maxPrefixIPv4: 24, maxPrefixIPv6: 64, maxDays: 180, allProtocols: true });
  });

  it('leaves files with errors out of the model, reports them, and lists them as unloaded', async () => {
    const root = await writeOrg({
      'policies/dev/workloads/web.yaml': 'workload: web\nowner: [\n',
      'policies/dev/prefix-lists.yaml': 'prefixLists:\n  p: { cidr: [203.0.113.0/28] }\n',
    });
    const { repo, findings } = await readRepo(root);
    const dev = repo.environments.get('dev')!;
    expect([...dev.workloads.keys()]).toEqual(['api']);
    expect(dev.prefixLists).toEqual({});
    expect(dev.unloaded).toEqual(['policies/dev/prefix-lists.yaml', 'policies/dev/workloads/web.yaml']);
    expect(findings.map((f) => `${f.rule} ${f.file}:${f.line}:${f.col} ${f.path}`)).toContain(
      'schema policies/dev/prefix-lists.yaml:2:8 prefixLists.p.cidr',
    );
    expect(findings.some((f) => f.rule === 'yaml' && f.file === 'policies/dev/workloads/web.yaml')).toBe(true);
  });

  it('leaves an environment out when its environment.yaml fails, but still checks its other files', async () => {
    const root = await writeOrg({
      'policies/dev/environment.yaml': BASE['policies/dev/environment.yaml']!.replace('region: eu-west-1', 'regoin: eu-west-1'),
      'policies/dev/workloads/api.yaml': 'workload: api\n',
    });
    const { repo, findings } = await readRepo(root);
    expect(repo.environments.size).toBe(0);
    expect(repo.environmentNames).toEqual(['dev']);
    expect(findings.map((f) => `${f.file}:${f.line}:${f.col}: ${f.path}: ${f.message}`)).toEqual([
      'policies/dev/environment.yaml:1:1: region: missing required key "region"',
      'policies/dev/environment.yaml:3:1: regoin: unknown key "regoin"; did you mean "region"?',
      'policies/dev/workloads/api.yaml:1:1: egress: missing required key "egress": write `egress: []` for a workload that may reach nothing',
      'policies/dev/workloads/api.yaml:1:1: observed: missing required key "observed"',
      'policies/dev/workloads/api.yaml:1:1: owner: missing required key "owner"',
    ]);
  });

  it('limits reading to --env and refuses names that could become paths', async () => {
    const root = await writeOrg({ 'policies/stg/environment.yaml': 'not: [valid\n' });
    const { repo, findings } = await readRepo(root, { env: 'dev' });
    expect([...repo.environments.keys()]).toEqual(['dev']);
    expect(repo.environmentNames).toEqual(['dev', 'stg']);
    expect(findings).toEqual([]);
    await expect(readRepo(root, { env: '../x' })).rejects.toBeInstanceOf(UsageError);
    await expect(readRepo(root, { env: 'qa' })).rejects.toThrow('unknown environment "qa": policies/ holds dev, stg');
  });

  it('throws InputError naming the root when there is no policies/ folder', async () => {
    const root = await mkdtemp(join(tmpdir(), 'leastpath-empty-'));
    dirs.push(root);
    await expect(readRepo(root)).rejects.toThrow(
      new InputError(`no policies/ folder in ${root}: run leastpath from the repository root or pass --root DIR`),
    );
  });

  it('throws InputError when policies/ holds no environment: nothing to validate is not "valid"', async () => {
    const root = await mkdtemp(join(tmpdir(), 'leastpath-empty-'));
    dirs.push(root);
    await mkdir(join(root, 'policies'));
    await writeFile(join(root, 'policies', 'guardrails.yaml'), 'exceptions: {}\n');
    await expect(readRepo(root)).rejects.toThrow(
      new InputError('policies/ holds no environment: add policies/<env>/environment.yaml (see the example organisation)'),
    );
  });
});

describe('loadRepoOrThrow', () => {
  it('returns the model and warnings when there are no errors', async () => {
    const { repo, findings } = await loadRepoOrThrow(REPO_ROOT, { today: TODAY, env: 'prod' });
    expect([...repo.environments.keys()]).toEqual(['prod']);
    expect(findings.every((f) => f.severity !== 'error')).toBe(true);
  });

  it('throws ValidationFailed carrying the findings when there are errors', async () => {
    const root = await writeOrg({
      'policies/dev/workloads/web.yaml': web('  - to: { workload: api }\n    ports: [tcp/8080]\n    why: todo\n'),
    });
    const err = await loadRepoOrThrow(root, { today: TODAY }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationFailed);
    expect((err as ValidationFailed).findings.map((f) => f.rule)).toEqual(['why-required']);
  });

  it('fails an expired exception only against today', async () => {
    const root = await writeOrg({
      'policies/dev/workloads/web.yaml': web(
        '  - to: { cidrs: [0.0.0.0/0] }\n    ports: [tcp/443]\n    why: webhooks\n    exception: { reason: r, owner: o, expires: 2026-12-01 }\n',
      ),
    });
    await expect(loadRepoOrThrow(root, { today: '2026-12-01' })).resolves.toBeDefined();
    await expect(loadRepoOrThrow(root, { today: '2026-12-02' })).rejects.toBeInstanceOf(ValidationFailed);
  });
});

describe('schemas/', () => {
  it('are found from the package root, from the sources', () => {
    expect(packageRoot()).toBe(REPO_ROOT.replace(/\/$/, ''));
    expect(assetPath('schemas/workload.schema.json')).toBe(join(REPO_ROOT, 'schemas', 'workload.schema.json'));
  });

  it('forbid unknown keys on every object with properties', async () => {
    const files = (await readdir(assetPath('schemas'))).filter((f) => f.endsWith('.schema.json'));
    expect(files.sort()).toEqual([
      'ask.schema.json',
      'common.schema.json',
      'environment.schema.json',
      'guardrails.schema.json',
      'observed.schema.json',
      'prefix-lists.schema.json',
      'workload.schema.json',
    ]);
    const open: string[] = [];
    const walk = (node: unknown, where: string): void => {
      if (node === null || typeof node !== 'object') return;
      const o = node as Record<string, unknown>;
      if (o.type === 'object' && o.properties && o.additionalProperties !== false) open.push(where);
      // An `if` only tests a condition; the object it tests is closed where it is defined.
      for (const [k, v] of Object.entries(o)) if (k !== 'if') walk(v, `${where}/${k}`);
    };
    for (const f of files) walk(JSON.parse(await readFile(assetPath(`schemas/${f}`), 'utf8')), f);
    expect(open).toEqual([]);
  });

  it('know gateway and interface endpoint services', () => {
    expect(endpointType('s3')).toBe('gateway');
    expect(endpointType('ecr.api')).toBe('interface');
    expect(endpointType('S3')).toBeUndefined();
  });
});

describe('compareObservedKeys', () => {
  it('orders by address (IPv4 first), then IANA protocol number, then port', () => {
    const entries = [
      { destination: '2001:db8::1/128', protocol: 'tcp', port: 443 },
      { destination: '10.0.0.1/32', protocol: 'udp', port: 53 },
      { destination: '10.0.0.1/32', protocol: 'tcp', port: 443 },
      { destination: '9.9.9.9/32', protocol: 'icmp' },
      { destination: '10.0.0.1/32', protocol: 'tcp', port: 22 },
    ];
    expect([...entries].sort(compareObservedKeys).map((e) => `${e.destination} ${e.protocol} ${e.port ?? '-'}`)).toEqual([
      '9.9.9.9/32 icmp -',
      '10.0.0.1/32 tcp 22',
      '10.0.0.1/32 tcp 443',
      '10.0.0.1/32 udp 53',
      '2001:db8::1/128 tcp 443',
    ]);
  });
});
