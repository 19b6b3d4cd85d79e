/**
 * Issue 14, cases 1 and 6, through the real CLI on the bundled example: no records is not no traffic (an empty
 * window fails and leaves observed/ as it was; workloads whose logs stopped keep their evidence and are named), and
 * evidence can be rebuilt for an earlier window.
 */
import { execFileSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../../cli/main.js';
import { exampleCopy as copyOfExample, observedFiles } from '../example-copy.js';
import type { ObservedFile } from '../../model/types.js';

const root = join(import.meta.dirname, '..', '..');
const DEV_LOGS = 'examples/flow-logs/dev/AWSLogs/111111111111/vpcflowlogs/eu-west-1/2026/11';

const exampleCopy = () => copyOfExample('leastpath-evidence-');

async function cli(dir: string, args: string[], today = '2026-11-23'): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['--root', dir, ...args], { stdout: (s) => out.push(s), stderr: (l) => err.push(l) }, { LEASTPATH_TODAY: today });
  return { code, out: out.join(''), err: err.join('\n') };
}

async function observed(dir: string, env: string, workload: string): Promise<ObservedFile> {
  return parse(await readFile(join(dir, 'observed', env, `${workload}.yaml`), 'utf8')) as ObservedFile;
}

describe('issue 14 case 1: an empty window does not erase evidence', () => {
  it('observe over a window after the logs stopped fails (exit 1) naming the patterns, the files and the newest record; observed/ is byte-identical', async () => {
    const dir = await exampleCopy();
    const before = await observedFiles(dir);
    const r = await cli(dir, ['observe', '--env', 'dev', '--to', '2026-12-10'], '2026-12-12');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^policies\/dev\/environment\.yaml:11:10: flowLogs\.files: no flow-log records in the window 2026-11-27 \.\. 2026-12-10/,
    );
    expect(r.err).toContain('patterns "../../examples/flow-logs/dev/**/*.log.gz" matched 64 file(s)');
    expect(r.err).toMatch(/newest record seen: 2026-11-21T2\d:\d\d:\d\dZ/);
    expect(await observedFiles(dir)).toEqual(before);

    // run stops the same way before anything is written
    const run = await cli(dir, ['run', '--to', '2026-12-10'], '2026-12-12');
    expect(run.code).toBe(1);
    expect(await observedFiles(dir)).toEqual(before);
  });

  it('logs cut off after 5 days of the window: every workload keeps its evidence unchanged, is named as a gap, and observe exits 1', async () => {
    const dir = await exampleCopy();
    for (const day of ['13', '14', '15', '16', '17', '18', '19', '20', '21'])
      await rm(join(dir, DEV_LOGS, day), { recursive: true, force: true });
    const committed = await observed(dir, 'dev', 'web');
    const r = await cli(dir, ['observe', '--env', 'dev', '--to', '2026-11-21']);
    expect(r.code).toBe(1);
    for (const w of ['api', 'batch', 'web']) {
      expect(r.err).toContain(`observed/dev/${w}.yaml:1:1: coverage: ${w}'s interfaces logged records on 5 of 14 days of the window`);
      expect(r.err).toContain(`its evidence of 2026-11-08 .. 2026-11-21 was kept unchanged`);
    }
    const web = await observed(dir, 'dev', 'web');
    expect(web.egress).toEqual(committed.egress);
    expect(web.rejected).toEqual(committed.rejected);
    expect(web.coverage).toEqual({
      days: 14,
      covered: 5,
      gaps: ['2026-11-13', '2026-11-14', '2026-11-15', '2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20', '2026-11-21'],
      skippedWindows: expect.any(Number),
      kept: { from: '2026-11-08', to: '2026-11-21' },
    });
    // A second run over the same logs writes the same bytes (still the evidence of 2026-11-08 .. 2026-11-21).
    const bytes = await observedFiles(dir);
    expect((await cli(dir, ['observe', '--env', 'dev', '--to', '2026-11-21'])).code).toBe(1);
    expect(await observedFiles(dir)).toEqual(bytes);
  });
});

describe('issue 14 case 1: report over a window without records', () => {
  it('calls no rule unused: every counted rule is "no evidence"; a banner in md and html, window.noRecords in json, exit 1', async () => {
    const dir = await exampleCopy();
    const json = await cli(dir, ['report', '--env', 'dev', '--to', '2026-12-10', '--format', 'json'], '2026-12-12');
    expect(json.code).toBe(1);
    expect(json.err).toMatch(
      /^policies\/dev\/environment\.yaml:\d+:\d+: flowLogs: no flow-log records in the window 2026-11-27 \.\. 2026-12-10/m,
    );
    const doc = JSON.parse(json.out) as {
      window: { noRecords: boolean };
      unused: unknown[];
      noEvidence: { counted: boolean }[];
      summary: { counted: number; unused: number; noEvidence: number };
    };
    expect(doc.window.noRecords).toBe(true);
    expect(doc.unused).toEqual([]);
    expect(doc.summary.unused).toBe(0);
    expect(doc.summary.counted).toBeGreaterThan(0);
    expect(doc.noEvidence).toHaveLength(doc.summary.counted);

    const md = await cli(dir, ['report', '--env', 'dev', '--to', '2026-12-10'], '2026-12-12');
    expect(md.code).toBe(1);
    expect(md.out).toContain('> **No flow-log records in this window.**');
    expect(md.out).toContain('### No evidence (never "unused")');
    const html = await cli(dir, ['report', '--env', 'dev', '--to', '2026-12-10', '--format', 'html'], '2026-12-12');
    expect(html.code).toBe(1);
    expect(html.out).toContain('<p class="banner" id="no-records" role="alert"><b>No flow-log records in this window.</b>');
    expect(html.out).not.toContain('0 (unused)');
    expect(html.out).toContain('data-key="unused" data-value="0"');

    // over the example's own window every workload logged every day, and the report is as before: no banner
    const ok = await cli(dir, ['report', '--env', 'dev', '--to', '2026-11-21', '--format', 'json']);
    const full = JSON.parse(ok.out) as {
      window: { noRecords: boolean };
      coverage: { workload: string; covered: number; days: number }[];
      noEvidence: unknown[];
    };
    expect(full.window.noRecords).toBe(false);
    expect(full.noEvidence).toEqual([]);
    expect(full.coverage.map((c) => `${c.workload} ${c.covered}/${c.days}`)).toEqual(['api 14/14', 'batch 14/14', 'web 14/14']);
  });
});

