/**
 * The pull-request bot's decision, pure: from the repository's state as read through the API (default branch,
 * the bot's branch, its open pull request) and the files the bot wants, the ordered list of writes. The edge
 * (sync.ts) gathers the state and performs the actions, or prints them with --dry-run.
 */
import { compareText } from '../core/text.js';
import { bodyFingerprint, commitTrailer, fingerprint, fingerprintComment } from './fingerprint.js';

/** path -> blob SHA of a tree (blobs only, recursive). */
export type TreeFiles = ReadonlyMap<string, string>;

/** What the bot wants on its branch: the files it owns and their content. */
export interface Proposal {
  branch: string;
  title: string;
  labels: string[];
  /** Paths the bot owns: a folder (ending in `/`) or a file. A file there that is not in `files` is removed. */
  managed: string[];
  /** path -> content of every file the bot proposes. */
  files: ReadonlyMap<string, string>;
  /** path -> git blob SHA of the same files. */
  shas: ReadonlyMap<string, string>;
  /** The commit message's first lines (the fingerprint trailer is added). */
  message: string;
}

export interface FileChange {
  path: string;
  status: 'added' | 'modified' | 'removed';
}

export interface BranchState {
  sha: string;
  treeSha: string;
  files: TreeFiles;
  byBot: boolean;
  /** The files of the last commit the bot made on the branch (null: none found). */
  lastBotFiles: TreeFiles | null;
  /** Commits on the branch, not on the default branch, that the bot did not make (a person's). */
  othersCommits: string[];
  /** Commits on the branch that GitHub did not list: counted as a person's. */
  unlistedCommits: number;
  /** Commits on the branch that are not on the default branch (the bot's and a person's). */
  ahead: number;
}

export interface PullState {
  number: number;
  title: string;
  body: string;
  labels: string[];
  url: string;
}

export interface RepoState {
  defaultBranch: string;
  base: { sha: string; treeSha: string; files: TreeFiles };
  branch: BranchState | null;
  pull: PullState | null;
  /** The branch's latest pull request when closed without merging, with the files of the bot's last commit in it (null: none found). */
  closedPull: { number: number; files: TreeFiles | null } | null;
  /** Bodies of the comments already on the pull request. */
  comments: string[];
}

export type Action =
  | {
      kind: 'commit';
      parent: string;
      /** The branch head the bot read, kept as a second parent when starting afresh (the ref update stays a fast-forward). */
      replaces: string | null;
      baseTree: string;
      changes: { path: string; content: string | null }[];
      message: string;
      ref: 'create' | 'update' | 'reset';
    }
  | { kind: 'open-pull'; title: string; body: string }
  | { kind: 'update-pull'; number: number; title: string; body: string }
  | { kind: 'add-labels'; number: number; labels: string[] }
  | { kind: 'comment'; number: number; body: string };

export interface Decision {
  actions: Action[];
  /** What a person reads: one line per outcome. */
  notes: string[];
  fingerprint: string;
  body: string;
  heldBack: boolean;
}

function isManaged(path: string, managed: readonly string[]): boolean {
  return managed.some((m) => (m.endsWith('/') ? path.startsWith(m) : path === m));
}

/** Managed files of a tree. */
function managedFiles(tree: TreeFiles, managed: readonly string[]): Map<string, string> {
  return new Map([...tree].filter(([p]) => isManaged(p, managed)));
}

/** How `to` (path -> sha) differs from `from` over the managed paths, sorted by path. */
function diffFiles(from: TreeFiles, to: TreeFiles, managed: readonly string[]): FileChange[] {
  const a = managedFiles(from, managed);
  const b = managedFiles(to, managed);
  const out: FileChange[] = [];
  for (const [p, sha] of b)
    if (!a.has(p)) out.push({ path: p, status: 'added' });
    else if (a.get(p) !== sha) out.push({ path: p, status: 'modified' });
  for (const p of a.keys()) if (!b.has(p)) out.push({ path: p, status: 'removed' });
  return out.sort((x, y) => compareText(x.path, y.path));
}

function sameFiles(a: TreeFiles, b: TreeFiles, managed: readonly string[]): boolean {
  return diffFiles(a, b, managed).length === 0;
}

const HELD_BACK = (sha: string): string => `<!-- leastpath:held-back ${sha} -->`;

/**
 * Decides the writes. `renderBody` gets the files' change against the default branch and returns the body
 * without its fingerprint marker. Writes are ordered so the pull request is opened or edited only after the
 * branch points at a complete commit: a run that fails half-way leaves at most an unreferenced tree or commit,
 * and the next run converges.
 */
