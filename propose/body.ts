/**
 * Pull-request bodies, built from pure section functions over the plan document. Deterministic: no clock, no
 * SHAs that change between runs. The fingerprint marker is appended by decide.ts.
 */
import { protocolPort } from '../core/ports.js';
import { markdownCell } from '../core/text.js';
import { planRulePorts, reviewWhy, type PlanDocument } from '../generators/plan.js';
import { adoptedLine, breakLine, nameWhatIfMarkdown } from '../generators/render-plan.js';
import type { FileChange } from './decide.js';
import type { Anomaly } from '../verify/anomaly.js';

function summarySection(lead: string, plan: PlanDocument): string {
  const c = plan.changes;
  return [
    lead,
    '',
    `After this change \`${plan.environment}\` (${plan.mode}) has ${plan.summary.rules} egress rules ` +
      `(${plan.summary.intent} intent, ${plan.summary.observed} observed) for ${plan.summary.workloads} workloads: ` +
      `${c.added.length} added, ${c.removed.length} removed.`,
  ].join('\n');
}

function filesSection(changes: FileChange[]): string {
  if (changes.length === 0) return '### Files\n\nNo file differs from the default branch.';
  return ['### Files', '', ...changes.map((c) => `- \`${c.path}\` (${c.status})`)].join('\n');
}

function ruleChangesSection(plan: PlanDocument): string {
  const { added, removed } = plan.changes;
  if (added.length + removed.length === 0) return '### Rule changes\n\nNo rule is added or removed.';
  const out = ['### Rule changes', '', '| | workload | destination | ports | why | flows seen |', '|---|---|---|---|---|---:|'];
  for (const [sign, list] of [
    ['added', added],
    ['removed', removed],
  ] as const) {
    for (const r of list)
      out.push(
        `| ${sign} | ${r.workload} | ${markdownCell(r.destination)} | ${planRulePorts(r)} | ${markdownCell(reviewWhy(r))} | ${r.flows ?? ''} |`,
      );
  }
  return out.join('\n');
}

function whatIfSection(plan: PlanDocument): string {
  const w = plan.whatIf;
  const out = ['### What if', '', `**${breakLine(plan)}**`];
  if (w.denied.length > 0) {
    out.push(
      '',
      `Breaks ${w.deniedFlows} flows:`,
      '',
      '| workload | destination | port | flows | last seen | why not allowed |',
      '|---|---|---|---:|---|---|',
    );
    for (const d of w.denied)
      out.push(`| ${d.workload} | ${d.destination} | ${protocolPort(d)} | ${d.flows} | ${d.lastSeen} | ${markdownCell(d.reason)} |`);
  }
  // Names come first like flows: the DNS what-if and the Network Firewall drops, as the markdown plan has them.
  out.push(...nameWhatIfMarkdown(plan));
  return out.join('\n');
}

/** The names `observed: adopt` adopted instead of addresses; none without adoptNames. */
function adoptedSection(plan: PlanDocument): string | null {
  if (!plan.adoptedNames || plan.adoptedNames.length === 0) return null;
  return ['### Adopted by name', '', ...plan.adoptedNames.map((a) => `- ${markdownCell(adoptedLine(a))}`)].join('\n');
}

function expiringSection(plan: PlanDocument): string | null {
  const soon = plan.exceptions.filter((e) => e.expiringSoon);
  if (soon.length === 0) return null;
  const out = [
    '### Exceptions expiring soon',
    '',
    '| workload | destination | ports | owner | expires | days left |',
    '|---|---|---|---|---|---:|',
  ];
  for (const e of soon)
    out.push(`| ${e.workload} | ${markdownCell(e.destination)} | ${e.ports} | ${markdownCell(e.owner)} | ${e.expires} | ${e.daysLeft} |`);
  return out.join('\n');
}

/** The Terraform change, derived from the rule changes: each rule is one `aws_vpc_security_group_egress_rule`. */
function synthSection(plan: PlanDocument): string {
  const { added, removed } = plan.changes;
  return [
    '### Terraform (synth)',
    '',
    `\`aws_vpc_security_group_egress_rule\`: ${added.length} to add, ${removed.length} to destroy.`,
    '',
    `Run \`leastpath synth --env ${plan.environment}\` for the stack; \`leastpath plan --env ${plan.environment}\` for every rule.`,
  ].join('\n');
}

function footerSection(command: string): string {
  return `<sub>Opened by \`${command}\`. Commits a person pushes to this branch are kept; leastpath builds on them or says why not.</sub>`;
}

function join(sections: (string | null)[]): string {
  return sections.filter((s): s is string => s !== null).join('\n\n') + '\n';
}

/** Anomalies to look at (from `leastpath report --format json`), or a line saying none was given. */
function anomaliesSection(anomalies: readonly Anomaly[] | null): string {
  if (anomalies === null)
    return '### Anomalies\n\nNo report was given: run `leastpath report --format json` where the flow logs are and pass it as `--report FILE`.';
  if (anomalies.length === 0) return '### Anomalies\n\nNone in the window.';
  const rows = anomalies.map(
    (a) =>
      `| ${a.kind} | ${markdownCell(a.workload)} | ${a.destination} | ${protocolPort(a)} | ${a.flows} | ${a.bytes} | ${markdownCell(a.why)} |`,
  );
  return [
    `### Anomalies to look at (${anomalies.length}; a triage list, not proof)`,
    '',
    '| kind | workload | destination | port | flows | bytes | why |',
    '|---|---|---|---|---:|---:|---|',
    ...rows,
  ].join('\n');
}

export function proposeBody(plan: PlanDocument, files: FileChange[], anomalies: readonly Anomaly[] | null = null): string {
  const lead = `Observed egress of \`${plan.environment}\` from the latest flow logs (\`observed/${plan.environment}/\`), and what it does to the rules.`;
  return join([
    summarySection(lead, plan),
    whatIfSection(plan),
    ruleChangesSection(plan),
    adoptedSection(plan),
    expiringSection(plan),
    anomaliesSection(anomalies),
    synthSection(plan),
    filesSection(files),
    footerSection(`leastpath propose --env ${plan.environment}`),
  ]);
}

/** Soak facts that do not change from day to day (the age in days would edit the body on every run). */
export function promoteBody(plan: PlanDocument, from: string, soak: { lastChange: string; soakDays: number }, files: FileChange[]): string {
  const lead =
    `Promotes the workload intent and prefix lists of \`${from}\` to \`${plan.environment}\`, verbatim ` +
    `(\`environment.yaml\` is never promoted). Upstream unchanged on the default branch since ${soak.lastChange} ` +
    `(soak: ${soak.soakDays} days).`;
  return join([
    summarySection(lead, plan),
    whatIfSection(plan),
    ruleChangesSection(plan),
    adoptedSection(plan),
    expiringSection(plan),
    synthSection(plan),
    filesSection(files),
    footerSection(`leastpath promote --to ${plan.environment}`),
  ]);
}
