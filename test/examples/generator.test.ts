import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { DEFAULT_OUT_DIR, generateExamples } from '../../examples/generate.js';
import {
  DEFAULT_FORMAT,
  EXAMPLE_ENVS,
  WINDOW_START,
  exampleScenario,
  exampleTruth,
  isWellFormed,
  utcDate,
  type EnvTruth,
  type ExampleEnv,
  type FieldName,
  type Host,
  type Scenario,
  type Workload,
} from '../../examples/scenario.js';

/** One parsed line of a generated file, by the names its file's header gives. */
type Rec = Partial<Record<FieldName, string>> & { file: string; line: number };

interface Parsed {
  files: string[];
  header: string;
  records: Rec[];
  /** Lines that do not fit the header, as file + 1-based line. */
  broken: { file: string; line: number }[];
}

/** Files under `dir`, as sorted `/`-separated paths relative to it. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(relative(dir, full).split(sep).join('/'));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

function readText(file: string): string {
  return gunzipSync(readFileSync(file)).toString('utf8');
}

function parseEnv(root: string, env: ExampleEnv): Parsed {
  const dir = join(root, env);
  const files = listFiles(dir);
  const records: Rec[] = [];
  const broken: { file: string; line: number }[] = [];
  let header = '';
  for (const file of files) {
    const lines = readText(join(dir, file)).split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    header = lines[0]!;
    const fields = header.split(' ') as FieldName[];
    lines.slice(1).forEach((text, i) => {
      if (!isWellFormed(fields, text)) {
        broken.push({ file, line: i + 2 });
        return;
      }
      const parts = text.split(' ');
      const rec: Rec = { file, line: i + 2 };
      fields.forEach((f, j) => (rec[f] = parts[j]));
      records.push(rec);
    });
  }
  return { files, header, records, broken };
}

const inWindow = (r: Rec): boolean => Number(r.start) >= WINDOW_START && Number(r.start) < WINDOW_START + 14 * 86400;
const pktDst = (r: Rec): string => r['pkt-dstaddr'] ?? r.dstaddr!;

let dirA = '';
let dirB = '';
const parsed = new Map<ExampleEnv, Parsed>();
const truths = new Map<ExampleEnv, EnvTruth>();
const scenarios = new Map<ExampleEnv, Scenario>();

beforeAll(() => {
  dirA = mkdtempSync(join(tmpdir(), 'leastpath-examples-a-'));
  dirB = mkdtempSync(join(tmpdir(), 'leastpath-examples-b-'));
  generateExamples(dirA);
  generateExamples(dirB);
  for (const env of EXAMPLE_ENVS) {
    parsed.set(env, parseEnv(dirA, env));
    truths.set(env, exampleTruth(env));
    scenarios.set(env, exampleScenario(env));
  }
});

afterAll(() => {
  for (const d of [dirA, dirB]) if (d) rmSync(d, { recursive: true, force: true });
});

function hostsOf(env: ExampleEnv): Host[] {
  return scenarios.get(env)!.hosts;
}
function hostNamed(env: ExampleEnv, name: string): Host {
  return hostsOf(env).find((h) => h.name === name)!;
}
function ownEnis(env: ExampleEnv, workload: Workload): Set<string> {
  return new Set(
    hostsOf(env)
      .filter((h) => h.workload === workload)
      .map((h) => h.interfaceId),
  );
}
function addressesOf(env: ExampleEnv, workload: Workload): Set<string> {
  return new Set(
    hostsOf(env)
      .filter((h) => h.workload === workload)
      .flatMap((h) => (h.ipv6 ? [h.ipv4, h.ipv6] : [h.ipv4])),
  );
}
function recs(env: ExampleEnv): Rec[] {
  return parsed.get(env)!.records;
}
function egressOf(env: ExampleEnv, workload: string) {
  return truths.get(env)!.egress.filter((e) => e.workload === workload);
}
function rejectedOf(env: ExampleEnv, workload: string) {
  return truths.get(env)!.rejected.filter((e) => e.workload === workload);
}

describe('example flow-log generator', () => {
  it('writes byte-identical files on every run, gzip without a timestamp', () => {
    const a = listFiles(dirA);
    expect(a.length).toBeGreaterThan(100);
    expect(listFiles(dirB)).toEqual(a);
    for (const f of a) {
      const bytesA = readFileSync(join(dirA, f));
      expect(bytesA.equals(readFileSync(join(dirB, f))), f).toBe(true);
      expect(bytesA.readUInt32LE(4), `${f}: gzip MTIME`).toBe(0);
    }
  });

  it('the committed examples/flow-logs are exactly a fresh generation (regenerate with `npm run examples`)', () => {
    const committed = listFiles(DEFAULT_OUT_DIR);
    expect(committed, 'examples/flow-logs is missing: run `npm run examples`').not.toEqual([]);
    expect(committed).toEqual(listFiles(dirA));
    // Content, not gzip bytes: another zlib build may compress the same text differently.
    for (const f of committed) expect(readText(join(DEFAULT_OUT_DIR, f)) === readText(join(dirA, f)), f).toBe(true);
  });

  it('stays within the size budget with 30k-60k records per environment', () => {
    let total = 0;
    for (const env of EXAMPLE_ENVS) {
      for (const f of parsed.get(env)!.files) total += readFileSync(join(dirA, env, f)).length;
      expect(recs(env).length, env).toBeGreaterThanOrEqual(30_000);
      expect(recs(env).length, env).toBeLessThanOrEqual(60_000);
      expect(truths.get(env)!.records, env).toBe(recs(env).filter(inWindow).length);
    }
    expect(total).toBeLessThan(4 * 1024 * 1024);
  });

  it('delivers files where S3 does, four a day from 2026-11-06 to 2026-11-21, matching environment.yaml', () => {
    for (const env of EXAMPLE_ENVS) {
      const s = scenarios.get(env)!;
      const files = parsed.get(env)!.files;
      const re = new RegExp(
        `^AWSLogs/${s.accountId}/vpcflowlogs/eu-west-1/2026/11/(\\d\\d)/${s.accountId}_vpcflowlogs_eu-west-1_fl-0[0-9a-f]+_202611(\\d\\d)T(00|06|12|18)00Z_[0-9a-f]{8}\\.log\\.gz$`,
      );
      for (const f of files) {
        const m = re.exec(f);
        expect(m, f).not.toBeNull();
        expect(m![1]).toBe(m![2]);
      }
      expect(files.length).toBe(16 * 4);
      expect(files[0]).toContain('/2026/11/06/');
      expect(files[files.length - 1]).toContain('/2026/11/21/');
      const yaml = parse(readFileSync(join(DEFAULT_OUT_DIR, '..', '..', 'policies', env, 'environment.yaml'), 'utf8'));
      expect(yaml.flowLogs.files).toEqual([`../../examples/flow-logs/${env}/**/*.log.gz`]);
    }
  });

  it('lets the header decide the field order: dev and prod custom v5 orders, stg the default v2 format', () => {
    const dev = parsed.get('dev')!.header.split(' ');
    const prod = parsed.get('prod')!.header.split(' ');
    expect(dev.slice(0, 3)).toEqual(['start', 'end', 'interface-id']);
    expect(parsed.get('stg')!.header).toBe(DEFAULT_FORMAT.join(' '));
    expect(prod).not.toEqual(dev);
    const v5: FieldName[] = [
      ...DEFAULT_FORMAT,
      'vpc-id',
      'subnet-id',
      'instance-id',
      'tcp-flags',
      'type',
      'pkt-srcaddr',
      'pkt-dstaddr',
      'pkt-src-aws-service',
      'pkt-dst-aws-service',
      'flow-direction',
      'traffic-path',
    ];
    for (const f of v5) {
      expect(dev, f).toContain(f);
      expect(prod, f).toContain(f);
    }
    expect(recs('dev').every((r) => r.version === '5')).toBe(true);
    expect(recs('stg').every((r) => r.version === '2')).toBe(true);
  });
});

describe('ground truth', () => {
  it("counts exactly the initiating records on the workload's own interfaces (independent recount)", () => {
    for (const env of EXAMPLE_ENVS) {
      for (const e of truths.get(env)!.egress) {
        const w = e.workload as Workload;
        const enis = ownEnis(env, w);
        const from = addressesOf(env, w);
        const proto = { tcp: '6', udp: '17', icmp: '1', icmpv6: '58' }[e.protocol] ?? e.protocol;
        const dest = e.destination.replace(/\/(32|128)$/, '');
        const matching = recs(env).filter(
          (r) =>
            inWindow(r) &&
            enis.has(r['interface-id']!) &&
            from.has(r.srcaddr!) &&
            pktDst(r) === dest &&
            r.protocol === proto &&
            (e.port === undefined || r.dstport === String(e.port)) &&
            r.action === 'ACCEPT' &&
            r['log-status'] === 'OK',
        );
        const label = `${env} ${w} ${e.destination} ${e.protocol}/${e.port ?? ''}`;
        expect(matching.length, label).toBe(e.flows);
        expect(
          matching.reduce((a, r) => a + Number(r.bytes), 0),
          label,
        ).toBe(e.bytes);
        const days = matching.map((r) => utcDate(Number(r.start))).sort();
        expect([days[0], days[days.length - 1]], label).toEqual([e.firstSeen, e.lastSeen]);
      }
      for (const e of truths.get(env)!.rejected) {
        const from = addressesOf(env, e.workload as Workload);
        const dest = e.destination.replace(/\/(32|128)$/, '');
        const matching = recs(env).filter(
          (r) => inWindow(r) && r.action === 'REJECT' && from.has(r.srcaddr!) && r.dstaddr === dest && r.dstport === String(e.port),
        );
        expect(matching.length, `${env} rejected ${e.workload} ${e.destination}`).toBe(e.flows);
      }
    }
  });

  it('is sorted by workload, then destination (IPv4 first, numerically), protocol and port', () => {
    const t = truths.get('dev')!;
    const api = t.egress.filter((e) => e.workload === 'api').map((e) => `${e.destination} ${e.protocol} ${e.port ?? ''}`);
    expect(api.indexOf('10.20.10.5/32 icmp ')).toBeLessThan(api.indexOf('10.20.10.5/32 tcp 5432'));
    expect(api.indexOf('52.94.25.37/32 tcp 443')).toBeLessThan(api.indexOf('198.51.100.77/32 tcp 443'));
    expect(api[api.length - 1]).toBe('2001:db8:ffff:10::20/128 tcp 443');
    expect(t.egress.map((e) => e.workload)).toEqual([...t.egress.map((e) => e.workload)].sort());
  });

  it('names the intended destinations of the example policies', () => {
    for (const env of EXAMPLE_ENVS) {
      const o = { dev: 20, stg: 30, prod: 40 }[env];
      const has = (w: string, dest: string, protocol: string, port?: number): boolean =>
        egressOf(env, w).some((e) => e.destination === dest && e.protocol === protocol && e.port === port);
      expect(has('web', `10.${o}.2.10/32`, 'tcp', 8080), env).toBe(true);
      expect(has('web', '203.0.113.5/32', 'tcp', 443), env).toBe(true);
      expect(has('web', '192.0.2.200/32', 'tcp', 443), env).toBe(true);
      expect(
        egressOf(env, 'web').filter((e) => e.port === 443 && e.service === null && !e.destination.startsWith('10.')).length,
      ).toBeGreaterThan(5);
      expect(has('api', `10.${o}.10.5/32`, 'tcp', 5432), env).toBe(true);
      expect(has('api', '198.51.100.77/32', 'tcp', 443), env).toBe(true);
      expect(has('batch', '198.51.100.130/32', 'tcp', 22), env).toBe(true);
      // sqs: dev only; it has no endpoint yet and goes through the NAT gateway, so AWS can only say AMAZON, which
      // names no service: the truth reports it as not known.
      const sqs = egressOf(env, 'web').filter((e) => e.destination === '52.94.49.77/32');
      expect(
        sqs.map((e) => e.service),
        env,
      ).toEqual(env === 'dev' ? [null] : []);
    }
  });
});

describe('traps', () => {
  it('responses to inbound clients are never egress (web:80 -> alb:51514)', () => {
    for (const env of EXAMPLE_ENVS) {
      const albs = hostsOf(env)
        .filter((h) => h.role === 'alb')
        .map((h) => h.ipv4);
      const web = addressesOf(env, 'web');
      const responses = recs(env).filter((r) => web.has(r.srcaddr!) && r.srcport === '80' && albs.includes(r.dstaddr!));
      expect(responses.length, env).toBeGreaterThan(100);
      expect(
        responses.some((r) => r.dstport === '51514' && inWindow(r)),
        env,
      ).toBe(true);
      // api answers web on 8080 from its own interface: not api's egress either.
      expect(
        recs(env).some((r) => r.srcaddr === hostNamed(env, 'api').ipv4 && r.srcport === '8080'),
        env,
      ).toBe(true);
      const truth = truths.get(env)!;
      for (const e of truth.egress) {
        expect(
          albs.map((a) => `${a}/32`),
          `${env} ${e.destination}`,
        ).not.toContain(e.destination);
        expect([22, 80, 443, 1812, 4444, 5432, 6379, 8080], `${env} ${e.destination} port`).toContain(e.port ?? 443);
      }
      expect(egressOf(env, 'web').some((e) => e.destination.startsWith('2001:db8:1'))).toBe(false);
    }
  });

  it('NAT gateway records carry the instance and the real host in pkt-* fields, as AWS documents', () => {
    for (const env of ['dev', 'prod'] as const) {
      const nat = hostNamed(env, 'nat');
      const batch = hostNamed(env, 'batch');
      const onNat = recs(env).filter((r) => r['interface-id'] === nat.interfaceId);
      // instance -> NAT: dstaddr is the NAT's private address, pkt-dstaddr the host on the internet.
      expect(
        onNat.some(
          (r) =>
            r.srcaddr === batch.ipv4 && r.dstaddr === nat.ipv4 && r['pkt-dstaddr'] === '203.0.113.99' && r['flow-direction'] === 'ingress',
        ),
        env,
      ).toBe(true);
      // NAT -> instance: srcaddr is the NAT, pkt-srcaddr the host: a record whose pkt-srcaddr differs from srcaddr.
      expect(
        onNat.some((r) => r.srcaddr === nat.ipv4 && r['pkt-srcaddr'] !== r.srcaddr && r.dstaddr === batch.ipv4),
        env,
      ).toBe(true);
      expect(onNat.every((r) => r['instance-id'] === '-')).toBe(true);
      // The batch instance's own interface shows the real destination.
      expect(
        recs(env).some(
          (r) => r['interface-id'] === batch.interfaceId && r.dstaddr === '203.0.113.99' && r['pkt-dstaddr'] === '203.0.113.99',
        ),
        env,
      ).toBe(true);
      for (const e of truths.get(env)!.egress) expect(e.destination).not.toBe(`${nat.ipv4}/32`);
    }
    // stg logs its NAT gateway too; in v2 the NAT's records show the NAT as the destination of web's requests.
    const nat = hostNamed('stg', 'nat');
    expect(
      recs('stg').some((r) => r['interface-id'] === nat.interfaceId && r.dstaddr === nat.ipv4 && addressesOf('stg', 'web').has(r.srcaddr!)),
    ).toBe(true);
  });

  it("IPv6: api -> 2001:db8:ffff:10::20 tcp/443 and web's IPv6 addresses", () => {
    for (const env of EXAMPLE_ENVS) {
      expect(
        egressOf(env, 'api').some((e) => e.destination === '2001:db8:ffff:10::20/128' && e.port === 443),
        env,
      ).toBe(true);
      expect(
        egressOf(env, 'web').some((e) => e.destination.includes(':')),
        env,
      ).toBe(true);
      const web6 = hostsOf(env)
        .filter((h) => h.workload === 'web')
        .map((h) => h.ipv6!);
      expect(
        recs(env).some((r) => web6.includes(r.srcaddr!)),
        env,
      ).toBe(true);
    }
    expect(recs('dev').some((r) => r.type === 'IPv6')).toBe(true);
  });

  it('SKIPDATA and NODATA records with `-` fields; skipped windows counted inside the window only', () => {
    for (const env of EXAMPLE_ENVS) {
      const skip = recs(env).filter((r) => r['log-status'] === 'SKIPDATA');
      const nodata = recs(env).filter((r) => r['log-status'] === 'NODATA');
      expect(skip.length, env).toBeGreaterThan(0);
      expect(nodata.length, env).toBeGreaterThan(50);
      expect([...skip, ...nodata].every((r) => r.srcaddr === '-' && r.dstport === '-' && r.action === '-')).toBe(true);
      expect(truths.get(env)!.skippedWindows, env).toBe(skip.filter(inWindow).length);
    }
    expect(
      recs('dev')
        .filter((r) => r['log-status'] === 'SKIPDATA')
        .some((r) => !inWindow(r)),
    ).toBe(true);
    // v5 writes `-` where a field does not apply.
    expect(recs('dev').some((r) => r['log-status'] === 'OK' && r['traffic-path'] === '-' && r['pkt-dst-aws-service'] === '-')).toBe(true);
  });

  it("REJECT on the workload's own interface: web -> db:5432 (dev, stg)", () => {
    for (const env of ['dev', 'stg'] as const) {
      const db = hostNamed(env, 'db').ipv4;
      const rej = recs(env).filter(
        (r) => r.action === 'REJECT' && ownEnis(env, 'web').has(r['interface-id']!) && r.dstaddr === db && r.dstport === '5432',
      );
      expect(rej.length, env).toBe(5);
      expect(recs(env).some((r) => r['interface-id'] === hostNamed(env, 'db').interfaceId && addressesOf(env, 'web').has(r.srcaddr!))).toBe(
        false,
      );
      expect(rejectedOf(env, 'web')).toEqual([
        { workload: 'web', destination: `${db}/32`, protocol: 'tcp', port: 5432, flows: 5, lastSeen: '2026-11-20' },
      ]);
      expect(egressOf(env, 'web').some((e) => e.destination === `${db}/32`)).toBe(false);
    }
  });

  it("REJECT on an in-VPC peer's interface: api -> cache:6379 leaves api (ACCEPT, unanswered), refused at the cache", () => {
    for (const env of EXAMPLE_ENVS) {
      const api = hostNamed(env, 'api');
      const cache = hostNamed(env, 'cache');
      const refused = recs(env).filter((r) => r['interface-id'] === cache.interfaceId && r.action === 'REJECT' && r.srcaddr === api.ipv4);
      expect(refused.length, env).toBe(4);
      const left = recs(env).filter((r) => r['interface-id'] === api.interfaceId && r.dstaddr === cache.ipv4 && r.action === 'ACCEPT');
      expect(left.length, env).toBe(4);
      expect(
        recs(env).some((r) => r['interface-id'] === api.interfaceId && r.srcaddr === cache.ipv4),
        env,
      ).toBe(false);
      expect(rejectedOf(env, 'api').map((e) => `${e.destination} ${e.port} ${e.flows}`)).toEqual([`${cache.ipv4}/32 6379 4`]);
      expect(egressOf(env, 'api').some((e) => e.destination === `${cache.ipv4}/32`)).toBe(false);
      // web does use the cache: the same destination and port is web's egress.
      expect(egressOf(env, 'web').some((e) => e.destination === `${cache.ipv4}/32` && e.port === 6379)).toBe(true);
    }
  });

  it("inbound attempts refused at the workload (scanner -> web:22) are not the workload's rejected egress", () => {
    for (const env of ['dev', 'stg'] as const) {
      const scanner = hostNamed(env, 'scanner').ipv4;
      const refused = recs(env).filter(
        (r) => r.action === 'REJECT' && r.srcaddr === scanner && r.dstport === '22' && ownEnis(env, 'web').has(r['interface-id']!),
      );
      expect(refused.length, env).toBe(4);
      expect(rejectedOf(env, 'web').some((e) => e.port === 22)).toBe(false);
      expect(truths.get(env)!.egress.some((e) => e.destination === `${scanner}/32`)).toBe(false);
    }
  });

  it('keep-alive connections span many records: SYN first, 0 in between, FIN last', () => {
    for (const env of ['dev', 'prod'] as const) {
      const api = hostNamed(env, 'api');
      const byPort = new Map<string, Rec[]>();
      for (const r of recs(env)) {
        if (r['interface-id'] !== api.interfaceId || r.srcaddr !== api.ipv4 || r.dstport !== '5432') continue;
        const list = byPort.get(r.srcport!) ?? [];
        list.push(r);
        byPort.set(r.srcport!, list);
      }
      const long = [...byPort.values()].filter((l) => l.length >= 20 && l[0]!['tcp-flags'] === '2');
      expect(long.length, env).toBeGreaterThan(10);
      const conn = long[3]!;
      expect(conn.slice(1, -1).every((r) => r['tcp-flags'] === '0')).toBe(true);
      expect(Number(conn[conn.length - 1]!['tcp-flags']) & 1).toBe(1);
    }
  });

  it('a connection opened before the window is egress from its in-window records (no SYN inside)', () => {
    for (const env of EXAMPLE_ENVS) {
      const own = ownEnis(env, 'web');
      const stream = recs(env).filter((r) => own.has(r['interface-id']!) && r.dstaddr === '203.0.113.40');
      const before = stream.filter((r) => !inWindow(r));
      const inside = stream.filter(inWindow);
      expect(utcDate(Number(before[0]!.start))).toBe('2026-11-07');
      if (env !== 'stg') {
        expect(before[0]!['tcp-flags']).toBe('2');
        expect(inside.every((r) => r['tcp-flags'] === '0' || r['tcp-flags'] === '1')).toBe(true);
      }
      expect(recs(env).some((r) => inWindow(r) && r.srcaddr === '203.0.113.40' && own.has(r['interface-id']!))).toBe(true);
      const e = egressOf(env, 'web').find((x) => x.destination === '203.0.113.40/32')!;
      expect(e.firstSeen).toBe('2026-11-08');
      expect(e.flows).toBe(inside.length);
    }
  });

  it('a destination seen only before the window is not egress, even when its record sits in a 2026/11/08 file', () => {
    for (const env of EXAMPLE_ENVS) {
      const gone = recs(env).filter((r) => r.dstaddr === '203.0.113.66' || r['pkt-dstaddr'] === '203.0.113.66');
      expect(gone.length, env).toBeGreaterThan(0);
      expect(gone.every((r) => !inWindow(r))).toBe(true);
      expect(gone.some((r) => r.file.includes('/2026/11/08/'))).toBe(true);
      expect(truths.get(env)!.egress.some((e) => e.destination === '203.0.113.66/32')).toBe(false);
    }
  });

  it('a beacon: small flows every 300 s (+-2 s) to 198.51.100.200:4444 (dev batch, prod web)', () => {
    for (const [env, w, min] of [
      ['dev', 'batch', 1000],
      ['prod', 'web', 400],
    ] as const) {
      const own = ownEnis(env, w);
      const starts = recs(env)
        .filter((r) => own.has(r['interface-id']!) && r.dstaddr === '198.51.100.200' && r.dstport === '4444')
        .map((r) => Number(r.start))
        .sort((a, b) => a - b);
      expect(starts.length, env).toBeGreaterThanOrEqual(min);
      for (let i = 1; i < starts.length; i++) {
        expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(298);
        expect(starts[i]! - starts[i - 1]!).toBeLessThanOrEqual(302);
      }
      const e = egressOf(env, w).find((x) => x.destination === '198.51.100.200/32')!;
      expect(e.bytes / e.flows).toBeLessThan(500);
    }
  });

  it('a volume spike: batch -> 203.0.113.99:443 moves about fifty times its baseline on 2026-11-19 (dev)', () => {
    const own = ownEnis('dev', 'batch');
    const perDay = new Map<string, number>();
    for (const r of recs('dev')) {
      if (!inWindow(r) || !own.has(r['interface-id']!) || r.dstaddr !== '203.0.113.99') continue;
      const d = utcDate(Number(r.start));
      perDay.set(d, (perDay.get(d) ?? 0) + Number(r.bytes));
    }
    const spike = perDay.get('2026-11-19')!;
    const others = [...perDay.entries()]
      .filter(([d]) => d !== '2026-11-19')
      .map(([, b]) => b)
      .sort((a, b) => a - b);
    const median = others[Math.floor(others.length / 2)]!;
    expect(spike / median).toBeGreaterThan(40);
    expect(spike / median).toBeLessThan(70);
  });

  it('AWS services: S3 over the gateway endpoint (traffic-path 7), DynamoDB, Secrets Manager at an endpoint ENI', () => {
    for (const env of EXAMPLE_ENVS) {
      for (const w of ['web', 'batch']) expect(egressOf(env, w).filter((e) => e.service === 'S3').length, `${env} ${w}`).toBeGreaterThan(1);
      expect(egressOf(env, 'api').filter((e) => e.service === 'DYNAMODB').length, env).toBeGreaterThan(1);
      const endpoints = hostsOf(env).filter((h) => h.role === 'endpoint');
      for (const ep of endpoints) {
        expect(egressOf(env, 'api').find((e) => e.destination === `${ep.ipv4}/32`)).toMatchObject({ port: 443, service: null });
        expect(recs(env).some((r) => r['interface-id'] === ep.interfaceId && r.srcaddr === hostNamed(env, 'api').ipv4)).toBe(true);
      }
    }
    for (const env of ['dev', 'prod'] as const) {
      expect(
        recs(env).some(
          (r) => r['pkt-dst-aws-service'] === 'S3' && r['traffic-path'] === '7' && ownEnis(env, 'batch').has(r['interface-id']!),
        ),
      ).toBe(true);
      expect(recs(env).some((r) => r['pkt-dst-aws-service'] === 'DYNAMODB' && r['traffic-path'] === '7')).toBe(true);
      const ep = hostsOf(env).find((h) => h.role === 'endpoint')!;
      expect(
        recs(env)
          .filter((r) => r['interface-id'] === ep.interfaceId)
          .every((r) => r['instance-id'] === '-' && r['account-id'] === 'unknown'),
      ).toBe(true);
    }
  });

  it('ICMP echo: api pings the database (ports 0), nobody pings api', () => {
    for (const env of EXAMPLE_ENVS) {
      const icmp = recs(env).filter((r) => r.protocol === '1');
      expect(icmp.length, env).toBeGreaterThan(100);
      expect(icmp.every((r) => r.srcport === '0' && r.dstport === '0')).toBe(true);
      const db = hostNamed(env, 'db');
      const requests = icmp.filter((r) => r['interface-id'] === db.interfaceId && r.dstaddr === db.ipv4);
      expect(new Set(requests.map((r) => r.srcaddr))).toEqual(new Set([hostNamed(env, 'api').ipv4]));
      const e = egressOf(env, 'api').find((x) => x.protocol === 'icmp')!;
      expect(e.destination).toBe(`${db.ipv4}/32`);
      expect('port' in e).toBe(false);
    }
  });

  it('UDP to a partner on a service port (api -> 198.51.100.90 udp/1812)', () => {
    for (const env of EXAMPLE_ENVS) {
      expect(
        egressOf(env, 'api').some((e) => e.protocol === 'udp' && e.port === 1812 && e.destination === '198.51.100.90/32'),
        env,
      ).toBe(true);
    }
  });

  it('never-logged traffic is absent; the few link-local records (dev) are not egress', () => {
    for (const env of EXAMPLE_ENVS) {
      const o = { dev: 20, stg: 30, prod: 40 }[env];
      const never = new Set(['169.254.169.254', '169.254.169.123', '169.254.169.253', `10.${o}.0.2`]);
      expect(
        recs(env).some((r) => never.has(r.srcaddr!) || never.has(r.dstaddr!)),
        env,
      ).toBe(false);
      expect(truths.get(env)!.egress.some((e) => e.destination.startsWith('169.254.'))).toBe(false);
    }
    const linkLocal = recs('dev').filter((r) => r.dstaddr?.startsWith('169.254.'));
    expect(linkLocal.length).toBeGreaterThan(0);
    expect(linkLocal.length).toBeLessThan(5);
  });

  it('a few malformed lines per environment, exactly where the truth says', () => {
    for (const env of EXAMPLE_ENVS) {
      const broken = parsed.get(env)!.broken;
      expect(broken.length, env).toBeGreaterThanOrEqual(2);
      expect(broken.length, env).toBeLessThanOrEqual(5);
      expect(new Set(broken.map((b) => b.file)).size, env).toBeGreaterThanOrEqual(2);
      expect(broken).toEqual(truths.get(env)!.malformedLines);
    }
  });

  it('client ports stay in their OS ranges, so port heuristics are sound in stg (Windows batch)', () => {
    const stg = recs('stg');
    const inRange = (r: Rec, lo: number, hi: number): boolean => Number(r.srcport) >= lo && Number(r.srcport) <= hi;
    const requestsFrom = (w: Workload): Rec[] =>
      stg.filter(
        (r) =>
          ownEnis('stg', w).has(r['interface-id']!) &&
          addressesOf('stg', w).has(r.srcaddr!) &&
          Number(r.dstport) < 10000 &&
          r.protocol === '6' &&
          !['80', '8080'].includes(r.srcport!),
      );
    expect(requestsFrom('batch').length).toBeGreaterThan(100);
    expect(requestsFrom('batch').every((r) => inRange(r, 49152, 65535))).toBe(true);
    expect(requestsFrom('web').every((r) => inRange(r, 32768, 60999))).toBe(true);
    expect(requestsFrom('api').every((r) => inRange(r, 32768, 60999) || r.srcport === '8080')).toBe(true);
    const service = new Set(['22', '80', '123', '443', '1812', '4444', '5432', '6379', '8080', '8443']);
    const albs = new Set(
      hostsOf('stg')
        .filter((h) => h.role === 'alb')
        .map((h) => h.ipv4),
    );
    const albRequests = stg.filter((r) => albs.has(r.srcaddr!) && r['interface-id'] !== undefined && r.dstport === '80');
    expect(albRequests.length).toBeGreaterThan(100);
    expect(albRequests.every((r) => Number(r.srcport) >= 1024 && !service.has(r.srcport!))).toBe(true);
  });
});