export function decide(state: RepoState, proposal: Proposal, renderBody: (changes: FileChange[]) => string): Decision {
  const { managed, shas } = proposal;
  const changesFromBase = diffFiles(state.base.files, shas, managed);
  const bare = renderBody(changesFromBase);
  const fp = fingerprint(
    new Map([...shas, ...changesFromBase.filter((c) => c.status === 'removed').map((c) => [c.path, null] as const)]),
    bare,
  );
  const body = `${bare}\n${fingerprintComment(fp)}\n`;
  const message = `${proposal.message}\n\n${commitTrailer(fp)}\n`;
  const actions: Action[] = [];
  const notes: string[] = [];
  const { branch, pull } = state;

  if (!pull && changesFromBase.length === 0 && (!branch || branch.byBot)) {
    notes.push(`nothing to propose: ${managed.join(', ')} on ${state.defaultBranch} already hold these files`);
    return { actions, notes, fingerprint: fp, body, heldBack: false };
  }

  // Where the next commit goes: on the bot's open branch, or afresh on the default branch.
  let start: { sha: string; treeSha: string; files: TreeFiles; ref: 'create' | 'update' | 'reset'; replaces: string | null };
  if (!pull && branch && (branch.othersCommits.length > 0 || branch.unlistedCommits > 0)) {
    // No open pull request to build on: starting afresh would drop a person's commits, building on them would
    // reopen what a person may have closed on purpose.
    const list = [
      ...branch.othersCommits.map((c) => c.slice(0, 12)),
      ...(branch.unlistedCommits > 0 ? [`${branch.unlistedCommits} not listed`] : []),
    ].join(', ');
    notes.push(
      `held back: ${proposal.branch} has no open pull request and holds commits a person pushed (${list}); starting it ` +
        `afresh would drop them. Reopen its pull request, or delete the branch, and the next run decides again.`,
    );
    return { actions, notes, fingerprint: fp, body, heldBack: true };
  }
  if (!pull && state.closedPull?.files && sameFiles(state.closedPull.files, shas, managed)) {
    // A person closed the pull request with these very files: the same proposal again would be noise.
    notes.push(
      `nothing new since pull request #${state.closedPull.number} was closed with these same files: it stays closed until ` +
        `${managed.join(', ')} change (reopen #${state.closedPull.number} to take it up again)`,
    );
    return { actions, notes, fingerprint: fp, body, heldBack: false };
  }
  if (!branch) start = { ...state.base, ref: 'create', replaces: null };
  else if (!pull && !sameFiles(branch.files, shas, managed)) {
    // Its pull request was closed and every commit beyond the default branch is the bot's: start afresh. The old
    // head becomes the new commit's second parent, so the ref moves by fast-forward and a push made meanwhile fails it.
    start = { ...state.base, ref: 'reset', replaces: branch.ahead > 0 ? branch.sha : null };
  } else start = { sha: branch.sha, treeSha: branch.treeSha, files: branch.files, ref: 'update', replaces: null };

  const changes = diffFiles(start.files, shas, managed);
  let heldBack = false;
  if (branch && start.ref === 'update' && !branch.byBot && changes.length > 0) {
    // A person's commit heads the branch: build on it, unless they edited the files the bot would replace.
    const reference = branch.lastBotFiles ?? state.base.files;
    const touched = diffFiles(reference, branch.files, managed);
    if (touched.length > 0) {
      heldBack = true;
      const paths = touched.map((t) => t.path);
      notes.push(
        `held back: commit ${branch.sha.slice(0, 12)} on ${proposal.branch} changed ${paths.join(', ')}, which the bot would replace`,
      );
      const marker = HELD_BACK(branch.sha);
      if (pull && !state.comments.some((c) => c.includes(marker))) {
        actions.push({
          kind: 'comment',
          number: pull.number,
          body:
            `leastpath has new content for this branch but held it back: commit ${branch.sha.slice(0, 12)} changed ` +
            `${paths.map((p) => `\`${p}\``).join(', ')}, which leastpath would replace. Merge or revert that change ` +
            `(or delete the branch) and the next run updates this pull request.\n\n${marker}\n`,
        });
      }
      return { actions, notes, fingerprint: fp, body, heldBack };
    }
    notes.push(`building on commit ${branch.sha.slice(0, 12)}, which a person pushed to ${proposal.branch}`);
  }

  if (changes.length > 0 || start.ref === 'reset') {
    actions.push({
      kind: 'commit',
      parent: start.sha,
      baseTree: start.treeSha,
      changes: changes.map((c) => ({ path: c.path, content: c.status === 'removed' ? null : proposal.files.get(c.path)! })),
      message,
      ref: start.ref,
      replaces: start.replaces,
    });
    notes.push(
      `${start.ref === 'create' ? 'create' : 'update'} branch ${proposal.branch}: ${changes.map((c) => `${c.path} (${c.status})`).join(', ') || 'rebased on ' + state.defaultBranch}`,
    );
  }
  if (!pull) {
    actions.push({ kind: 'open-pull', title: proposal.title, body });
    notes.push(`open pull request "${proposal.title}"`);
  } else {
    if (bodyFingerprint(pull.body) !== fp || pull.title !== proposal.title) {
      actions.push({ kind: 'update-pull', number: pull.number, title: proposal.title, body });
      notes.push(`update pull request #${pull.number}`);
    }
    const missing = proposal.labels.filter((l) => !pull.labels.includes(l));
    if (missing.length > 0) actions.push({ kind: 'add-labels', number: pull.number, labels: missing });
  }
  if (actions.length === 0) notes.push(`nothing new: pull request #${pull!.number} is up to date`);
  return { actions, notes, fingerprint: fp, body, heldBack };
}
