/**
 * `leastpath propose --env E [--dry-run]`: the working tree's observed/E/*.yaml, committed through the GitHub
 * API on the branch `leastpath/E` (on top of the default branch), and one pull request that says what they do
 * to the plan.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { PlanDocument } from '../generators/plan.js';
import { proposeBody } from './body.js';
import { runBot, type BotResult } from './bot.js';
import type { Proposal } from './decide.js';
import { gitBlobSha } from './fingerprint.js';
import { defaultBranchHead, makeClient, readGithubConfig, serviceError } from './github.js';
import type { Anomaly } from '../verify/anomaly.js';

export interface BotOptions {
  root: string;
  today: string;
  /** The process environment: the GitHub token and repository. */
  processEnv: NodeJS.ProcessEnv;
  dryRun: boolean;
  warn: (line: string) => void;
}

/** Files of a folder of the working tree (sorted), as repository path -> content; none when it is missing. */
export async function readFolder(root: string, rel: string, filter: (name: string) => boolean): Promise<Map<string, string>> {
  const names = await readdir(join(root, rel)).catch(() => [] as string[]);
  const out = new Map<string, string>();
  for (const n of names.filter(filter).sort()) out.set(`${rel}/${n}`, await readFile(join(root, rel, n), 'utf8'));
  return out;
}

export function proposalOf(
  branch: string,
  title: string,
  labels: string[],
  managed: string[],
  files: Map<string, string>,
  message: string,
): Proposal {
  return { branch, title, labels, managed, files, shas: new Map([...files].map(([p, c]) => [p, gitBlobSha(c)])), message };
}

/** The anomalies of a `leastpath report --format json` document, checked to be of this environment. */
async function readReportAnomalies(path: string, environmentName: string): Promise<Anomaly[]> {
  let doc: { environment?: unknown; anomalies?: unknown };
  try {
    doc = JSON.parse(await readFile(path, 'utf8')) as typeof doc;
  } catch (err) {
    throw new UsageError(`--report ${path}: not a report JSON document (${(err as Error).message})`);
  }
  if (doc.environment !== environmentName || !Array.isArray(doc.anomalies)) {
    throw new UsageError(
      `--report ${path}: expected the JSON report of environment ${JSON.stringify(environmentName)} (leastpath report --env ${environmentName} --format json)`,
    );
  }
  return doc.anomalies as Anomaly[];
}

/** `plan` is the environment's plan, which the CLI made from its load. */
export async function runPropose(opts: BotOptions & { environmentName: string; plan: PlanDocument; report?: string }): Promise<BotResult> {
  const config = readGithubConfig(opts.processEnv);
  const { environmentName, plan } = opts;
  const anomalies = opts.report ? await readReportAnomalies(resolve(opts.report), environmentName) : null;
  const files = await readFolder(opts.root, `observed/${environmentName}`, (n) => n.endsWith('.yaml'));
  if (files.size === 0)
    throw new UsageError(`observed/${environmentName}/ has no files: run leastpath observe --env ${environmentName} first`);
  const title = `leastpath: observed egress of ${environmentName}`;
  const proposal = proposalOf(
    `leastpath/${environmentName}`,
    title,
    ['leastpath', `env:${environmentName}`],
    [`observed/${environmentName}/`],
    files,
    title,
  );
  const octokit = makeClient(config, opts.warn, opts.dryRun);
  const t = { octokit, owner: config.owner, repo: config.repo };
  try {
    const base = await defaultBranchHead(t);
    return await runBot(t, base, proposal, (changes) => proposeBody(plan, changes, anomalies), opts.dryRun);
  } catch (err) {
    throw serviceError(err, config);
  }
}
