/**
 * plan --format html in headless Chromium: one self-contained page (no request of any kind), what would break
 * first, the rule diff against git HEAD, exceptions and their expiry, and every rule linked to its file and line.
 * The repository is a git copy of the example with one rule added and one removed after the commit.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../generators/plan.js';
import { dumpDom, elements } from '../chromium.js';
import { runCli } from '../validate/org.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
let dir = '';
let repo = '';

const WEB = 'policies/dev/workloads/web.yaml';
const ADDED = '  - to: { cidrs: [192.0.2.10/32] }\n    ports: [tcp/8443]\n    why: health checks of a partner\n';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'leastpath-plan-html-'));
  repo = join(dir, 'repo');
  for (const d of ['policies', 'observed']) await cp(join(root, d), join(repo, d), { recursive: true });
  const git = (...args: string[]) =>
    run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: repo });
  await git('init', '-q');
  await git('add', '-A');
  await git('commit', '-qm', 'baseline');
  // After the commit: a rule added as the first egress entry (line 5), the sqs rule removed.
  const web = await readFile(join(repo, WEB), 'utf8');
  const edited = web.replace('egress:\n', `egress:\n${ADDED}`).replace('  - to: { service: sqs }\n    why: enqueues e-mail jobs\n', '');
  expect(edited).not.toBe(web);
  expect(edited).not.toContain('sqs');
  await writeFile(join(repo, WEB), edited);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('plan --format html', () => {
  it('is one page that loads with no request, breaks first, and shows the JSON plan', async () => {
    const json = JSON.parse((await runCli(['--root', repo, 'plan', '--env', 'dev', '--format', 'json'])).stdout) as PlanDocument;
    const out = await runCli(['--root', repo, 'plan', '--env', 'dev', '--format', 'html']);
    expect(out.code, out.stderr.join('\n')).toBe(0);
    const html = out.stdout;
    expect(html).not.toMatch(/<script|<link|\bsrc=|url\(|@import|https?:\/\//i);
    // Deterministic: the same repository gives the same bytes.
    expect((await runCli(['--root', repo, 'plan', '--env', 'dev', '--format', 'html'])).stdout).toBe(html);
    const page = join(dir, 'plan.html');
    await writeFile(page, html);
    const { dom, requests } = await dumpDom(page, dir);
    expect(requests, 'requests the page made').toEqual([]);
    expect(dom).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    );
    expect(dom).toContain('<title>leastpath plan: dev</title>');

    // What would break comes before the rule diff, the exceptions and the rules.
    const at = (id: string) => dom.indexOf(`<section id="${id}">`);
    expect(json.whatIf.denied.length).toBeGreaterThan(0);
    expect(at('breaks')).toBeGreaterThan(0);
    expect(at('breaks')).toBeLessThan(at('changes'));
    expect(at('changes')).toBeLessThan(at('exceptions'));
    expect(at('exceptions')).toBeLessThan(at('rules'));
    expect(dom).toMatch(new RegExp(`<p class="headline breaks" id="headline">This change would break ${json.whatIf.deniedFlows} flows`));

    const tiles = Object.fromEntries(elements(dom, 'div', 'tile(?: warn)?').map((t) => [t['data-key'], Number(t['data-value'])]));
    expect(tiles).toEqual({
      breaksFlows: json.summary.breaksFlows,
      breaksWorkloads: json.summary.breaksWorkloads,
      rules: json.summary.rules,
      added: json.changes.added.length,
      removed: json.changes.removed.length,
      exceptions: json.exceptions.length,
      expiringSoon: json.exceptions.filter((e) => e.expiringSoon).length,
    });
    expect(elements(dom, 'tr', 'denied').map((d) => [d['data-workload'], d['data-destination'], Number(d['data-flows'])])).toEqual(
      json.whatIf.denied.map((d) => [d.workload, d.destination, d.flows]),
    );
    expect(elements(dom, 'tr', 'rule').map((r) => [r['data-workload'], r['data-destination'], r['data-ports']])).toEqual(
      json.rules.map((r) => [r.workload, r.destination, r.ports === 'all' ? r.protocol : `${r.protocol}/${r.ports}`]),
    );
    expect(
      elements(dom, 'tr', 'exception(?: soon)?').map((e) => [e['data-destination'], e['data-expires'], Number(e['data-days-left'])]),
    ).toEqual(json.exceptions.map((e) => [e.destination, e.expires, e.daysLeft]));

    // The diff: the added rule, linked to the line it was written on; the removed one, with no link into today's file.
    expect(json.changes.added.map((r) => [r.workload, r.destination])).toEqual([['web', '192.0.2.10/32']]);
    expect(json.changes.removed.map((r) => [r.workload, r.destination])).toEqual([['web', 'service:sqs']]);
    expect(elements(dom, 'tr', 'added').map((r) => r['data-destination'])).toEqual(['192.0.2.10/32']);
    expect(elements(dom, 'tr', 'removed').map((r) => r['data-destination'])).toEqual(['service:sqs']);
    const addedRow = dom.slice(dom.indexOf('<tr class="added"'), dom.indexOf('</tr>', dom.indexOf('<tr class="added"')));
    expect(addedRow).toContain(`href="${WEB}#L5"`);
    const removedRow = dom.slice(dom.indexOf('<tr class="removed"'), dom.indexOf('</tr>', dom.indexOf('<tr class="removed"')));
    expect(removedRow).not.toContain('href=');
  });

  it('links every rule and exception to a line of its file that holds it (relative to the repository root)', async () => {
    const html = (await runCli(['--root', repo, 'plan', '--env', 'dev', '--format', 'html'])).stdout;
    const links = elements(html, 'a', 'source');
    const json = JSON.parse((await runCli(['--root', repo, 'plan', '--env', 'dev', '--format', 'json'])).stdout) as PlanDocument;
    // Every current rule (the rules, the added ones) and every exception has one.
    expect(links).toHaveLength(json.rules.length + json.changes.added.length + json.exceptions.length);
    for (const a of links) {
      expect(a.href).toBe(`${a['data-file']}#L${a['data-line']}`);
      const lines = (await readFile(join(repo, a['data-file']!), 'utf8')).split('\n');
      const line = lines[Number(a['data-line']) - 1]!;
      // A rule's line starts its egress entry; an exception's line holds the exception.
      expect(line, `${a.href}`).toMatch(/^\s*- |^\s*exception:/);
    }
    // The example's one exception, on web's 0.0.0.0/0 rule: its link lands on the exception's own line.
    const row = html.slice(html.indexOf('<tr class="exception'), html.indexOf('</tr>', html.indexOf('<tr class="exception')));
    const exception = elements(row, 'a', 'source')[0]!;
    expect(exception['data-file']).toBe(WEB);
    const webLines = (await readFile(join(repo, WEB), 'utf8')).split('\n');
    expect(webLines[Number(exception['data-line']) - 1]).toContain('exception: { reason: "customer-defined webhook URLs"');
  });
});
