/**
 * The GitHub edge: configuration from the environment, the octokit client (retry with backoff on 5xx, waits
 * out rate limits, pagination), reading the repository's state and performing the decided writes.
 */
import Bottleneck from 'bottleneck';
import { Octokit, RequestError } from 'octokit';
import { ServiceError, UsageError } from '../core/errors.js';
import { isBotCommit } from './fingerprint.js';
import type { Action, BranchState, Decision, PullState, RepoState, TreeFiles } from './decide.js';

interface GithubConfig {
  token: string;
  owner: string;
  repo: string;
  apiUrl: string;
  /** Milliseconds per unit of backoff and of `retry-after` seconds (1000; tests make it short). */
  backoffUnitMs: number;
  /** Milliseconds one request may take before it is abandoned (and retried like a 5xx). */
  timeoutMs: number;
}

/** A request GitHub did not answer within the timeout. */
class NoAnswer extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'NoAnswer';
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** A whole number of milliseconds (at least `min`) from `name`, or the default; anything else is a usage error naming it. */
function millis(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${name} must be a whole number of milliseconds${min > 0 ? ` above ${min - 1}` : ''}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** Reads GITHUB_TOKEN, GITHUB_REPOSITORY and GITHUB_API_URL; a missing one is a usage error naming it. */
export function readGithubConfig(env: NodeJS.ProcessEnv): GithubConfig {
  const token = env.GITHUB_TOKEN;
  if (!token) throw new UsageError('GITHUB_TOKEN is not set: a token with contents: write and pull-requests: write is needed');
  const full = env.GITHUB_REPOSITORY;
  if (!full) throw new UsageError('GITHUB_REPOSITORY is not set: expected owner/name');
  const m = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(full);
  if (!m) throw new UsageError(`GITHUB_REPOSITORY must be owner/name, got ${JSON.stringify(full)}`);
  return {
    token,
    owner: m[1]!,
    repo: m[2]!,
    apiUrl: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/$/, ''),
    // 0 is allowed: no waiting between retries (tests against the local fake).
    backoffUnitMs: millis(env, 'LEASTPATH_GITHUB_BACKOFF_MS', 1000, 0),
    timeoutMs: millis(env, 'LEASTPATH_GITHUB_TIMEOUT_MS', DEFAULT_TIMEOUT_MS),
  };
}

const RETRIES = 3;
/** The longest rate-limit wait leastpath sits through, in `retry-after` seconds; a longer one ends the run. */
const MAX_WAIT_S = 60;

/**
 * fetch, abandoned after `ms`: a server that stops answering fails the request instead of hanging the run. Each
 * failed try (a 5xx, a network error, no answer) is reported with how many in a row it is, for the retry count.
 */
function fetchWithin(ms: number, failed: (call: string, what: string, inARow: number) => void): typeof fetch {
  const streak = new Map<string, number>();
  return async (input, init) => {
    const call = `${init?.method ?? 'GET'} ${input instanceof Request ? input.url : String(input)}`;
    const timer = AbortSignal.timeout(ms);
    const signal = init?.signal ? AbortSignal.any([init.signal, timer]) : timer;
    const fail = (what: string) => {
      const n = (streak.get(call) ?? 0) + 1;
      streak.set(call, n);
      failed(call, what, n);
    };
    try {
      const res = await fetch(input, { ...init, signal });
      if (res.status >= 500) fail(`answered ${res.status}`);
      else streak.delete(call);
      return res;
    } catch (err) {
      const cause = timer.aborted ? new NoAnswer(ms) : err;
      fail(`failed: network error, ${networkCause(cause) ?? (cause instanceof Error ? cause.message : String(cause))}`);
      throw cause;
    }
  };
}

/**
 * The client. `dryRun` refuses every request but GET before it leaves, so a dry run cannot write even by mistake.
 * Every request is abandoned after `timeoutMs`. Rate limits: octokit's throttling waits `retry-after` (or until the
 * reset, at most MAX_WAIT_S) up to RETRIES times; 5xx, network errors and timeouts are retried RETRIES times with
 * quadratic backoff by octokit's retry plugin.
 */
