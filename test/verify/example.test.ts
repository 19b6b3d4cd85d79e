/** report on the example organisation: exactly the anomalies its generator planted, and byte-identical re-runs. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReportDocument } from '../../verify/report.js';
import { runCli } from '../validate/org.js';

const root = join(import.meta.dirname, '..', '..');
const report = (env: string, format: string) => runCli(['--root', root, 'report', '--env', env, '--to', '2026-11-21', '--format', format]);

describe('report on the example organisation', () => {
  it('finds exactly the planted beacons and volume spike; keep-alive pools, ALB sessions, nightly jobs and the long webhook do not fire', async () => {
    const found: string[] = [];
    for (const env of ['dev', 'stg', 'prod']) {
      const run = await report(env, 'json');
      const doc = JSON.parse(run.stdout) as ReportDocument;
      expect(run.code, run.stderr.join('\n')).toBe(doc.anomalies.length > 0 ? 1 : 0);
      for (const a of doc.anomalies) found.push(`${env} ${a.workload} ${a.kind} ${a.destination} ${a.protocol}/${a.port}`);
      expect(doc.window).toMatchObject({ from: '2026-11-08', to: '2026-11-21', days: 14 });
      // Gateway-endpoint and interface-endpoint rules are not counted, and so never unused.
      for (const r of doc.rules.filter((x) => x.peer.startsWith('service:'))) expect(r).toMatchObject({ counted: false, hits: null });
      expect(doc.unused.every((r) => r.counted)).toBe(true);
    }
    // The beacons' implants also tunnel through DNS, and dev's web lost a package mirror (NXDOMAIN burst).
    expect(found).toEqual([
      'dev batch beacon 198.51.100.200/32 tcp/4444',
      'dev batch volume 203.0.113.99/32 tcp/443',
      'dev batch dns-tunnel exfil-cdn.test udp/53',
      'dev web nxdomain-burst example.org udp/53',
      'prod web beacon 198.51.100.200/32 tcp/4444',
      'prod web dns-tunnel exfil-cdn.test udp/53',
    ]);
  });

  it('says why: the spike against its baseline, the beacon period and jitter', async () => {
    const doc = JSON.parse((await report('dev', 'json')).stdout) as ReportDocument;
    const volume = doc.anomalies.find((a) => a.kind === 'volume')!;
    expect(volume).toMatchObject({ from: '2026-11-19', baseline: { days: 13, of: 'destination' } });
    expect(volume.why).toMatch(
      /^sent 212\.\d MB on 2026-11-19 \(mostly tcp\/443\), 4\d\.\d times its median day of 5\.0 MB to this destination over 13 other day\(s\)$/,
    );
    const beacon = doc.anomalies.find((a) => a.kind === 'beacon')!;
    expect(beacon.periodSeconds).toBeCloseTo(300, 0);
    expect(beacon.jitter).toBeLessThan(0.01);
    expect(beacon.why).toMatch(/one every 300 s \(jitter 0\.\d%/);
  });

  it('is deterministic: the same input gives the same bytes, in every format', async () => {
    for (const format of ['json', 'md', 'html']) {
      const a = await report('dev', format);
      const b = await report('dev', format);
      expect(a.stdout.length).toBeGreaterThan(100);
      expect(a.stdout === b.stdout, format).toBe(true);
    }
  });
});
