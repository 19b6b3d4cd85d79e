/**
 * Issue 14, cases 3 and 4, through the real CLI: a record is input, not truth (a port, protocol or time out of range
 * is a malformed line, named with its file and line, never a wider rule), and a header field leastpath does not know
 * is read past with one warning.
 */
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../validate/org.js';
import { exchange, line, T0, V5, writeOrg, type Line, type Rec } from './helpers.js';

const WEB = '10.0.1.10';
const ENI = 'eni-0web';

/** A good connection of web to 203.0.113.10:443 (handshake seen), so that the file is mostly well-formed. */
const good = (i: number): Rec[] =>
  exchange({ eni: ENI, src: WEB, sport: 50000 + i, dst: '203.0.113.10', dport: 443, start: T0 + i * 120, flags: [2, 18] });

/** An accepted exchange of web to 198.51.100.9 whose request record has `over` (both records take the protocol). */
function odd(over: Rec, protocol = 6): Rec[] {
  const [req, rep] = exchange({
    eni: ENI,
    src: WEB,
    sport: 40001,
    dst: '198.51.100.9',
    dport: 8443,
    protocol,
    start: T0 + 7200,
    flags: [2, 18],
  });
  return [{ ...req!, ...over }, rep!];
}

async function observe(records: Line[], fields = V5) {
  const root = await writeOrg({ minCoverage: 0, logs: [{ name: 'a.log', fields, records }] });
  const run = await runCli(['--root', root, 'observe', '--env', 'dev', '--to', '2026-11-21']);
  const observed = await readFile(join(root, 'observed/dev/web.yaml'), 'utf8').catch(() => '');
  return { root, run, observed };
}

describe('a record out of range is a malformed line, with file and line, and never a rule', () => {
  it.each([
    ['dstport 0 of a tcp record', { dstport: 0 }, 6, 'dstport 0 of a tcp or udp record is outside 1-65535'],
    ['dstport 0 of a udp record', { dstport: 0 }, 17, 'dstport 0 of a tcp or udp record is outside 1-65535'],
    ['srcport - (absent) of a tcp record', { srcport: '-' }, 6, 'srcport - of a tcp or udp record is outside 1-65535'],
    ['a negative dstport', { dstport: -443 }, 6, 'dstport -443 is not a whole number'],
    ['dstport 70000', { dstport: 70000 }, 6, 'dstport 70000 is above 65535'],
    ['a fractional dstport (DuckDB would round 1.5 to 2)', { dstport: '1.5' }, 6, 'dstport 1.5 is not a whole number'],
    ['dstport 1e3', { dstport: '1e3' }, 6, 'dstport 1e3 is not a whole number'],
    ['protocol 300', { protocol: 300 }, 6, 'protocol 300 is outside 0-255'],
    [
      'start in milliseconds',
      { start: (T0 + 7200) * 1000, end: (T0 + 7260) * 1000 },
      6,
      `start ${(T0 + 7200) * 1000} is not a time in epoch seconds (milliseconds?)`,
    ],
    [
      'start more than 60 s after end',
      { start: T0 + 7200, end: T0 + 7139 },
      6,
      `start ${T0 + 7200} is more than 60 s after end ${T0 + 7139}`,
    ],
  ] as [string, Rec, number, string][])('%s', async (_name, over, protocol, why) => {
    const records = [...good(0), ...good(1), ...odd(over, protocol), ...good(2), ...good(3)];
    const { run, observed } = await observe(records);
    expect(run.code, run.stderr.join('\n')).toBe(0);
    // line 1 is the header, lines 2-5 the good records: the odd request is line 6
    expect(run.stderr).toContain(`logs/a.log:6:1: <record>: warning: malformed flow-log record skipped: ${why}`);
    expect(run.stdout).toContain('1 malformed lines skipped');
    // Only the good destination: no portless tcp entry, no tcp/70000, no protocol 300, no tcp/2.
    expect(observed).toContain('destination: 203.0.113.10/32');
    expect(observed).not.toContain('198.51.100.9');
  });

  it('ICMP records keep their ports of 0 (a portless protocol), and are not malformed', async () => {
    const icmp = exchange({ eni: ENI, src: WEB, sport: 0, dst: '10.0.5.5', dport: 0, protocol: 1, start: T0 });
    const { run, observed } = await observe([...good(0), ...icmp]);
    expect(run.code, run.stderr.join('\n')).toBe(0);
    expect(run.stderr.filter((l) => l.includes('malformed'))).toEqual([]);
    expect(observed).toContain('destination: 10.0.5.5/32\n    protocol: icmp');
  });

  it('the file observe writes passes validate (before, dstport 70000 was written and then refused)', async () => {
    // both directions carry the port, so that the conversation is accepted both ways
    const wide = exchange({ eni: ENI, src: WEB, sport: 40001, dst: '198.51.100.9', dport: 70000, start: T0 + 7200, flags: [2, 18] });
    const { root, run, observed } = await observe([...good(0), ...wide, ...good(1)]);
    expect(observed).not.toContain('198.51.100.9');
    expect(run.code).toBe(0);
    const v = await runCli(['--root', root, 'validate']);
    expect(v.stderr.filter((l) => l.startsWith('observed/'))).toEqual([]);
    expect(v.code).toBe(0);
  });
});