describe('issue 14 case 1: plan says what evidence it stands on', () => {
  it('an observed file emptied as the old observe did: the headline counts the observed rules removed and their flows; --detailed-exitcode exits 1 in enforce', async () => {
    const dir = await exampleCopy();
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', dir, ...args], {
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@example.com',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@example.com',
        },
      });
    git('init', '-q');
    git('add', 'policies', 'observed');
    git('commit', '-qm', 'baseline');
    const web = await readFile(join(dir, 'observed/dev/web.yaml'), 'utf8');
    const committed = parse(web) as ObservedFile;
    // what observe wrote before coverage, after retainDays ran out over a window without records
    await writeFile(join(dir, 'observed/dev/web.yaml'), web.replace(/\negress:\n[\s\S]*?\nrejected:/, '\negress: []\nrejected:'));

    const plain = await cli(dir, ['plan', '--env', 'dev']);
    expect(plain.code).toBe(0);
    const headline = plain.out.split('\n')[1]!;
    const json = JSON.parse((await cli(dir, ['plan', '--env', 'dev', '--format', 'json'])).out) as {
      evidence: { removedObservedRules: number; removedObservedFlows: number };
    };
    expect(json.evidence.removedObservedRules).toBeGreaterThan(0);
    expect(json.evidence.removedObservedFlows).toBeGreaterThan(0);
    // the flows of the removed rules are flows of the evidence that was there
    expect(json.evidence.removedObservedFlows).toBeLessThanOrEqual(committed.egress.reduce((n, e) => n + e.flows, 0));
    expect(headline).toContain(
      `It removes ${json.evidence.removedObservedRules} observed rules that carried ${json.evidence.removedObservedFlows} flows.`,
    );

    const ci = await cli(dir, ['plan', '--env', 'dev', '--detailed-exitcode']);
    expect(ci.code).toBe(1);
    expect(ci.err).toMatch(/^policies\/dev\/environment\.yaml:6:7: mode: plan stops CI/m);
    expect(ci.err).toContain(
      `it removes ${json.evidence.removedObservedRules} rule(s) that carried ${json.evidence.removedObservedFlows} observed flows`,
    );
  });

  it('a workload with gaps in its logs is named in the headline', async () => {
    const dir = await exampleCopy();
    for (const day of ['13', '14', '15', '16', '17', '18', '19', '20', '21'])
      await rm(join(dir, DEV_LOGS, day), { recursive: true, force: true });
    expect((await cli(dir, ['observe', '--env', 'dev', '--to', '2026-11-21'])).code).toBe(1);
    const plan = await cli(dir, ['plan', '--env', 'dev']);
    expect(plan.out.split('\n')[1]).toContain(
      'Evidence with gaps: api (5 of 14 days logged, evidence of 2026-11-08 .. 2026-11-21 kept), batch (5 of 14 days logged, evidence of 2026-11-08 .. 2026-11-21 kept), web (5 of 14 days logged, evidence of 2026-11-08 .. 2026-11-21 kept).',
    );
  });
});

describe('issue 14 case 6: evidence can be rebuilt for an earlier window', () => {
  it('observe --rebuild --to an earlier day rewrites the environment from the flow logs alone; without --rebuild it is refused and says how', async () => {
    const dir = await exampleCopy();
    const refused = await cli(dir, ['observe', '--env', 'dev', '--to', '2026-11-18']);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('run observe --rebuild --to 2026-11-18');

    const r = await cli(dir, ['observe', '--env', 'dev', '--to', '2026-11-18', '--rebuild']);
    expect(r.err).not.toContain('coverage');
    expect(r.code).toBe(0);
    expect(r.out).toContain('rebuilt from the flow logs alone (--rebuild)');
    for (const w of ['api', 'batch', 'web']) {
      const o = await observed(dir, 'dev', w);
      expect(o.window).toEqual({ from: '2026-11-05', to: '2026-11-18' });
      // nothing of the later window survives
      expect(o.egress.filter((e) => e.lastSeen > '2026-11-18')).toEqual([]);
      expect(o.egress.length).toBeGreaterThan(0);
    }
    // and forward again: the committed files come back byte for byte
    const committed = new Map([...(await observedFiles(join(root)))].filter(([f]) => f.startsWith('dev/')));
    expect((await cli(dir, ['observe', '--env', 'dev', '--to', '2026-11-21', '--rebuild'])).code).toBe(0);
    const back = new Map([...(await observedFiles(dir))].filter(([f]) => f.startsWith('dev/')));
    expect(back).toEqual(committed);
  });
});
