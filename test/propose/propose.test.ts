/** `leastpath propose` against a fake GitHub backed by a real git repository, through the real CLI. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bodyFingerprint } from '../../propose/fingerprint.js';
import { expectGolden } from '../golden/golden.js';
import { cli, fixture, observed, runs, TOKEN, writeFiles, type Fixture } from './helpers.js';

const EVIDENCE = observed('dev', 'web', [
  { destination: '198.51.100.9/32', port: 8443, flows: 42 },
  { destination: '203.0.113.77/32', port: 443, flows: 7 },
]);
const MORE = observed('dev', 'web', [
  { destination: '198.51.100.9/32', port: 8443, flows: 50 },
  { destination: '203.0.113.77/32', port: 443, flows: 9 },
  { destination: '192.0.2.44/32', port: 5432, flows: 3 },
]);

const fixtures: Fixture[] = [];
async function setup(uncommitted: Record<string, string | null> = { 'observed/dev/web.yaml': EVIDENCE }): Promise<Fixture> {
  const fx = await fixture({ uncommitted });
  fixtures.push(fx);
  return fx;
}
afterAll(async () => {
  for (const fx of fixtures) await fx.cleanup();
});

describe('propose: one branch and one pull request, updated in place', () => {
  it('first run opens the pull request on a complete commit; a re-run writes nothing; new evidence updates it in place', async () => {
    const fx = await setup();
    const first = await cli(fx, ['propose', '--env', 'dev']);
    expect(first.code, first.stderr.join('\n')).toBe(0);
    expect(fx.gh.pulls).toHaveLength(1);
    const pr = fx.gh.pulls[0]!;
    expect(pr).toMatchObject({ number: 1, head: 'leastpath/dev', base: 'main', state: 'open', labels: ['leastpath', 'env:dev'] });
    expect(fx.gh.show('leastpath/dev', 'observed/dev/web.yaml')).toBe(EVIDENCE);
    expect(fx.gh.git(['rev-parse', 'leastpath/dev~1'])).toBe(fx.gh.refSha('main'));
    expect(fx.gh.git(['log', '-1', '--format=%B', 'leastpath/dev'])).toMatch(/^Leastpath-Fingerprint: sha256:[0-9a-f]{64}$/m);
    expect(bodyFingerprint(pr.body)).toMatch(/^sha256:/);
    expect(pr.body).toContain('| added | web | 203.0.113.77/32 | tcp/443 |');
    await expectGolden('pr/propose-dev.md', pr.body);
    // The PR is opened only after the branch points at the commit.
    const order = fx.gh.writes().map((w) => `${w.method} ${w.path.replace(/^\/repos\/acme\/network/, '')}`);
    expect(order).toEqual(['POST /git/trees', 'POST /git/commits', 'POST /git/refs', 'POST /pulls', 'POST /issues/1/labels']);

    const writes = fx.gh.writes().length;
    const again = await cli(fx, ['propose', '--env', 'dev']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing new');
    expect(fx.gh.writes()).toHaveLength(writes);

    const before = fx.gh.refSha('leastpath/dev');
    const oldBody = pr.body;
    await writeFiles(fx.work, { 'observed/dev/web.yaml': MORE });
    const update = await cli(fx, ['propose', '--env', 'dev']);
    expect(update.code, update.stderr.join('\n')).toBe(0);
    expect(fx.gh.pulls).toHaveLength(1);
    expect(fx.gh.git(['rev-parse', 'leastpath/dev~1'])).toBe(before);
    expect(fx.gh.show('leastpath/dev', 'observed/dev/web.yaml')).toBe(MORE);
    expect(pr.body).not.toBe(oldBody);
    expect(pr.body).toContain('192.0.2.44/32');
  });

  it('the anomalies of the report given with --report are listed for the reviewer; a report of another environment is refused', async () => {
    const fx = await setup();
    const report = {
      environment: 'dev',
      anomalies: [
        {
          kind: 'beacon',
          workload: 'batch',
          destination: '198.51.100.200/32',
          protocol: 'tcp',
          port: 4444,
          flows: 1044,
          bytes: 584640,
          from: '2026-11-18',
          to: '2026-11-21',
          why: '1044 connections every 300 s (jitter 0.5%), 560 bytes each',
        },
      ],
    };
    await writeFiles(fx.work, {
      'report-dev.json': JSON.stringify(report),
      'report-stg.json': JSON.stringify({ ...report, environment: 'stg' }),
    });
    const wrong = await cli(fx, ['propose', '--env', 'dev', '--report', join(fx.work, 'report-stg.json')]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr.join('\n')).toContain('expected the JSON report of environment "dev"');
    expect(fx.gh.writes()).toHaveLength(0);
    const r = await cli(fx, ['propose', '--env', 'dev', '--report', join(fx.work, 'report-dev.json')]);
    expect(r.code, r.stderr.join('\n')).toBe(0);
    expect(fx.gh.pulls[0]!.body).toContain('### Anomalies to look at (1; a triage list, not proof)');
    expect(fx.gh.pulls[0]!.body).toContain(
      '| beacon | batch | 198.51.100.200/32 | tcp/4444 | 1044 | 584640 | 1044 connections every 300 s (jitter 0.5%), 560 bytes each |',
    );
  });

  it("a person's commit on the branch is kept: the bot builds on it, or holds back once when it touched the bot's files", async () => {
    const fx = await setup();
    expect((await cli(fx, ['propose', '--env', 'dev'])).code).toBe(0);
    const person = fx.gh.personCommit('leastpath/dev', { 'docs/why.md': 'context for reviewers\n' });

    await writeFiles(fx.work, { 'observed/dev/web.yaml': MORE });
    const r = await cli(fx, ['propose', '--env', 'dev']);
    expect(r.code, r.stderr.join('\n')).toBe(0);
    expect(r.stdout).toContain('which a person pushed');
    expect(fx.gh.git(['rev-parse', 'leastpath/dev~1'])).toBe(person);
    expect(fx.gh.show('leastpath/dev', 'docs/why.md')).toBe('context for reviewers\n');
    expect(fx.gh.show('leastpath/dev', 'observed/dev/web.yaml')).toBe(MORE);

    // Now a person edits a file the bot owns; new evidence must not overwrite it.
    const edit = fx.gh.personCommit('leastpath/dev', { 'observed/dev/web.yaml': `${MORE}# reviewed\n` });
    await writeFiles(fx.work, { 'observed/dev/web.yaml': EVIDENCE });
    const held = await cli(fx, ['propose', '--env', 'dev']);
    expect(held.code).toBe(0);
    expect(held.stdout).toContain('held back');
    expect(fx.gh.refSha('leastpath/dev')).toBe(edit);
    expect(fx.gh.pulls[0]!.comments).toHaveLength(1);
    expect(fx.gh.pulls[0]!.comments[0]).toContain('observed/dev/web.yaml');
    const writes = fx.gh.writes().length;
    await cli(fx, ['propose', '--env', 'dev']);
    expect(fx.gh.writes()).toHaveLength(writes);
    expect(fx.gh.pulls[0]!.comments).toHaveLength(1);
  });

  it("after its pull request was closed the bot starts afresh, but never over a person's commit on the branch", async () => {
    const fx = await setup();
    expect((await cli(fx, ['propose', '--env', 'dev'])).code).toBe(0);
    const person = fx.gh.personCommit('leastpath/dev', { 'docs/why.md': 'context for reviewers\n' });
    await writeFiles(fx.work, { 'observed/dev/web.yaml': MORE });
    expect((await cli(fx, ['propose', '--env', 'dev'])).code).toBe(0);
    // the bot's commit now heads the branch, the person's lies under it
    expect(fx.gh.git(['rev-parse', 'leastpath/dev~1'])).toBe(person);
    const head = fx.gh.refSha('leastpath/dev');
    fx.gh.pulls[0]!.state = 'closed';

    await writeFiles(fx.work, { 'observed/dev/web.yaml': EVIDENCE });
    const held = await cli(fx, ['propose', '--env', 'dev']);
    expect(held.code, held.stderr.join('\n')).toBe(0);
    expect(held.stdout).toContain(`holds commits a person pushed (${person.slice(0, 12)})`);
    expect(fx.gh.refSha('leastpath/dev')).toBe(head);
    expect(fx.gh.pulls).toHaveLength(1);

    // Once the branch is gone, the next run proposes afresh from the default branch.
    fx.gh.git(['update-ref', '-d', 'refs/heads/leastpath/dev']);
    const fresh = await cli(fx, ['propose', '--env', 'dev']);
    expect(fresh.code, fresh.stderr.join('\n')).toBe(0);
    expect(fx.gh.git(['rev-parse', 'leastpath/dev~1'])).toBe(fx.gh.refSha('main'));
    expect(fx.gh.pulls.filter((p) => p.state === 'open')).toHaveLength(1);
  });

  it("a closed pull request's branch holding only the bot's commits is started afresh on the default branch", async () => {
    const fx = await setup();
    expect((await cli(fx, ['propose', '--env', 'dev'])).code).toBe(0);
    fx.gh.pulls[0]!.state = 'closed';
    const old = fx.gh.refSha('leastpath/dev')!;
    await writeFiles(fx.work, { 'observed/dev/web.yaml': MORE });
    const dry = await cli(fx, ['propose', '--env', 'dev', '--dry-run']);
    expect(dry.stdout).toContain(
      `would start afresh leastpath/dev with a commit on ${fx.gh.refSha('main')!.slice(0, 12)} (its old head ${old.slice(0, 12)} kept as second parent)`,
    );
    const r = await cli(fx, ['propose', '--env', 'dev']);
    expect(r.code, r.stderr.join('\n')).toBe(0);
    expect(fx.gh.git(['rev-parse', 'leastpath/dev~1'])).toBe(fx.gh.refSha('main'));
    // The old head stays as the second parent: the ref moved by fast-forward, not by force.
    expect(fx.gh.git(['rev-parse', 'leastpath/dev^2'])).toBe(old);
    expect(fx.gh.show('leastpath/dev', 'observed/dev/web.yaml')).toBe(MORE);
    expect(fx.gh.pulls.filter((p) => p.state === 'open')).toHaveLength(1);
  });

  it('--dry-run reads and prints what it would do, and no write reaches the server', async () => {
    const fx = await setup();
    const r = await cli(fx, ['propose', '--env', 'dev', '--dry-run']);
    expect(r.code, r.stderr.join('\n')).toBe(0);
    expect(r.stdout).toContain('would create leastpath/dev');
    expect(r.stdout).toContain('would open pull request');
    expect(r.stdout).toContain('leastpath:fingerprint sha256:');
    expect(fx.gh.log.length).toBeGreaterThan(0);
    expect(fx.gh.writes()).toEqual([]);
    expect(fx.gh.refSha('leastpath/dev')).toBeNull();
  });
});

describe('propose: the bot keeps its word', () => {
  it('a pull request a person closed stays closed while the evidence is the same, even with its branch deleted; new evidence opens a new one', async () => {
    const fx = await setup();
    expect((await cli(fx, ['propose', '--env', 'dev'])).code).toBe(0);
    fx.gh.close(1);
    const writes = fx.gh.writes().length;

    const again = await cli(fx, ['propose', '--env', 'dev']);
    expect(again.code, again.stderr.join('\n')).toBe(0);
    expect(again.stdout).toContain('nothing new since pull request #1 was closed with these same files: it stays closed');
    expect(fx.gh.pulls).toHaveLength(1);
    expect(fx.gh.writes()).toHaveLength(writes);

    // GitHub keeps a closed pull request's head commit after its branch is deleted.
    fx.gh.git(['update-ref', '-d', 'refs/heads/leastpath/dev']);
    expect((await cli(fx, ['propose', '--env', 'dev'])).stdout).toContain('stays closed');
    expect(fx.gh.pulls).toHaveLength(1);
    expect(fx.gh.writes()).toHaveLength(writes);

    await writeFiles(fx.work, { 'observed/dev/web.yaml': MORE });
    const fresh = await cli(fx, ['propose', '--env', 'dev']);
    expect(fresh.code, fresh.stderr.join('\n')).toBe(0);
    expect(fx.gh.pulls.map((p) => p.state)).toEqual(['closed', 'open']);
    expect(fx.gh.show('leastpath/dev', 'observed/dev/web.yaml')).toBe(MORE);
  });

  it("what counts is what the bot proposed: a person's edit before closing and deleting the branch does not reopen the same proposal", async () => {
    const fx = await setup();
    expect((await cli(fx, ['propose', '--env', 'dev'])).code).toBe(0);
    fx.gh.personCommit('leastpath/dev', { 'observed/dev/web.yaml': `${EVIDENCE}# not this\n` });
    fx.gh.close(1);
    fx.gh.git(['update-ref', '-d', 'refs/heads/leastpath/dev']);
    const r = await cli(fx, ['propose', '--env', 'dev']);
    expect(r.code, r.stderr.join('\n')).toBe(0);
    expect(r.stdout).toContain('nothing new since pull request #1 was closed');
    expect(fx.gh.pulls).toHaveLength(1);
    expect(fx.gh.refSha('leastpath/dev')).toBeNull();
  });

  it("a person's commit at the head of a closed pull request's branch: held back, the branch untouched, no pull request reopened", async () => {
    const fx = await setup();
    expect((await cli(fx, ['propose', '--env', 'dev'])).code).toBe(0);
    const person = fx.gh.personCommit('leastpath/dev', { 'docs/why.md': 'context for reviewers\n' });
    fx.gh.close(1);
    await writeFiles(fx.work, { 'observed/dev/web.yaml': MORE });
    const writes = fx.gh.writes().length;
    const r = await cli(fx, ['propose', '--env', 'dev']);
    expect(r.code, r.stderr.join('\n')).toBe(0);
    expect(r.stdout).toContain(
      `held back: leastpath/dev has no open pull request and holds commits a person pushed (${person.slice(0, 12)})`,
    );
    expect(fx.gh.refSha('leastpath/dev')).toBe(person);
    expect(fx.gh.pulls.map((p) => p.state)).toEqual(['closed']);
    expect(fx.gh.writes()).toHaveLength(writes);
  });

  it("a person pushing between the bot's read and its ref update keeps the commit: the update fails as no fast-forward, the bot reads again and builds on it", async () => {
    const fx = await setup();
    expect((await cli(fx, ['propose', '--env', 'dev'])).code).toBe(0);
    let person = '';
    fx.gh.before({
      method: 'POST',
      path: /\/git\/trees$/,
      times: 1,
      run: () => (person = fx.gh.personCommit('leastpath/dev', { 'docs/why.md': 'context\n' })),
    });
    await writeFiles(fx.work, { 'observed/dev/web.yaml': MORE });
    const r = await cli(fx, ['propose', '--env', 'dev']);
    expect(r.code, r.stderr.join('\n')).toBe(0);
    expect(r.stdout).toContain(
      'leastpath/dev moved since the bot read it (GitHub: Update is not a fast forward): reading it again (try 2 of 3)',
    );
    expect(r.stdout).toContain(`building on commit ${person.slice(0, 12)}`);
    expect(fx.gh.git(['rev-parse', 'leastpath/dev~1'])).toBe(person);
    expect(fx.gh.show('leastpath/dev', 'docs/why.md')).toBe('context\n');
    expect(fx.gh.show('leastpath/dev', 'observed/dev/web.yaml')).toBe(MORE);
    expect(fx.gh.pulls).toHaveLength(1);
  });

  it("starting a closed pull request's branch afresh is a fast-forward too: a commit pushed meanwhile is kept and the bot holds back", async () => {
    const fx = await setup();
    expect((await cli(fx, ['propose', '--env', 'dev'])).code).toBe(0);
    fx.gh.close(1);
    let person = '';
    fx.gh.before({
      method: 'POST',
      path: /\/git\/trees$/,
      times: 1,
      run: () => (person = fx.gh.personCommit('leastpath/dev', { 'docs/why.md': 'context\n' })),
    });
    await writeFiles(fx.work, { 'observed/dev/web.yaml': MORE });
    const r = await cli(fx, ['propose', '--env', 'dev']);
    expect(r.code, r.stderr.join('\n')).toBe(0);
    expect(r.stdout).toContain('moved since the bot read it');
    expect(r.stdout).toContain(
      `held back: leastpath/dev has no open pull request and holds commits a person pushed (${person.slice(0, 12)})`,
    );
    expect(fx.gh.refSha('leastpath/dev')).toBe(person);
    expect(fx.gh.pulls.map((p) => p.state)).toEqual(['closed']);
  });

  it('a branch that moves under every try is left alone after three, saying so', async () => {
    const fx = await setup();
    expect((await cli(fx, ['propose', '--env', 'dev'])).code).toBe(0);
    let last = '';
    let n = 0;
    fx.gh.before({
      method: 'POST',
      path: /\/git\/trees$/,
      times: 3,
      run: () => (last = fx.gh.personCommit('leastpath/dev', { [`docs/note-${++n}.md`]: `${n}\n` })),
    });
    await writeFiles(fx.work, { 'observed/dev/web.yaml': MORE });
    const r = await cli(fx, ['propose', '--env', 'dev']);
    expect(r.code, r.stderr.join('\n')).toBe(0);
    expect(r.stdout).toContain(
      'held back: leastpath/dev moved since the bot read it (GitHub: Update is not a fast forward), on each of 3 tries',
    );
    expect(fx.gh.refSha('leastpath/dev')).toBe(last);
    expect(fx.gh.show('leastpath/dev', 'observed/dev/web.yaml')).toBe(EVIDENCE);
  });
});

describe('propose: failures', () => {
  it('a 502 that persists fails the run before any pull request; a re-run converges to one complete pull request', async () => {
    const fx = await setup();
    fx.gh.fail({ method: 'POST', path: /\/pulls$/, status: 502, times: 10, message: 'Bad Gateway' });
    const failed = await cli(fx, ['propose', '--env', 'dev']);
    expect(failed.code).toBe(2);
    expect(failed.stderr.join('\n')).toMatch(/GitHub POST \/repos\/acme\/network\/pulls failed: 502/);
    expect(fx.gh.pulls).toHaveLength(0);
    // Retried with backoff: the first try and three retries, each said and counted.
    expect(fx.gh.log.filter((l) => l.status === 502)).toHaveLength(4);
    expect(failed.stderr.filter((l) => l.includes('answered 502'))).toEqual(
      [1, 2, 3].map((n) => `leastpath: GitHub POST /repos/acme/network/pulls answered 502: retry ${n} of 3`),
    );
    expect(failed.stderr.join('\n')).toContain('failed: 502 Bad Gateway (tried 4 times)');
    const head = fx.gh.refSha('leastpath/dev');
    expect(fx.gh.show(head!, 'observed/dev/web.yaml')).toBe(EVIDENCE);

    fx.gh.clearFaults();
    const rerun = await cli(fx, ['propose', '--env', 'dev']);
    expect(rerun.code, rerun.stderr.join('\n')).toBe(0);
    expect(fx.gh.pulls).toHaveLength(1);
    expect(fx.gh.refSha('leastpath/dev')).toBe(head);
  });

  it('a 502 on the commit leaves the branch untouched; the re-run completes', async () => {
    const fx = await setup();
    fx.gh.fail({ method: 'POST', path: /\/git\/commits$/, status: 502, times: 4 });
    expect((await cli(fx, ['propose', '--env', 'dev'])).code).toBe(2);
    expect(fx.gh.refSha('leastpath/dev')).toBeNull();
    expect(fx.gh.pulls).toHaveLength(0);
    expect((await cli(fx, ['propose', '--env', 'dev'])).code).toBe(0);
    expect(fx.gh.pulls).toHaveLength(1);
  });

  it('secondary rate limits (403 with retry-after, 429) are waited out', async () => {
    const fx = await setup();
    const secondary = { status: 403, message: 'You have exceeded a secondary rate limit', headers: { 'retry-after': '1' } };
    fx.gh.fail({ method: 'POST', path: /\/git\/trees$/, times: 2, ...secondary });
    fx.gh.fail({ method: 'POST', path: /\/pulls$/, times: 1, ...secondary, status: 429 });
    const r = await cli(fx, ['propose', '--env', 'dev']);
    expect(r.code, r.stderr.join('\n')).toBe(0);
    expect(fx.gh.log.filter((l) => l.status === 403)).toHaveLength(2);
    expect(fx.gh.log.filter((l) => l.status === 429)).toHaveLength(1);
    expect(fx.gh.pulls).toHaveLength(1);
    expect(r.stderr.join('\n')).toContain('secondary rate limit');
  });

  it('a GitHub API that stops answering fails the run: each request is abandoned after LEASTPATH_GITHUB_TIMEOUT_MS and retried three times', async () => {
    const fx = await setup();
    fx.gh.stopAnswering();
    // Without the timeout this run never ends (the test times out).
    const r = await cli(fx, ['propose', '--env', 'dev'], { ...fx.env, LEASTPATH_GITHUB_TIMEOUT_MS: '300' });
    expect(r.code).toBe(2);
    const err = r.stderr.join('\n');
    expect(err).toContain(
      'GitHub GET /repos/acme/network failed: network error, no answer within 300 ms (LEASTPATH_GITHUB_TIMEOUT_MS) (tried 4 times)',
    );
    expect(err).not.toMatch(/\b500\b/);
    expect(fx.gh.log.filter((l) => l.status === 0)).toHaveLength(4);
    expect(r.stderr.filter((l) => l.includes('no answer'))).toHaveLength(4);
    expect(err).toContain(
      'leastpath: GitHub GET /repos/acme/network failed: network error, no answer within 300 ms (LEASTPATH_GITHUB_TIMEOUT_MS): retry 3 of 3',
    );
    expect(err).not.toContain('retry 4');
    expect(fx.gh.writes()).toEqual([]);
  });

  it('a write GitHub carried out but whose answer was lost: the retry meets 422, the bot reads again, and one complete pull request results', async () => {
    const fx = await setup();
    fx.gh.dropAnswer({ method: 'POST', path: /\/git\/refs$/, times: 1 });
    fx.gh.dropAnswer({ method: 'POST', path: /\/pulls$/, times: 1 });
    const r = await cli(fx, ['propose', '--env', 'dev'], { ...fx.env, LEASTPATH_GITHUB_TIMEOUT_MS: '500' });
    expect(r.code, r.stderr.join('\n')).toBe(0);
    expect(r.stdout).toContain(
      'leastpath/dev moved since the bot read it (GitHub: Reference already exists): reading it again (try 2 of 3)',
    );
    expect(r.stdout).toContain('a pull request from leastpath/dev was opened since the bot looked');
    expect(fx.gh.pulls).toHaveLength(1);
    expect(fx.gh.pulls[0]).toMatchObject({ state: 'open', labels: ['leastpath', 'env:dev'] });
    expect(fx.gh.show('leastpath/dev', 'observed/dev/web.yaml')).toBe(EVIDENCE);
    expect(
      fx.gh
        .writes()
        .map((w) => w.status)
        .filter((st) => st === 0),
    ).toHaveLength(2);
  });

  it('a refused connection is named a network error, not a status; a bad timeout setting is a usage error', async () => {
    const fx = await setup();
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((ok) => closed.close(() => ok()));
    const r = await cli(fx, ['propose', '--env', 'dev'], { ...fx.env, GITHUB_API_URL: url });
    expect(r.code).toBe(2);
    const err = r.stderr.join('\n');
    expect(err).toContain('GitHub GET /repos/acme/network failed: network error, ECONNREFUSED');
    expect(err).toContain('(tried 4 times)');
    expect(
      r.stderr.filter((l) =>
        /^leastpath: GitHub GET \/repos\/acme\/network failed: network error, ECONNREFUSED: .*: retry \d of 3$/.test(l),
      ),
    ).toHaveLength(3);
    expect(err).not.toMatch(/\b500\b/);

    const bad = await cli(fx, ['propose', '--env', 'dev'], { ...fx.env, LEASTPATH_GITHUB_TIMEOUT_MS: '10s' });
    expect(bad.code).toBe(2);
    expect(bad.stderr.join('\n')).toContain('LEASTPATH_GITHUB_TIMEOUT_MS must be a whole number of milliseconds above 0, got "10s"');
  });

  it('a LEASTPATH_GITHUB_BACKOFF_MS that is not a whole number of milliseconds is refused by name, before any request', async () => {
    const fx = await setup();
    for (const raw of ['1s', '-5', '1e3', '2.5']) {
      const r = await cli(fx, ['propose', '--env', 'dev'], { ...fx.env, LEASTPATH_GITHUB_BACKOFF_MS: raw });
      expect(r.code).toBe(2);
      expect(r.stderr.join('\n')).toContain(
        `LEASTPATH_GITHUB_BACKOFF_MS must be a whole number of milliseconds, got ${JSON.stringify(raw)}`,
      );
    }
    expect(fx.gh.log).toHaveLength(0);
  });

  it('a rate limit that persists is retried three times, counted right, then fails the run', async () => {
    const fx = await setup();
    fx.gh.fail({
      method: 'POST',
      path: /\/git\/trees$/,
      times: 10,
      status: 403,
      message: 'You have exceeded a secondary rate limit',
      headers: { 'retry-after': '1' },
    });
    const r = await cli(fx, ['propose', '--env', 'dev']);
    expect(r.code).toBe(2);
    const waits = r.stderr.filter((l) => l.includes('secondary rate limit on POST'));
    expect(waits.map((l) => / \((retry \d of \d)\)$|(giving up after \d retries)$/.exec(l)?.slice(1).find(Boolean))).toEqual([
      'retry 1 of 3',
      'retry 2 of 3',
      'retry 3 of 3',
      'giving up after 3 retries',
    ]);
    expect(r.stderr.join('\n')).toContain('GitHub POST /repos/acme/network/git/trees failed: 403 You have exceeded a secondary rate limit');
    expect(fx.gh.log.filter((l) => l.status === 403)).toHaveLength(4);
    expect(fx.gh.refSha('leastpath/dev')).toBeNull();
  });

  it('a rate limit asking for a longer wait than leastpath sits through fails at once, saying so', async () => {
    const fx = await setup();
    const reset = String(Math.floor(Date.now() / 1000) + 3600);
    fx.gh.fail({
      method: 'POST',
      path: /\/git\/trees$/,
      times: 10,
      status: 403,
      message: 'API rate limit exceeded',
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset },
    });
    const r = await cli(fx, ['propose', '--env', 'dev']);
    expect(r.code).toBe(2);
    const err = r.stderr.join('\n');
    expect(err).toMatch(
      /GitHub rate limit on POST \/repos\/acme\/network\/git\/trees: GitHub asks to wait 3\d{3} s, longer than leastpath waits \(60 s\): giving up; run again later/,
    );
    expect(err).toContain('GitHub POST /repos/acme/network/git/trees failed: 403 API rate limit exceeded');
    expect(fx.gh.log.filter((l) => l.status === 403)).toHaveLength(1);
  });

  it('missing GITHUB_TOKEN or GITHUB_REPOSITORY is a usage error naming the variable', async () => {
    const fx = await setup();
    const noToken = await cli(fx, ['propose', '--env', 'dev'], { ...fx.env, GITHUB_TOKEN: '' });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr.join('\n')).toContain('GITHUB_TOKEN');
    const noRepo = await cli(fx, ['propose', '--env', 'dev'], { ...fx.env, GITHUB_REPOSITORY: undefined });
    expect(noRepo.code).toBe(2);
    expect(noRepo.stderr.join('\n')).toContain('GITHUB_REPOSITORY');
    const badToken = await cli(fx, ['propose', '--env', 'dev'], { ...fx.env, GITHUB_TOKEN: `${TOKEN}-revoked` });
    expect(badToken.code).toBe(2);
    expect(badToken.stderr.join('\n')).toContain('401');
    expect(fx.gh.writes()).toEqual([]);
  });

  it('the token never appears in any output of any run', () => {
    expect(runs.length).toBeGreaterThan(5);
    for (const r of runs) {
      expect(r.stdout).not.toContain(TOKEN);
      for (const l of r.stderr) expect(l).not.toContain(TOKEN);
    }
  });
});
