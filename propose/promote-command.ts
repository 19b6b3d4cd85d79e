/**
 * `leastpath promote --to E [--dry-run]`: copies policies/<from>/workloads/* and policies/<from>/prefix-lists.yaml
 * verbatim into policies/E/ (from = E's promoteFrom) on the branch `leastpath/promote-E`, once the upstream
 * change has been live on the default branch for E's soakDays.
 *
 * The soak is measured through the API's commits endpoint (`path=`), not the local git: CI checks out one
 * commit (a shallow clone has no history to measure), and the default branch on GitHub is what "live" means.
 */
import { addDays, daysBetween } from '../core/dates.js';
import { cp, mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InputError, UsageError } from '../core/errors.js';
import type { PlanDocument } from '../generators/plan.js';
import type { Repo } from '../model/types.js';
import { promoteBody } from './body.js';
import { runBot, type BotResult } from './bot.js';
import { defaultBranchHead, lastChange, makeClient, readGithubConfig, serviceError } from './github.js';
import { proposalOf, readFolder, type BotOptions } from './propose-command.js';

type PromoteResult = ({ refused: false } & BotResult) | { refused: true; reason: string };

/** The soak decision, pure: null when promotion may go ahead, else why not. */
function soakRefusal(from: string, to: string, lastChangeDay: string | null, soakDays: number, today: string): string | null {
  if (lastChangeDay === null)
    return `nothing to promote: no commit on the default branch changed policies/${from}/workloads or policies/${from}/prefix-lists.yaml`;
  const age = daysBetween(lastChangeDay, today);
  if (age < 0) {
    // GitHub's commit date is ahead of this machine's today: a skewed clock (or LEASTPATH_TODAY), not a negative age.
    return (
      `policies/${from} last changed on the default branch on ${lastChangeDay}, after today (${today}) by this machine's clock: ` +
      `check the clock (or LEASTPATH_TODAY); ${to} needs ${soakDays} days of soak (promotable from ${addDays(lastChangeDay, soakDays)})`
    );
  }
  if (age < soakDays) {
    return `policies/${from} last changed on the default branch on ${lastChangeDay}, ${age} day${age === 1 ? '' : 's'} ago; ${to} needs ${soakDays} days of soak (promotable from ${addDays(lastChangeDay, soakDays)})`;
  }
  return null;
}

/**
 * How the CLI plans environment `environmentName` of the repository at `root` (a copy promote made), compared with the
 * rules of HEAD in `baselineRoot`: promote builds the tree, the CLI loads it.
 */
export type PlanTree = (root: string, environmentName: string, baselineRoot: string) => Promise<PlanDocument>;

/** The plan of `environmentName` with `files` (path -> content) in place of the working tree's, compared with HEAD's rules. */
async function planWith(
  root: string,
  environmentName: string,
  planTree: PlanTree,
  files: Map<string, string>,
  replaced: string[],
): Promise<PlanDocument> {
  const dir = await mkdtemp(join(tmpdir(), 'leastpath-promote-'));
  try {
    for (const d of ['policies', 'observed']) await cp(join(root, d), join(dir, d), { recursive: true }).catch(() => undefined);
    for (const r of replaced) await rm(join(dir, r), { recursive: true, force: true });
    for (const [p, c] of files) {
      await mkdir(dirname(join(dir, p)), { recursive: true });
      await writeFile(join(dir, p), c);
    }
    return await planTree(dir, environmentName, root);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `repo` is the CLI's validated load of the working tree; `planTree` plans the tree promote would make. */
export async function runPromote(opts: BotOptions & { to: string; repo: Repo; planTree: PlanTree }): Promise<PromoteResult> {
  const config = readGithubConfig(opts.processEnv);
  const { repo } = opts;
  const target = repo.environments.get(opts.to);
  if (!target) throw new UsageError(`unknown environment ${JSON.stringify(opts.to)}`);
  const from = target.environment.value.promoteFrom;
  if (!from) throw new UsageError(`policies/${opts.to}/environment.yaml has no promoteFrom: nothing promotes into ${opts.to}`);
  const soakDays = target.environment.value.soakDays;

  const upstream = new Map([
    ...(await readFolder(opts.root, `policies/${from}/workloads`, (n) => n.endsWith('.yaml'))),
    ...(await readFolder(opts.root, `policies/${from}`, (n) => n === 'prefix-lists.yaml')),
  ]);
  const files = new Map([...upstream].map(([p, c]) => [p.replace(`policies/${from}/`, `policies/${opts.to}/`), c]));
  const managed = [`policies/${opts.to}/workloads/`, `policies/${opts.to}/prefix-lists.yaml`];
  const title = `leastpath: promote ${from} to ${opts.to}`;
  const proposal = proposalOf(`leastpath/promote-${opts.to}`, title, ['leastpath', `env:${opts.to}`, 'promotion'], managed, files, title);

  const octokit = makeClient(config, opts.warn, opts.dryRun);
  const t = { octokit, owner: config.owner, repo: config.repo };
  try {
    const base = await defaultBranchHead(t);
    // Promote what has soaked on the default branch, not local edits.
    const drift = [...upstream.keys()].filter(
      (p) => base.files.get(p) !== proposal.shas.get(p.replace(`policies/${from}/`, `policies/${opts.to}/`)),
    );
    if (drift.length > 0)
      throw new InputError(
        `${drift.join(', ')}: the working tree differs from ${base.defaultBranch}; promotion copies what is on ${base.defaultBranch}`,
      );
    const last = await lastChange(t, base.sha, [`policies/${from}/workloads`, `policies/${from}/prefix-lists.yaml`]);
    const reason = soakRefusal(from, opts.to, last, soakDays, opts.today);
    if (reason) return { refused: true, reason };
    const plan = await planWith(opts.root, opts.to, opts.planTree, files, managed);
    const result = await runBot(
      t,
      base,
      proposal,
      (changes) => promoteBody(plan, from, { lastChange: last!, soakDays }, changes),
      opts.dryRun,
    );
    return { refused: false, ...result };
  } catch (err) {
    throw serviceError(err, config);
  }
}
