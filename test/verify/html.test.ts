/**
 * report --format html in headless Chromium: the page loads with no request of any kind (every request would go to
 * a counting proxy, and a control page proves it would), its Content-Security-Policy forbids them, and the numbers
 * in the rendered DOM are the JSON document's. CI installs chromium (.ci/run): a missing browser fails this test.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportDocument } from '../../verify/report.js';
import { runCli } from '../validate/org.js';
import { dumpDom, elements } from '../chromium.js';

const root = join(import.meta.dirname, '..', '..');

let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'leastpath-html-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('report --format html in headless Chromium', () => {
  it('the counting proxy sees a page that fetches something, and the CSP stops it (controls)', async () => {
    const control = join(dir, 'control.html');
    await writeFile(control, '<!DOCTYPE html><html><body><img src="http://leastpath.invalid/x.png"></body></html>');
    expect((await dumpDom(control, dir)).requests).toContain('leastpath.invalid');
    // ...and that the report's Content-Security-Policy stops the same request.
    const guarded = join(dir, 'guarded.html');
    await writeFile(
      guarded,
      `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"></head><body><img src="http://leastpath.invalid/x.png"></body></html>`,
    );
    expect((await dumpDom(guarded, dir)).requests).toEqual([]);
  });

  it('loads with no request at all, and shows the JSON numbers', async () => {
    const json = JSON.parse(
      (await runCli(['--root', root, 'report', '--env', 'dev', '--to', '2026-11-21', '--format', 'json'])).stdout,
    ) as ReportDocument;
    const html = (await runCli(['--root', root, 'report', '--env', 'dev', '--to', '2026-11-21', '--format', 'html'])).stdout;
    expect(html).not.toMatch(/<script|<link|\bsrc=|url\(|@import|https?:\/\//i);
    const page = join(dir, 'report.html');
    await writeFile(page, html);
    const { dom, requests } = await dumpDom(page, dir);
    expect(requests, 'requests the page made').toEqual([]);

    expect(dom).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    );
    expect(dom).toContain('<title>leastpath report: dev</title>');

    const tiles = Object.fromEntries(elements(dom, 'div', 'tile(?: warn)?').map((t) => [t['data-key'], Number(t['data-value'])]));
    expect(tiles).toEqual({
      hits: json.summary.hits,
      counted: json.summary.counted,
      unused: json.summary.unused,
      notCounted: json.summary.notCounted,
      rejected: json.summary.rejected,
      anomalies: json.summary.anomalies,
    });

    const bars = elements(dom, 'g', 'rule');
    expect(bars.map((b) => [b['data-group'], b['data-peer'], b['data-hits'] === '' ? null : Number(b['data-hits'])])).toEqual(
      json.rules.map((r) => [r.group, r.peer, r.hits]),
    );
    // The label drawn next to each bar is the same number.
    const labels = [...dom.matchAll(/<g class="rule" [^>]*>(?:(?!<\/g>)[\s\S])*?<text class="(?:axis )?value"[^>]*>([^<]*)<\/text>/g)].map(
      (m) => m[1],
    );
    expect(labels).toEqual(json.rules.map((r) => (!r.counted ? 'not counted' : r.hits === 0 ? '0 (unused)' : String(r.hits))));

    const charts = elements(dom, 'svg', 'flows-chart');
    const totals = new Map<string, number>();
    for (const d of json.daily) totals.set(d.workload, (totals.get(d.workload) ?? 0) + d.flows.reduce((a, b) => a + b, 0));
    expect(charts.map((c) => [c['data-workload'], Number(c['data-total'])])).toEqual([...totals]);

    const rows = elements(dom, 'tr', 'anomaly');
    expect(
      rows.map((a) => [a['data-kind'], a['data-workload'], a['data-destination'], Number(a['data-flows']), Number(a['data-bytes'])]),
    ).toEqual(json.anomalies.map((a) => [a.kind, a.workload, a.destination, a.flows, a.bytes]));
    expect(elements(dom, 'g', 'anomaly-mark')).toHaveLength(json.anomalies.length);
    expect(elements(dom, 'tr', 'rejected').map((r) => Number(r['data-flows']))).toEqual(json.rejected.map((r) => r.flows));
  });
});
