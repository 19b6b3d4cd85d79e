/**
 * A stateful fake of the GitHub REST endpoints the bot uses, on 127.0.0.1, backed by a real bare git repository:
 * blobs, trees and commits are written with git (`hash-object -w`, an index + `write-tree`, `commit-tree`,
 * `update-ref`), so every SHA is real. Pull requests, comments and labels live in memory. Faults (a status with
 * headers, N times, for a method and path) can be injected, a hook can act as a person between the bot's read and its
 * write, and the server can stop answering; every request is logged (status 0: never answered).
 */
import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pull {
  number: number;
  title: string;
  body: string;
  head: string;
  base: string;
  state: 'open' | 'closed';
  labels: string[];
  comments: string[];
  /** The head commit when the pull request was closed (GitHub keeps it after the branch is gone). */
  closedAt?: string;
}

/** Something a person does when the bot's request arrives, before the server handles it. */
export interface Hook {
  method: string;
  path: RegExp;
  times: number;
  run: () => void;
}

export interface Fault {
  method: string;
  path: RegExp;
  status: number;
  times: number;
  headers?: Record<string, string>;
  message?: string;
}

const PER_PAGE_CAP = 2;
const SERVER_DATE = '2026-11-23T12:00:00+00:00';

export class FakeGithub {
  readonly log: { method: string; path: string; status: number }[] = [];
  readonly pulls: Pull[] = [];
  private faults: Fault[] = [];
  private hooks: Hook[] = [];
  private drops: { method: string; path: RegExp; times: number }[] = [];
  private silent = false;
  private server!: Server;
  url = '';

  constructor(
    readonly bare: string,
    readonly owner: string,
    readonly repo: string,
    readonly token: string,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((ok) => this.server.close(() => ok()));
    // Requests left hanging by stopAnswering() would keep the server open.
    this.server.closeAllConnections();
    await closed;
  }

  fail(f: Fault): void {
    this.faults.push({ ...f });
  }

  before(h: Hook): void {
    this.hooks.push({ ...h });
  }

  /** The next `times` matching requests are carried out, but their answer never leaves (a connection lost after the write). */
  dropAnswer(d: { method: string; path: RegExp; times: number }): void {
    this.drops.push({ ...d });
  }

  /** From now on every request is read and never answered (an API that hangs). */
  stopAnswering(): void {
    this.silent = true;
  }

  /** What a person does in the web UI: closes the pull request (not merged). */
  close(number: number): void {
    const p = this.pulls[number - 1]!;
    p.state = 'closed';
    p.closedAt = this.refSha(p.head) ?? undefined;
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Requests that write (anything but GET). */
  writes(): { method: string; path: string; status: number }[] {
    return this.log.filter((r) => r.method !== 'GET');
  }

  git(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): string {
    return execFileSync('git', args, {
      cwd: this.bare,
      input: opts.input,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'github',
        GIT_AUTHOR_EMAIL: 'noreply@github.com',
        GIT_COMMITTER_NAME: 'github',
        GIT_COMMITTER_EMAIL: 'noreply@github.com',
        GIT_AUTHOR_DATE: SERVER_DATE,
        GIT_COMMITTER_DATE: SERVER_DATE,
        ...opts.env,
      },
      encoding: 'utf8',
    }).trim();
  }