describe('synth and validate refuse a tcp/udp observed entry without a port (defence in depth)', () => {
  const portless = [
    '# generated by leastpath observe: do not edit',
    'workload: web',
    'environment: dev',
    'window: { from: 2026-11-08, to: 2026-11-21 }',
    'source: { engine: duckdb, records: 4, skippedWindows: 0 }',
    'egress:',
    '  - destination: 198.51.100.9/32',
    '    protocol: tcp',
    '    service: null',
    '    flows: 1',
    '    bytes: 1000',
    '    firstSeen: 2026-11-10',
    '    lastSeen: 2026-11-10',
    '    decidedBy: tcp-flags',
    'rejected: []',
    '',
  ].join('\n');

  it('validate names the entry with file, line and column; synth and plan refuse it and write nothing', async () => {
    const root = await writeOrg({ minCoverage: 0, logs: [{ name: 'a.log', records: good(0) }], observed: { web: portless } });
    const v = await runCli(['--root', root, 'validate']);
    expect(v.code).toBe(1);
    expect(v.stderr).toContain(
      'observed/dev/web.yaml:7:5: egress[0]: a tcp entry without a port would allow every port: no flow log records that; re-run leastpath observe',
    );
    const s = await runCli(['--root', root, 'synth', '--env', 'dev']);
    expect(s.code).toBe(1);
    expect(s.stderr.join('\n')).toContain('observed/dev/web.yaml:7:5: egress[0]: a tcp entry without a port');
    await expect(readFile(join(root, 'cdktf.out/stacks/dev/cdk.tf.json'))).rejects.toThrow();
  });
});

describe('a header field leastpath does not know is read past, with one warning naming it', () => {
  it('two new fields in two files: one warning, the records read as before (it failed the run)', async () => {
    const fields = [...V5.slice(0, 5), 'v9-future-field', ...V5.slice(5), 'another-new-one'];
    const withNew = (recs: Rec[]) => recs.map((r) => line(fields, { ...r, 'v9-future-field': 'x', 'another-new-one': '42' }));
    const root = await writeOrg({
      minCoverage: 0,
      logs: [
        { name: 'a.log', fields, records: withNew(good(0)) },
        { name: 'b.log', fields, records: withNew(good(1)) },
      ],
    });
    const run = await runCli(['--root', root, 'observe', '--env', 'dev', '--to', '2026-11-21']);
    expect(run.code, run.stderr.join('\n')).toBe(0);
    expect(run.stderr).toEqual([
      'logs/a.log:1:1: <header>: warning: unknown flow-log fields read past, not used: another-new-one, v9-future-field (and 1 more file)',
    ]);
    const observed = await readFile(join(root, 'observed/dev/web.yaml'), 'utf8');
    expect(observed).toContain('destination: 203.0.113.10/32\n    protocol: tcp\n    port: 443');
    expect(observed).toContain('source: { engine: duckdb, records: 4, skippedWindows: 0 }');
    // report reads the same files, and says the same once
    const report = await runCli(['--root', root, 'report', '--env', 'dev', '--to', '2026-11-21', '--format', 'json']);
    expect(report.stderr).toContain(
      'logs/a.log:1:1: <header>: warning: unknown flow-log fields read past, not used: another-new-one, v9-future-field (and 1 more file)',
    );
    expect(report.code, report.stderr.join('\n')).toBe(0);
  });

  it('a first line with no flow-log field at all is still no header: the file is named', async () => {
    const root = await writeOrg({ minCoverage: 0, logs: [{ name: 'a.log', records: good(0) }] });
    await writeFile(join(root, 'logs/a.log'), 'hello world\n');
    const run = await runCli(['--root', root, 'observe', '--env', 'dev', '--to', '2026-11-21']);
    expect(run.code).toBe(2);
    expect(run.stderr.join('\n')).toContain(
      'logs/a.log:1:1: <root>: unknown field "hello" in the header (field 1), and no field of a flow log',
    );
  });
});

describe('a file or folder under a pattern that cannot be read is an error naming it (it was skipped, exit 0)', () => {
  it('a folder under a ** pattern that cannot be read (a symlink loop): named, observed/ not written', async () => {
    const root = await writeOrg({ minCoverage: 0, logs: [{ name: '2026/11/a.log', records: good(0) }], patterns: ['../../logs/**/*.log'] });
    await mkdir(join(root, 'logs/2026/12'));
    await symlink('loop', join(root, 'logs/2026/12/loop'));
    const run = await runCli(['--root', root, 'observe', '--env', 'dev', '--to', '2026-11-21']);
    expect(run.stderr.join('\n')).toContain(
      'policies/dev/environment.yaml:7:39: flowLogs.files[0]: cannot read logs/2026/12/loop under "logs/**/*.log" (ELOOP): its flow logs would go unread',
    );
    expect(run.code).toBe(2);
    await expect(readFile(join(root, 'observed/dev/web.yaml'))).rejects.toThrow();
  });

  it('a readable tree under the same pattern is read as before', async () => {
    const root = await writeOrg({ minCoverage: 0, logs: [{ name: '2026/11/a.log', records: good(0) }], patterns: ['../../logs/**/*.log'] });
    const run = await runCli(['--root', root, 'observe', '--env', 'dev', '--to', '2026-11-21']);
    expect(run.code, run.stderr.join('\n')).toBe(0);
  });
});