export function makeClient(config: GithubConfig, warn: (line: string) => void, dryRun: boolean): Octokit {
  const again =
    (what: string) =>
    (retryAfter: number, options: { method: string; url: string } & Record<string, unknown>, _o: unknown, retryCount: number) => {
      // The route template with its parameters filled in, as the failure message names the call.
      const call = `${options.method} ${options.url.replace(/\{(\w+)\}/g, (all, k: string) => (typeof options[k] === 'string' || typeof options[k] === 'number' ? String(options[k]) : all))}`;
      if (retryCount >= RETRIES) {
        warn(`leastpath: GitHub ${what} on ${call}: giving up after ${RETRIES} retries`);
        return false;
      }
      if (retryAfter > MAX_WAIT_S) {
        warn(
          `leastpath: GitHub ${what} on ${call}: GitHub asks to wait ${retryAfter} s, longer than leastpath waits (${MAX_WAIT_S} s): giving up; run again later`,
        );
        return false;
      }
      warn(`leastpath: GitHub ${what} on ${call}: waiting ${retryAfter} s (retry ${retryCount + 1} of ${RETRIES})`);
      return true;
    };
  const octokit = new Octokit({
    auth: config.token,
    baseUrl: config.apiUrl,
    userAgent: 'leastpath',
    request: {
      fetch: fetchWithin(config.timeoutMs, (call, what, n) => {
        // The retry plugin retries a 5xx and a failed request RETRIES times; the last failure is the run's error.
        if (n <= RETRIES) warn(`leastpath: GitHub ${call.replace(config.apiUrl, '')} ${what}: retry ${n} of ${RETRIES}`);
      }),
    },
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    retry: { retries: RETRIES, retryAfterBaseValue: config.backoffUnitMs },
    throttle: {
      retryAfterBaseValue: config.backoffUnitMs,
      onRateLimit: again('rate limit'),
      onSecondaryRateLimit: again('secondary rate limit'),
      // GitHub asks for a second between writes: the plugin's own spacing, here scaled by the same unit (tests: ms).
      write: new Bottleneck.Group({ maxConcurrent: 1, minTime: config.backoffUnitMs }),
    },
  });
  if (dryRun) {
    octokit.hook.before('request', (options) => {
      if (options.method !== 'GET') throw new ServiceError(`dry run: refusing ${options.method} ${options.url}`);
    });
  }
  return octokit;
}

/** The network failure under a fetch error (ECONNREFUSED, ENOTFOUND, a timeout), as words; null when there is none. */
function networkCause(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof NoAnswer) return `${e.message} (LEASTPATH_GITHUB_TIMEOUT_MS)`;
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && !code.startsWith('ERR_')) return `${code}: ${e.message}`;
  }
  return null;
}

/** A failed call as a ServiceError that names the call and the status (or the network error), never the token. */
export function serviceError(err: unknown, config: GithubConfig): unknown {
  if (err instanceof ServiceError || err instanceof UsageError) return err;
  if (err instanceof RequestError) {
    const call = `GitHub ${err.request.method} ${err.request.url.replace(config.apiUrl, '')}`;
    // octokit reports a request that got no answer at all as status 500: it is not one.
    const text = err.response
      ? `${call} failed: ${err.status} ${String((err.response.data as { message?: string } | undefined)?.message ?? err.message)}${err.status >= 500 ? ` (tried ${RETRIES + 1} times)` : ''}`
      : `${call} failed: network error, ${networkCause(err.cause) ?? err.message} (tried ${RETRIES + 1} times)`;
    return new ServiceError(text.replaceAll(config.token, '***'));
  }
  const m = networkCause(err) ?? (err instanceof Error ? err.message : String(err));
  return new ServiceError(`GitHub: ${m}`.replaceAll(config.token, '***'));
}

export interface Target {
  octokit: Octokit;
  owner: string;
  repo: string;
}

function isNotFound(err: unknown): boolean {
  return err instanceof RequestError && err.status === 404;
}

/** path -> blob SHA of a commit's tree. */
async function treeFiles(t: Target, treeSha: string): Promise<TreeFiles> {
  const { data } = await t.octokit.rest.git.getTree({ owner: t.owner, repo: t.repo, tree_sha: treeSha, recursive: 'true' });
  if (data.truncated) throw new ServiceError(`GitHub tree ${treeSha} is too large to list at once`);
  return new Map(data.tree.filter((e) => e.type === 'blob' && e.path && e.sha).map((e) => [e.path!, e.sha!]));
}

