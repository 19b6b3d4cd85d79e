/**
 * Names as evidence: observe's `names` and `domains` against the example generator's own queries and connections
 * (examples/dns-scenario.ts), and the query-log reader on small hand-written files.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { exampleDnsTruth, TUNNEL_DOMAIN, type DnsQuery } from '../../examples/dns-scenario.js';
import { EXAMPLE_ENVS, WINDOW_END, WINDOW_START, utcDate, type ExampleEnv } from '../../examples/scenario.js';
import { hostCidr } from '../../core/cidr.js';
import { protocolFromNumber } from '../../core/ports.js';
import { readRepo } from '../../model/read-repo.js';
import type { EnvironmentConfig, ObservedFile } from '../../model/types.js';
import { assembleObserved } from '../../observe/assemble.js';
import { awsServiceLookup } from '../../observe/aws-ranges.js';
import { withNames } from '../../observe/dns-names.js';
import { readDnsLogs } from '../../observe/dns-read.js';
import { readObservationsDuckDb, windowEnding } from '../../observe/observe.js';

const root = join(import.meta.dirname, '..', '..');

/** observe's files for `env` of the committed example, names included (what `leastpath observe` writes). */
async function observeNames(env: ExampleEnv): Promise<Map<string, ObservedFile>> {
  const { repo } = await readRepo(root, { env });
  const policies = repo.environments.get(env)!;
  const config = policies.environment.value;
  const window = windowEnding('2026-11-21', config.window.days);
  const environmentFile = join(root, policies.environment.source.file);
  const obs = await readObservationsDuckDb({ root, environmentFile, config, window });
  const files = assembleObserved({
    environment: env,
    workloads: [...policies.workloads.keys()],
    window,
    retainDays: config.window.retainDays,
    rows: obs.rows,
    engine: 'duckdb',
    previous: new Map(),
    serviceOf: awsServiceLookup(config.region),
  });
  const dns = await readDnsLogs({ root, environmentFile, config, from: WINDOW_START, to: WINDOW_END });
  return withNames({ files, rows: obs.rows, dns: dns!, config });
}

const inWindow = (q: DnsQuery) => q.ts >= WINDOW_START && q.ts < WINDOW_END;
const answered = (q: DnsQuery) => q.answers.filter((a) => a.Type === 'A' || a.Type === 'AAAA').map((a) => a.Rdata);

describe.each(EXAMPLE_ENVS)('names in the example organisation, %s', (env) => {
  const truth = exampleDnsTruth(env);
  const own = truth.queries.filter((q) => inWindow(q) && q.vpcId === truth.scenario.vpcId && q.workload !== null);
  let files: Map<string, ObservedFile>;

  it('gives every egress entry the names its workload resolved to that address before connecting', async () => {
    files = await observeNames(env);
    const hostOf = new Map(truth.scenario.hosts.flatMap((h) => [[h.ipv4, h], ...(h.ipv6 ? [[h.ipv6, h] as const] : [])]));
    let named = 0;
    for (const [workload, file] of files) {
      for (const e of file.egress) {
        // The entry's first record in the window, from the generator's connections.
        const conns = truth.scenario.connections.filter(
          (c) =>
            hostOf.get(c.srcAddr)?.workload === workload &&
            hostCidr(c.dstAddr) === e.destination &&
            String(protocolFromNumber(c.protocol)) === e.protocol &&
            ([6, 17].includes(c.protocol) ? c.dstPort === e.port : true),
        );
        const first = Math.min(...conns.flatMap((c) => c.segments.map((s) => s.start)).filter((t) => t >= WINDOW_START));
        const expected = [
          ...new Set(
            own
              .filter(
                (q) =>
                  q.workload === workload &&
                  q.rcode === 'NOERROR' &&
                  q.ts + 1 <= first &&
                  answered(q).some((a) => hostCidr(a) === e.destination),
              )
              .map((q) => q.name),
          ),
        ].sort();
        expect(e.names, `${workload} ${e.destination} ${e.protocol}/${e.port}`).toEqual(expected);
        if (expected.length > 0) named++;
      }
    }
    expect(named).toBeGreaterThan(10);
    // A CNAME chain: the name asked for counts, never the CDN name behind it.
    const web = files.get('web')!;
    expect(web.egress.find((e) => e.destination === '203.0.113.5/32')?.names).toEqual(['api.cardpay.example.net']);
    expect(JSON.stringify([...files.values()])).not.toContain('edgecdn');
    // The streaming webhook was opened (and resolved) before the window: no name.
    expect(web.egress.find((e) => e.destination === '203.0.113.40/32')?.names).toEqual([]);
  });

  it('lists every name each workload resolved, with counts, days, addresses and NXDOMAIN, and nothing of the peered VPC', () => {
    for (const [workload, file] of files) {
      const mine = own.filter((q) => q.workload === workload);
      const names = [...new Set(mine.map((q) => q.name))].sort();
      const connected = new Set(file.egress.flatMap((e) => e.names ?? []));
      const expected = names.map((name) => {
        const qs = mine.filter((q) => q.name === name);
        const addrs = [...new Set(qs.flatMap(answered))];
        return {
          name,
          queries: qs.length,
          connected: connected.has(name),
          firstSeen: utcDate(Math.min(...qs.map((q) => q.ts))),
          lastSeen: utcDate(Math.max(...qs.map((q) => q.ts))),
          addresses: addrs.sort((a, b) => Number(a.includes(':')) - Number(b.includes(':')) || (hostCidr(a)! < hostCidr(b)! ? -1 : 1)),
          nxdomain: qs.every((q) => q.rcode === 'NXDOMAIN'),
          internal: name.endsWith('.internal') || name.startsWith('secretsmanager.'),
        };
      });
      const got = (file.domains ?? []).map((d) => ({
        ...d,
        nxdomain: d.nxdomain ?? false,
        internal: d.internal ?? false,
        addresses: d.addresses,
      }));
      // Numeric address order for the comparison (the file's order is checked as sorted below).
      expect(
        got.map((d) => ({ ...d, addresses: [...d.addresses].sort() })),
        workload,
      ).toEqual(expected.map((d) => ({ ...d, addresses: [...d.addresses].sort() })));
      expect(JSON.stringify(file.domains)).not.toContain('peer-only.example.org');
    }
    expect(files.get('web')!.domains!.find((d) => d.name === 'hooks.customer-old.example.com')).toMatchObject({
      nxdomain: true,
      connected: false,
    });
    if (env === 'dev') expect(files.get('batch')!.domains!.filter((d) => d.name.endsWith(TUNNEL_DOMAIN)).length).toBeGreaterThan(20);
  });
});

