/** The validate command end to end: exit codes, output formats, usage errors, and the example organisation. */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../core/findings.js';
import { rules } from '../../validate/rules/index.js';
import { BASE, runCli, runOrg, web } from './org.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WEB = 'policies/dev/workloads/web.yaml';
const broken = { [WEB]: web('  - to: { cidrs: [0.0.0.0/0] }\n    ports: [tcp/443]\n') };

describe('leastpath validate', () => {
  it('passes the example organisation with no errors', async () => {
    const run = await runCli(['--root', REPO_ROOT, 'validate']);
    expect(run.stderr.filter((l) => !l.includes('warning: ') && !l.startsWith('validate: '))).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stderr.at(-1)).toMatch(/^validate: 3 environments: valid, 0 errors/);
  });

  it('exits 0 with a summary on stderr and nothing on stdout for a valid organisation', async () => {
    const run = await runOrg({});
    expect(run).toEqual({ code: 0, stdout: '', stderr: ['validate: 1 environment: valid, 0 errors, 0 warnings'] });
  });

  it('prints file:line:col: path: message lines and exits 1 on errors', async () => {
    const run = await runOrg(broken);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${WEB}:5:5: egress[0].why: every egress rule needs a why: add why: "<what breaks without this egress>"`);
    expect(run.stderr.at(-1)).toBe('validate: 1 environment: invalid, 2 errors, 0 warnings');
  });

  it('--format json prints one JSON document on stdout and nothing else', async () => {
    const run = await runOrg(broken, ['validate', '--format', 'json']);
    expect(run.code).toBe(1);
    expect(run.stderr).toEqual([]);
    const doc = JSON.parse(run.stdout) as { findings: Finding[]; errors: number; warnings: number };
    expect(Object.keys(doc).sort()).toEqual(['errors', 'findings', 'warnings']);
    expect(doc.errors).toBe(2);
    expect(doc.warnings).toBe(0);
    expect(doc.findings.map((f) => `${f.rule} ${f.file}:${f.line}:${f.col} ${f.path}`)).toEqual([
      `why-required ${WEB}:5:5 egress[0].why`,
      `exception-required ${WEB}:5:19 egress[0].to.cidrs[0]`,
    ]);
  });

  it('--format github prints ::error annotations on stdout', async () => {
    const run = await runOrg(broken, ['validate', '--format', 'github']);
    expect(run.code).toBe(1);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^::error file=policies\/dev\/workloads\/web\.yaml,line=5,col=5,title=why-required::egress\[0\]\.why: /);
  });

  it('exits 0 when there are only warnings, and prints them', async () => {
    const run = await runOrg({
      [WEB]: web(
        '  - to: { workload: api }\n    ports: [tcp/8080]\n    why: a\n  - to: { workload: api }\n    ports: [tcp/8080]\n    why: b\n',
      ),
    });
    expect(run.code).toBe(0);
    expect(run.stderr[0]).toMatch(/^policies\/dev\/workloads\/web\.yaml:8:5: egress\[1\]: warning: /);
    expect(run.stderr.at(-1)).toBe('validate: 1 environment: valid, 0 errors, 1 warning');
  });

  it('--env limits validation to one environment', async () => {
    const qa = BASE['policies/dev/environment.yaml']!.replace('environment: dev', 'environment: qa');
    const files = { 'policies/qa/environment.yaml': qa.replace('account: "111111111111"', 'account: 1') };
    expect((await runOrg(files)).code).toBe(1);
    const run = await runOrg(files, ['validate', '--env', 'dev']);
    expect(run.code).toBe(0);
    expect(run.stderr.at(-1)).toBe('validate: environment dev: valid, 0 errors, 0 warnings');
  });

  it('refuses a bad environment name with exit 2 before reading anything', async () => {
    const run = await runOrg({}, ['validate', '--env', '../etc']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toEqual(['usage: environment name "../etc" must match [a-z0-9][a-z0-9-]* (at most 63 characters)']);
  });

  it('refuses an unknown environment with exit 2, naming those that exist', async () => {
    const run = await runOrg({}, ['validate', '--env', 'prod']);
    expect(run.code).toBe(2);
    expect(run.stderr).toEqual(['usage: unknown environment "prod": policies/ holds dev']);
  });

  it('refuses an unknown format with exit 2', async () => {
    expect((await runOrg({}, ['validate', '--format', 'md'])).code).toBe(2);
  });

  it('says which root has no policies/ folder (exit 2)', async () => {
    const run = await runCli(['--root', '/nonexistent/leastpath-root', 'validate']);
    expect(run.code).toBe(2);
    expect(run.stderr[0]).toContain('no policies/ folder in /nonexistent/leastpath-root');
  });
});

describe('validate/rules', () => {
  it('names each rule after its file and lists it in RULES.md', async () => {
    const files = (await readdir(new URL('../../validate/rules/', import.meta.url))).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
    expect(rules.map((r) => `${r.id}.ts`).sort()).toEqual(files.sort());
    const doc = await readFile(new URL('../../validate/RULES.md', import.meta.url), 'utf8');
    for (const r of rules) expect(doc, r.id).toContain(`## ${r.id}\n`);
  });
});
