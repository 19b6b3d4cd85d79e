/**
 * report --format html in headless Chromium: the page loads with no request of any kind (every request would go to
 * a counting proxy, and a control page proves it would), its Content-Security-Policy forbids them, and the numbers
 * in the rendered DOM are the JSON document's. CI installs chromium (.ci/run): a missing browser fails this test.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportDocument } from '../../verify/report.js';
import { runCli } from '../validate/org.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');

/** The Chromium binary: $CHROMIUM, or the first of the usual names on PATH. */
function findChromium(): string {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    for (const name of ['chromium', 'chromium-browser', 'google-chrome']) if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error('chromium not found: install it (apt-get install -y chromium, as .ci/run does) or set CHROMIUM');
}

let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'leastpath-html-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Chromium's own background calls (network time, component updates, sign-in), which some builds make despite
 * --disable-background-networking and --disable-component-update. They are the browser's, not the page's.
 */
const BROWSER_OWN = /^(?:[a-z0-9-]+\.)*(?:google\.com|googleapis\.com|gstatic\.com|gvt1\.com)(?::\d+)?$/;

/**
 * Loads a file in headless Chromium with every request routed to a proxy of its own that records each request's
 * host (and answers none); returns the DOM and the hosts the page asked for (the browser's own calls left out).
 */
async function dumpDom(file: string): Promise<{ dom: string; requests: string[] }> {
  const requests: string[] = [];
  const proxy: Server = createServer((socket) => {
    socket.once('data', (d) => {
      // `GET http://host/path HTTP/1.1` or `CONNECT host:443 HTTP/1.1`
      const target = d.toString('latin1').split(' ')[1] ?? '';
      const host = target.replace(/^[a-z]+:\/\//, '').split('/')[0]!;
      if (!BROWSER_OWN.test(host)) requests.push(host);
      socket.destroy();
    });
  });
  await new Promise<void>((done) => proxy.listen(0, '127.0.0.1', done));
  const port = (proxy.address() as { port: number }).port;
  const profile = await mkdtemp(join(dir, 'profile-'));
  try {
    const { stdout } = await run(
      findChromium(),
      [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--no-first-run', `--user-data-dir=${profile}`, `--proxy-server=http://127.0.0.1:${port}`, '--proxy-bypass-list=<-loopback>',
        '--virtual-time-budget=2000', '--dump-dom', pathToFileURL(file).href,
      ],
      { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
    );
    return { dom: stdout, requests };
  } finally {
    await new Promise<void>((done) => proxy.close(() => done()));
  }
}

/** Attributes of every element with `class="<cls>"` (start tags only). */
function elements(dom: string, tag: string, cls: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const m of dom.matchAll(new RegExp(`<${tag} class="${cls}"([^>]*)>`, 'g'))) {
    const attrs: Record<string, string> = {};
    for (const a of m[1]!.matchAll(/([\w-]+)="([^"]*)"/g)) attrs[a[1]!] = a[2]!.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    out.push(attrs);
  }
  return out;
}

describe('report --format html in headless Chromium', () => {
  it('the counting proxy sees a page that fetches something, and the CSP stops it (controls)', async () => {
    const control = join(dir, 'control.html');
    await writeFile(control, '<!DOCTYPE html><html><body><img src="http://leastpath.invalid/x.png"></body></html>');
    expect((await dumpDom(control)).requests).toContain('leastpath.invalid');
    // ...and that the report's Content-Security-Policy stops the same request.
    const guarded = join(dir, 'guarded.html');
    await writeFile(guarded, `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"></head><body><img src="http://leastpath.invalid/x.png"></body></html>`);
    expect((await dumpDom(guarded)).requests).toEqual([]);
  });

  it('loads with no request at all, and shows the JSON numbers', async () => {
    const json = JSON.parse((await runCli(['--root', root, 'report', '--env', 'dev', '--to', '2026-11-21', '--format', 'json'])).stdout) as ReportDocument;
    const html = (await runCli(['--root', root, 'report', '--env', 'dev', '--to', '2026-11-21', '--format', 'html'])).stdout;
    expect(html).not.toMatch(/<script|<link|\bsrc=|url\(|@import|https?:\/\//i);
    const page = join(dir, 'report.html');
    await writeFile(page, html);
    const { dom, requests } = await dumpDom(page);
    expect(requests, 'requests the page made').toEqual([]);

    expect(dom).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
    expect(dom).toContain('<title>leastpath report: dev</title>');

    const tiles = Object.fromEntries(elements(dom, 'div', 'tile(?: warn)?').map((t) => [t['data-key'], Number(t['data-value'])]));
    expect(tiles).toEqual({
      hits: json.summary.hits, counted: json.summary.counted, unused: json.summary.unused, notCounted: json.summary.notCounted,
      rejected: json.summary.rejected, anomalies: json.summary.anomalies,
    });

    const bars = elements(dom, 'g', 'rule');
    expect(bars.map((b) => [b['data-group'], b['data-peer'], b['data-hits'] === '' ? null : Number(b['data-hits'])])).toEqual(
      json.rules.map((r) => [r.group, r.peer, r.hits]),
    );
    // The label drawn next to each bar is the same number.
    const labels = [...dom.matchAll(/<g class="rule" [^>]*>(?:(?!<\/g>)[\s\S])*?<text class="(?:axis )?value"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(labels).toEqual(json.rules.map((r) => (!r.counted ? 'not counted' : r.hits === 0 ? '0 (unused)' : String(r.hits))));

    const charts = elements(dom, 'svg', 'flows-chart');
    const totals = new Map<string, number>();
    for (const d of json.daily) totals.set(d.workload, (totals.get(d.workload) ?? 0) + d.flows.reduce((a, b) => a + b, 0));
    expect(charts.map((c) => [c['data-workload'], Number(c['data-total'])])).toEqual([...totals]);

    const rows = elements(dom, 'tr', 'anomaly');
    expect(rows.map((a) => [a['data-kind'], a['data-workload'], a['data-destination'], Number(a['data-flows']), Number(a['data-bytes'])])).toEqual(
      json.anomalies.map((a) => [a.kind, a.workload, a.destination, a.flows, a.bytes]),
    );
    expect(elements(dom, 'g', 'anomaly-mark')).toHaveLength(json.anomalies.length);
    expect(elements(dom, 'tr', 'rejected').map((r) => Number(r['data-flows']))).toEqual(json.rejected.map((r) => r.flows));
  });
});