async function refSha(t: Target, branch: string): Promise<string | null> {
  try {
    const { data } = await t.octokit.rest.git.getRef({ owner: t.owner, repo: t.repo, ref: `heads/${branch}` });
    return data.object.sha;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** Walk back this many first parents at most to find the bot's last commit under a person's. */
const WALK = 20;

/**
 * The commits on the branch that are not on the default branch and that the bot did not make, oldest first, and how
 * many GitHub's compare did not list (it lists at most 250): those count as a person's, never dropped unseen.
 */
async function othersCommits(
  t: Target,
  defaultBranch: string,
  sha: string,
): Promise<Pick<BranchState, 'othersCommits' | 'unlistedCommits' | 'ahead'>> {
  const { data } = await t.octokit.rest.repos.compareCommitsWithBasehead({
    owner: t.owner,
    repo: t.repo,
    basehead: `${defaultBranch}...${sha}`,
  });
  return {
    othersCommits: data.commits.filter((c) => !isBotCommit(c.commit.message)).map((c) => c.sha),
    unlistedCommits: Math.max(0, data.total_commits - data.commits.length),
    ahead: data.total_commits,
  };
}

async function branchState(t: Target, sha: string, defaultBranch: string): Promise<BranchState> {
  const head = (await t.octokit.rest.git.getCommit({ owner: t.owner, repo: t.repo, commit_sha: sha })).data;
  const files = await treeFiles(t, head.tree.sha);
  const byBot = isBotCommit(head.message);
  let lastBotFiles: TreeFiles | null = null;
  if (!byBot) {
    let parent = head.parents[0]?.sha;
    for (let i = 0; parent && i < WALK; i++) {
      const c = (await t.octokit.rest.git.getCommit({ owner: t.owner, repo: t.repo, commit_sha: parent })).data;
      if (isBotCommit(c.message)) {
        lastBotFiles = await treeFiles(t, c.tree.sha);
        break;
      }
      parent = c.parents[0]?.sha;
    }
  }
  return { sha, treeSha: head.tree.sha, files, byBot, lastBotFiles, ...(await othersCommits(t, defaultBranch, sha)) };
}

/**
 * The open pull request from `branch`, and the branch's latest pull request when it was closed without merging
 * (with the files the bot proposed in it; GitHub keeps its head commit after the branch is deleted). Listed by
 * head, every page.
 */
async function pullsOf(t: Target, branch: string): Promise<Pick<RepoState, 'pull' | 'closedPull'>> {
  const pulls = (
    await t.octokit.paginate(t.octokit.rest.pulls.list, {
      owner: t.owner,
      repo: t.repo,
      head: `${t.owner}:${branch}`,
      state: 'all',
      per_page: 100,
    })
  ).filter((x) => x.head.ref === branch);
  const p = pulls.find((x) => x.state === 'open');
  if (p) {
    const pull = {
      number: p.number,
      title: p.title,
      body: p.body ?? '',
      labels: p.labels.map((l) => l.name ?? '').filter(Boolean),
      url: p.html_url,
    };
    return { pull, closedPull: null };
  }
  const latest = pulls.reduce<(typeof pulls)[number] | null>((a, x) => (a === null || x.number > a.number ? x : a), null);
  if (!latest || latest.merged_at) return { pull: null, closedPull: null };
  return { pull: null, closedPull: { number: latest.number, files: await botFilesUnder(t, latest.head.sha) } };
}

/**
 * The files of the bot's last commit at or under `sha` (first parents, WALK at most): what the bot proposed, whatever
 * a person added on top. Null when there is none or GitHub no longer has the commits.
 */
async function botFilesUnder(t: Target, sha: string): Promise<TreeFiles | null> {
  try {
    let next: string | undefined = sha;
    for (let i = 0; next && i <= WALK; i++) {
      const { data: c }: { data: { message: string; tree: { sha: string }; parents: { sha: string }[] } } =
        await t.octokit.rest.git.getCommit({ owner: t.owner, repo: t.repo, commit_sha: next });
      if (isBotCommit(c.message)) return await treeFiles(t, c.tree.sha);
      next = c.parents[0]?.sha;
    }
    return null;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

export async function defaultBranchHead(t: Target): Promise<{ defaultBranch: string; sha: string; treeSha: string; files: TreeFiles }> {
  const { data: repo } = await t.octokit.rest.repos.get({ owner: t.owner, repo: t.repo });
  const sha = await refSha(t, repo.default_branch);
  if (!sha) throw new ServiceError(`GitHub: the default branch ${repo.default_branch} has no commit`);
  const commit = (await t.octokit.rest.git.getCommit({ owner: t.owner, repo: t.repo, commit_sha: sha })).data;
  return { defaultBranch: repo.default_branch, sha, treeSha: commit.tree.sha, files: await treeFiles(t, commit.tree.sha) };
}

/** Reads everything decide() needs. GET requests only. */
export async function readRepoState(t: Target, branch: string, base: Awaited<ReturnType<typeof defaultBranchHead>>): Promise<RepoState> {
  const sha = await refSha(t, branch);
  const branchSt = sha ? await branchState(t, sha, base.defaultBranch) : null;
  const { pull, closedPull } = await pullsOf(t, branch);
  const comments = pull
    ? (
        await t.octokit.paginate(t.octokit.rest.issues.listComments, {
          owner: t.owner,
          repo: t.repo,
          issue_number: pull.number,
          per_page: 100,
        })
      ).map((c) => c.body ?? '')
    : [];
  return {
    defaultBranch: base.defaultBranch,
    base: { sha: base.sha, treeSha: base.treeSha, files: base.files },
    branch: branchSt,
    pull,
    closedPull,
    comments,
  };
}

/** The committer date (YYYY-MM-DD, UTC) of the last commit on `ref` that changed any of `paths`, or null. */
export async function lastChange(t: Target, ref: string, paths: string[]): Promise<string | null> {
  let last: string | null = null;
  for (const path of paths) {
    const { data } = await t.octokit.rest.repos.listCommits({ owner: t.owner, repo: t.repo, sha: ref, path, per_page: 1 });
    const date = data[0]?.commit.committer?.date;
    if (date) {
      const day = new Date(date).toISOString().slice(0, 10);
      if (last === null || day > last) last = day;
    }
  }
  return last;
}

/** The repository changed between the bot's read and its write (GitHub answered 422): read again and decide again. */
export class Conflict extends Error {}

/** Runs `call`, turning its 422 into a Conflict; `only`: the answer must also match it (422 says many things). */
async function conflictAs<T>(what: string, call: () => Promise<T>, only?: RegExp): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof RequestError && err.status === 422 && (!only || only.test(JSON.stringify(err.response?.data ?? '')))) {
      const msg = String((err.response?.data as { message?: string } | undefined)?.message ?? err.message);
      throw new Conflict(`${what} (GitHub: ${msg})`);
    }
    throw err;
  }
}

interface Outcome {
  pull: { number: number; url: string } | null;
  writes: number;
}

/** Performs the decided writes in order: tree, commit, ref, then the pull request, its labels and comments. */
export async function perform(
  t: Target,
  branch: string,
  base: string,
  labels: string[],
  decision: Decision,
  existing: PullState | null,
): Promise<Outcome> {
  const { owner, repo, octokit } = t;
  let pull = existing ? { number: existing.number, url: existing.url } : null;
  let writes = 0;
  for (const a of decision.actions) {
    writes++;
    switch (a.kind) {
      case 'commit': {
        const tree = await octokit.rest.git.createTree({
          owner,
          repo,
          base_tree: a.baseTree,
          tree: a.changes.map((c) =>
            c.content === null
              ? { path: c.path, mode: '100644' as const, type: 'blob' as const, sha: null }
              : { path: c.path, mode: '100644' as const, type: 'blob' as const, content: c.content },
          ),
        });
        const parents = a.replaces ? [a.parent, a.replaces] : [a.parent];
        const commit = await octokit.rest.git.createCommit({ owner, repo, message: a.message, tree: tree.data.sha, parents });
        // Never forced: the new commit descends from the head the bot read, so a commit pushed since fails the update.
        await conflictAs(`${branch} moved since the bot read it`, async () => {
          if (a.ref === 'create') await octokit.rest.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha: commit.data.sha });
          else await octokit.rest.git.updateRef({ owner, repo, ref: `heads/${branch}`, sha: commit.data.sha, force: false });
        });
        writes += 2;
        break;
      }
      case 'open-pull': {
        const { data } = await conflictAs(
          `a pull request from ${branch} was opened since the bot looked`,
          () => octokit.rest.pulls.create({ owner, repo, title: a.title, body: a.body, head: branch, base }),
          /already exists/i,
        );
        pull = { number: data.number, url: data.html_url };
        if (labels.length > 0) {
          await octokit.rest.issues.addLabels({ owner, repo, issue_number: data.number, labels });
          writes++;
        }
        break;
      }
      case 'update-pull':
        await octokit.rest.pulls.update({ owner, repo, pull_number: a.number, title: a.title, body: a.body });
        break;
      case 'add-labels':
        await octokit.rest.issues.addLabels({ owner, repo, issue_number: a.number, labels: a.labels });
        break;
      case 'comment':
        await octokit.rest.issues.createComment({ owner, repo, issue_number: a.number, body: a.body });
        break;
    }
  }
  return { pull, writes };
}

/** What a dry run prints for each action. */
export function describeAction(a: Action, branch: string): string {
  switch (a.kind) {
    case 'commit':
      return (
        `would ${a.ref === 'create' ? 'create' : a.ref === 'reset' ? 'start afresh' : 'update'} ${branch} with a commit on ${a.parent.slice(0, 12)}` +
        `${a.replaces ? ` (its old head ${a.replaces.slice(0, 12)} kept as second parent)` : ''} changing ${a.changes.map((c) => c.path).join(', ') || 'nothing'}`
      );
    case 'open-pull':
      return `would open pull request "${a.title}" from ${branch}`;
    case 'update-pull':
      return `would update the body of pull request #${a.number}`;
    case 'add-labels':
      return `would add labels ${a.labels.join(', ')} to #${a.number}`;
    case 'comment':
      return `would comment on #${a.number}`;
  }
}