describe('the query-log reader', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const config = (files: string[]): EnvironmentConfig => ({
    environment: 'dev',
    account: '111111111111',
    region: 'eu-west-1',
    vpc: 'vpc-0a',
    vpcCidrs: ['10.0.0.0/16'],
    mode: 'audit',
    promoteFrom: null,
    soakDays: 0,
    flowLogs: { engine: 'duckdb', files: [] },
    window: { days: 14, retainDays: 30 },
    workloads: { web: { cidrs: ['10.0.1.0/24'], interfaces: [], instances: ['i-0b'], subnets: [] } },
    endpoints: { routeTables: [], subnets: [] },
    quarantine: [],
    quotas: { rulesPerGroup: 60, naclRulesPerDirection: 20 },
    dnsLogs: { files, privateZones: [] },
  });
  const q = (over: Record<string, unknown> = {}) =>
    JSON.stringify({
      version: '1.100000',
      account_id: '111111111111',
      region: 'eu-west-1',
      vpc_id: 'vpc-0a',
      query_timestamp: '2026-11-10T10:00:00Z',
      query_name: 'API.Example.com.',
      query_type: 'A',
      query_class: 'IN',
      rcode: 'NOERROR',
      answers: [
        { Rdata: 'cdn.example.net.', Type: 'CNAME', Class: 'IN' },
        { Rdata: '198.51.100.7', Type: 'A', Class: 'IN' },
      ],
      srcaddr: '10.0.2.9',
      srcport: '5353',
      transport: 'UDP',
      srcids: { instance: 'i-0b' },
      ...over,
    });
  async function read(lines: string[], gz = true) {
    const dir = await mkdtemp(join(tmpdir(), 'leastpath-dns-'));
    dirs.push(dir);
    await mkdir(join(dir, 'logs'), { recursive: true });
    const text = `${lines.join('\n')}\n`;
    await writeFile(join(dir, 'logs', gz ? 'q.log.gz' : 'q.log'), gz ? gzipSync(text) : text);
    return readDnsLogs({
      root: dir,
      environmentFile: join(dir, 'environment.yaml'),
      config: config(['logs/*.log*']),
      from: WINDOW_START,
      to: WINDOW_END,
    });
  }

  it('reads names lowercase without the trailing dot, follows CNAME chains to the A answer, ignores unknown fields and a newer minor version', async () => {
    const dns = await read([q(), q({ version: '1.300000', some_new_field: { x: 1 }, query_timestamp: '2026-11-11T10:00:00Z' })]);
    expect(dns!.queries).toEqual([
      {
        srcaddr: '10.0.2.9',
        instance: 'i-0b',
        name: 'api.example.com',
        rcode: 'NOERROR',
        action: '',
        queries: 2,
        firstTs: Date.parse('2026-11-10T10:00:00Z') / 1000,
        lastTs: Date.parse('2026-11-11T10:00:00Z') / 1000,
      },
    ]);
    expect(dns!.resolutions.map((r) => [r.name, r.address])).toEqual([['api.example.com', '198.51.100.7']]);
  });

  it("keeps only the environment's VPC and the window", async () => {
    const dns = await read(
      [q({ vpc_id: 'vpc-0other' }), q({ query_timestamp: '2026-11-30T00:00:00Z' }), q({ query_name: 'kept.example.com.' })],
      false,
    );
    expect(dns!.queries.map((r) => r.name)).toEqual(['kept.example.com']);
  });

  it('names the file and line of a malformed line, and refuses a new major version', async () => {
    await expect(read([q(), '{"version": "1.1", "query_name": "x.', q()])).rejects.toThrow(/logs\/q\.log\.gz:2: malformed JSON/);
    await expect(read([q(), q(), q({ query_timestamp: 'yesterday' })])).rejects.toThrow(/logs\/q\.log\.gz:3: query_timestamp/);
    await expect(read([q({ version: '2.0' })])).rejects.toThrow(/q\.log\.gz:1: query-log version 2\.0 is not 1\.x/);
  });

  it('says which dnsLogs.files pattern matches nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'leastpath-dns-'));
    dirs.push(dir);
    await expect(
      readDnsLogs({ root: dir, environmentFile: join(dir, 'environment.yaml'), config: config(['nothing/*.log.gz']), from: 0, to: 1 }),
    ).rejects.toMatchObject({ message: expect.stringContaining('no query-log files'), where: { path: 'dnsLogs.files[0]' } });
  });
});