  refSha(branch: string): string | null {
    try {
      return this.git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]);
    } catch {
      return null;
    }
  }

  show(ref: string, path: string): string {
    return execFileSync('git', ['show', `${ref}:${path}`], { cwd: this.bare, encoding: 'utf8' });
  }

  /** A tree from `base` with files set (content) or removed (null). */
  writeTree(base: string | null, changes: { path: string; sha?: string | null; content?: string }[]): string {
    const tmp = mkdtempSync(join(tmpdir(), 'fake-gh-index-'));
    const env = { GIT_INDEX_FILE: join(tmp, 'index') };
    try {
      this.git(base ? ['read-tree', base] : ['read-tree', '--empty'], { env });
      for (const c of changes) {
        if (c.content !== undefined) {
          const sha = this.git(['hash-object', '-w', '--stdin'], { input: c.content });
          this.git(['update-index', '--add', '--cacheinfo', `100644,${sha},${c.path}`], { env });
        } else if (c.sha) this.git(['update-index', '--add', '--cacheinfo', `100644,${c.sha},${c.path}`], { env });
        else this.git(['update-index', '--force-remove', '--', c.path], { env });
      }
      return this.git(['write-tree'], { env });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  /** What a person does: a commit on `branch` changing `files`, by a person. */
  personCommit(branch: string, files: Record<string, string | null>, message = 'hand edit'): string {
    const head = this.refSha(branch)!;
    const tree = this.writeTree(
      head,
      Object.entries(files).map(([path, content]) => (content === null ? { path, sha: null } : { path, content })),
    );
    const env = {
      GIT_AUTHOR_NAME: 'Jane Doe',
      GIT_AUTHOR_EMAIL: 'jane@example.com',
      GIT_COMMITTER_NAME: 'Jane Doe',
      GIT_COMMITTER_EMAIL: 'jane@example.com',
    };
    const sha = this.git(['commit-tree', tree, '-p', head, '-m', message], { env });
    this.git(['update-ref', `refs/heads/${branch}`, sha]);
    return sha;
  }

  private commitJson(sha: string): unknown {
    const raw = this.git(['cat-file', 'commit', sha]);
    const [header, ...rest] = raw.split('\n\n');
    const lines = header!.split('\n');
    const person = (kind: string) => {
      const m = /^(?:author|committer) (.*) <(.*)> (\d+) ([+-]\d{4})$/.exec(lines.find((l) => l.startsWith(`${kind} `))!)!;
      return { name: m[1], email: m[2], date: new Date(Number(m[3]) * 1000).toISOString() };
    };
    return {
      sha,
      tree: { sha: lines.find((l) => l.startsWith('tree '))!.slice(5) },
      parents: lines.filter((l) => l.startsWith('parent ')).map((l) => ({ sha: l.slice(7) })),
      message: rest.join('\n\n'),
      author: person('author'),
      committer: person('committer'),
    };
  }

  private pullJson(p: Pull): unknown {
    return {
      number: p.number,
      title: p.title,
      body: p.body,
      state: p.state,
      html_url: `https://github.example/${this.owner}/${this.repo}/pull/${p.number}`,
      head: {
        ref: p.head,
        label: `${this.owner}:${p.head}`,
        sha: p.state === 'closed' ? (p.closedAt ?? this.refSha(p.head)) : this.refSha(p.head),
      },
      base: { ref: p.base },
      merged_at: null,
      labels: p.labels.map((name) => ({ name })),
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url!, 'http://x');
    const method = req.method!;
    const path = decodeURIComponent(url.pathname);
    const send = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      const drop = this.drops.find((d) => d.times > 0 && d.method === method && d.path.test(path));
      if (drop) {
        drop.times--;
        this.log.push({ method, path, status: 0 });
        return;
      }
      this.log.push({ method, path, status });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(data));
    };
    if (this.silent) {
      this.log.push({ method, path, status: 0 });
      return;
    }
    if (req.headers.authorization !== `token ${this.token}`) return send(401, { message: 'Bad credentials' });
    const hook = this.hooks.find((h) => h.times > 0 && h.method === method && h.path.test(path));
    if (hook) {
      hook.times--;
      hook.run();
    }
    const fault = this.faults.find((f) => f.times > 0 && f.method === method && f.path.test(path));
    if (fault) {
      fault.times--;
      return send(fault.status, { message: fault.message ?? 'Server Error' }, fault.headers);
    }
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
    const prefix = `/repos/${this.owner}/${this.repo}`;
    if (!path.startsWith(prefix)) return send(404, { message: 'Not Found' });
    const route = `${method} ${path.slice(prefix.length)}`;
    const page = <T>(items: T[]) => {
      const per = Math.min(Number(url.searchParams.get('per_page') ?? 30), PER_PAGE_CAP);
      const n = Number(url.searchParams.get('page') ?? 1);
      const headers: Record<string, string> = {};
      if (n * per < items.length) {
        const next = new URL(url.toString().replace('http://x', this.url));
        next.searchParams.set('page', String(n + 1));
        headers.link = `<${next.toString()}>; rel="next"`;
      }
      return send(200, items.slice((n - 1) * per, n * per), headers);
    };
    let m: RegExpExecArray | null;
    try {
      if (route === 'GET ') return send(200, { name: this.repo, full_name: `${this.owner}/${this.repo}`, default_branch: 'main' });
      if ((m = /^GET \/git\/ref\/heads\/(.+)$/.exec(route))) {
        const sha = this.refSha(m[1]!);
        return sha ? send(200, { ref: `refs/heads/${m[1]}`, object: { sha, type: 'commit' } }) : send(404, { message: 'Not Found' });
      }
      if (route === 'POST /git/refs') {
        const ref = String(body.ref);
        if (this.refSha(ref.replace('refs/heads/', ''))) return send(422, { message: 'Reference already exists' });
        this.git(['update-ref', ref, String(body.sha)]);
        return send(201, { ref, object: { sha: body.sha, type: 'commit' } });
      }
      if ((m = /^PATCH \/git\/refs\/heads\/(.+)$/.exec(route))) {
        const old = this.refSha(m[1]!);
        if (!old) return send(422, { message: 'Reference does not exist' });
        if (!body.force) {
          try {
            this.git(['merge-base', '--is-ancestor', old, String(body.sha)]);
          } catch {
            return send(422, { message: 'Update is not a fast forward' });
          }
        }
        this.git(['update-ref', `refs/heads/${m[1]}`, String(body.sha)]);
        return send(200, { ref: `refs/heads/${m[1]}`, object: { sha: body.sha, type: 'commit' } });
      }
      if ((m = /^GET \/git\/commits\/([0-9a-f]{40})$/.exec(route))) return send(200, this.commitJson(m[1]!));
      if (route === 'POST /git/commits') {
        const parents = (body.parents as string[]).flatMap((p) => ['-p', p]);
        const sha = this.git(['commit-tree', String(body.tree), ...parents], { input: String(body.message) });
        return send(201, this.commitJson(sha));
      }
      if (route === 'POST /git/blobs') {
        const sha = this.git(['hash-object', '-w', '--stdin'], { input: String(body.content) });
        return send(201, { sha });
      }
      if ((m = /^GET \/git\/trees\/([0-9a-f]{40})$/.exec(route))) {
        const out = this.git(['ls-tree', '-r', '-t', m[1]!]);
        const tree = out
          ? out.split('\n').map((l) => {
              const [meta, p] = l.split('\t');
              const [mode, type, sha] = meta!.split(' ');
              return { path: p, mode, type, sha };
            })
          : [];
        return send(200, { sha: m[1], tree, truncated: false });
      }
      if (route === 'POST /git/trees') {
        const sha = this.writeTree(
          body.base_tree ? String(body.base_tree) : null,
          body.tree as { path: string; sha?: string | null; content?: string }[],
        );
        return send(201, { sha });
      }
      if (route === 'GET /commits') {
        const args = ['log', '--format=%H%x09%cI', url.searchParams.get('sha') ?? 'main'];
        const p = url.searchParams.get('path');
        const out = this.git(p ? [...args, '--', p] : args);
        return page(
          out
            ? out.split('\n').map((l) => {
                const [sha, date] = l.split('\t');
                return { sha, commit: { committer: { date }, author: { date } } };
              })
            : [],
        );
      }
      if ((m = /^GET \/compare\/([^.]+)\.\.\.(.+)$/.exec(route))) {
        // What GitHub's compare gives: the commits reachable from head and not from base, oldest first.
        const [base, head] = [this.refSha(m[1]!) ?? m[1]!, this.refSha(m[2]!) ?? m[2]!];
        const out = this.git(['rev-list', '--reverse', `${base}..${head}`]);
        const shas = out ? out.split('\n') : [];
        const commits = shas.map((sha) => ({ sha, commit: { message: (this.commitJson(sha) as { message: string }).message } }));
        return send(200, { status: 'ahead', ahead_by: shas.length, total_commits: shas.length, commits });
      }
      if (route === 'GET /pulls') {
        const head = url.searchParams.get('head');
        const state = url.searchParams.get('state') ?? 'open';
        return page(
          this.pulls
            .filter((p) => (!head || `${this.owner}:${p.head}` === head) && (state === 'all' || p.state === state))
            .map((p) => this.pullJson(p)),
        );
      }
      if (route === 'POST /pulls') {
        const head = String(body.head);
        if (!this.refSha(head)) return send(422, { message: `head ${head} does not exist` });
        if (this.pulls.some((p) => p.head === head && p.state === 'open'))
          return send(422, { message: `A pull request already exists for ${this.owner}:${head}.` });
        const p: Pull = {
          number: this.pulls.length + 1,
          title: String(body.title),
          body: String(body.body ?? ''),
          head,
          base: String(body.base),
          state: 'open',
          labels: [],
          comments: [],
        };
        this.pulls.push(p);
        return send(201, this.pullJson(p));
      }
      if ((m = /^PATCH \/pulls\/(\d+)$/.exec(route))) {
        const p = this.pulls[Number(m[1]) - 1];
        if (!p) return send(404, { message: 'Not Found' });
        if (body.title !== undefined) p.title = String(body.title);
        if (body.body !== undefined) p.body = String(body.body);
        if (body.state === 'closed') this.close(p.number);
        else if (body.state === 'open') p.state = 'open';
        return send(200, this.pullJson(p));
      }
      if ((m = /^(GET|POST) \/issues\/(\d+)\/comments$/.exec(route))) {
        const p = this.pulls[Number(m[2]) - 1];
        if (!p) return send(404, { message: 'Not Found' });
        if (m[1] === 'GET') return page(p.comments.map((b, i) => ({ id: i + 1, body: b })));
        p.comments.push(String(body.body));
        return send(201, { id: p.comments.length, body: body.body });
      }
      if ((m = /^POST \/issues\/(\d+)\/labels$/.exec(route))) {
        const p = this.pulls[Number(m[1]) - 1];
        if (!p) return send(404, { message: 'Not Found' });
        for (const l of body.labels as string[]) if (!p.labels.includes(l)) p.labels.push(l);
        return send(
          200,
          p.labels.map((name) => ({ name })),
        );
      }
      return send(404, { message: `fake GitHub: no route ${route}` });
    } catch (err) {
      return send(500, { message: String(err) });
    }
  }
}
