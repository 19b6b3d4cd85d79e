/** One run of the pull-request bot for a proposal: read the state, decide, then write (or print, with --dry-run). */
import { decide, type FileChange, type Proposal } from './decide.js';
import { describeAction, perform, readRepoState, type defaultBranchHead, type Target } from './github.js';

export interface BotResult {
  lines: string[];
  pull: { number: number; url: string } | null;
  writes: number;
  heldBack: boolean;
  body: string;
}

export async function runBot(
  t: Target,
  base: Awaited<ReturnType<typeof defaultBranchHead>>,
  proposal: Proposal,
  renderBody: (changes: FileChange[]) => string,
  dryRun: boolean,
): Promise<BotResult> {
  const state = await readRepoState(t, proposal.branch, base);
  const decision = decide(state, proposal, renderBody);
  const lines = [...decision.notes];
  if (dryRun) {
    lines.push(...decision.actions.map((a) => describeAction(a, proposal.branch)));
    lines.push(decision.actions.length === 0 ? 'dry run: nothing would be written' : 'dry run: nothing was written');
    return { lines, pull: state.pull, writes: 0, heldBack: decision.heldBack, body: decision.body };
  }
  const outcome = await perform(t, proposal.branch, state.defaultBranch, proposal.labels, decision, state.pull);
  if (outcome.pull && decision.actions.length > 0) lines.push(`pull request #${outcome.pull.number}: ${outcome.pull.url}`);
  return { lines, pull: outcome.pull, writes: outcome.writes, heldBack: decision.heldBack, body: decision.body };
}
