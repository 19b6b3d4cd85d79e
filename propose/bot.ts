/** One run of the pull-request bot for a proposal: read the state, decide, then write (or print, with --dry-run). */
import { decide, type FileChange, type Proposal } from './decide.js';
import { Conflict, describeAction, perform, readRepoState, type defaultBranchHead, type Target } from './github.js';

export interface BotResult {
  lines: string[];
  pull: { number: number; url: string } | null;
  writes: number;
  heldBack: boolean;
  body: string;
}

/** Reads and decisions per run: a branch that keeps moving under the bot is left alone after this many. */
export const ATTEMPTS = 3;

export async function runBot(
  t: Target,
  base: Awaited<ReturnType<typeof defaultBranchHead>>,
  proposal: Proposal,
  renderBody: (changes: FileChange[]) => string,
  dryRun: boolean,
): Promise<BotResult> {
  const lines: string[] = [];
  for (let attempt = 1; ; attempt++) {
    const state = await readRepoState(t, proposal.branch, base);
    const decision = decide(state, proposal, renderBody);
    lines.push(...decision.notes);
    if (dryRun) {
      lines.push(...decision.actions.map((a) => describeAction(a, proposal.branch)));
      lines.push(decision.actions.length === 0 ? 'dry run: nothing would be written' : 'dry run: nothing was written');
      return { lines, pull: state.pull, writes: 0, heldBack: decision.heldBack, body: decision.body };
    }
    try {
      const outcome = await perform(t, proposal.branch, state.defaultBranch, proposal.labels, decision, state.pull);
      if (outcome.pull && decision.actions.length > 0) lines.push(`pull request #${outcome.pull.number}: ${outcome.pull.url}`);
      return { lines, pull: outcome.pull, writes: outcome.writes, heldBack: decision.heldBack, body: decision.body };
    } catch (err) {
      if (!(err instanceof Conflict)) throw err;
      // What was written before the conflict is either unreferenced (a tree, a commit) or read back by the next decision.
      if (attempt >= ATTEMPTS) {
        lines.push(`held back: ${err.message}, on each of ${ATTEMPTS} tries. The next run decides again.`);
        return { lines, pull: state.pull, writes: 0, heldBack: true, body: decision.body };
      }
      lines.push(`${err.message}: reading it again (try ${attempt + 1} of ${ATTEMPTS})`);
    }
  }
}
