/** Plan renderers: text for terminals, markdown for pull requests, JSON for machines. What breaks comes first. */
import { protocolPort } from '../core/ports.js';
import { markdownCell } from '../core/text.js';
import type { AdoptedName } from './adopt-names.js';
import type { DnsWhatIf } from './dns-plan.js';
import type { ResolvedNetworkFirewall } from './model.js';
import { planRulePorts, reviewWhy, type PlanDocument, type PlanRule } from './plan.js';

type PlanFormat = 'text' | 'md' | 'json';

export function renderPlan(plan: PlanDocument, format: PlanFormat): string {
  if (format === 'json') return `${JSON.stringify(plan, null, 2)}\n`;
  return format === 'md' ? renderMarkdown(plan) : renderText(plan);
}

/** The headline a reviewer reads first. */
export function breakLine(plan: PlanDocument): string {
  const w = plan.whatIf;
  const breaks =
    w.denied.length === 0
      ? `This change would break no observed flow (${w.replayed} destinations, ${w.flows} flows replayed).`
      : `This change would break ${w.deniedFlows} flows of ${w.deniedWorkloads} workload${w.deniedWorkloads === 1 ? '' : 's'} ` +
        `(${w.denied.length} of ${w.replayed} observed destinations).`;
  return [breaks, ...evidenceLines(plan)].join(' ');
}

/** What the headline adds when the plan removes observed rules or stands on evidence with gaps (nothing otherwise). */
function evidenceLines(plan: PlanDocument): string[] {
  const e = plan.evidence;
  const out: string[] = [];
  if (e.removedObservedRules > 0) {
    out.push(
      `It removes ${e.removedObservedRules} observed rule${e.removedObservedRules === 1 ? '' : 's'} that carried ${e.removedObservedFlows} flows.`,
    );
  }
  if (e.gaps.length > 0) {
    const gap = (g: PlanDocument['evidence']['gaps'][number]) =>
      g.covered === null
        ? `${g.workload} (no coverage recorded)`
        : `${g.workload} (${g.covered} of ${g.days} days logged${g.kept ? `, evidence of ${g.kept.from} .. ${g.kept.to} kept` : ''})`;
    out.push(`Evidence with gaps: ${e.gaps.map(gap).join(', ')}.`);
  }
  return out;
}

/** The DNS what-if headline: what the firewall's allowlist would do to the window's queries. */
export function dnsLine(d: DnsWhatIf): string {
  const verb = d.mode === 'block' ? 'block' : d.mode === 'alert' ? 'alert on' : 'not allow';
  if (d.blocked.length === 0) return `DNS: the allowlist (${d.allowlist.length} names) allows every name the window's queries asked for.`;
  const workloads = new Set(d.blocked.map((b) => b.workload)).size;
  return `DNS: the firewall would ${verb} ${d.blockedQueries} queries of ${workloads} workload${workloads === 1 ? '' : 's'} (${d.blocked.length} names outside the allowlist of ${d.allowlist.length}).`;
}

/** A bold headline, then a table of `rows` under `head` when there are any. */
function boldTable(out: string[], headline: string, head: string, rows: readonly string[]): void {
  out.push('');
  out.push(`**${headline}**`);
  if (rows.length === 0) return;
  out.push('');
  out.push(head, ...rows);
}

/** The Network Firewall headline: which workloads have rule groups, and what they would drop of the window. */
export function networkFirewallLine(nf: ResolvedNetworkFirewall): string {
  const groups = nf.groups.map((g) => g.workload).join(', ') || 'none';
  const unplaced = nf.unplaced.length > 0 ? `; no group for ${nf.unplaced.join(', ')} (no known address)` : '';
  if (nf.dropped.length === 0)
    return `Network Firewall: rule groups for ${groups}${unplaced}; they would drop no observed connection by name.`;
  const flows = nf.dropped.reduce((n, d) => n + d.flows, 0);
  const n = nf.dropped.length;
  return `Network Firewall: rule groups for ${groups}${unplaced}; they would drop ${flows} flows to ${n} destination${n === 1 ? '' : 's'} whose names are not on the workload's list.`;
}

/** One adopted name: what it allows and which observed destinations it explains. */
export function adoptedLine(a: AdoptedName): string {
  const extra = a.addresses.filter((x) => !a.explains.includes(x)).length;
  return (
    `${a.workload} ${a.name} ${a.ports.join(', ')}: ${a.addresses.length} address${a.addresses.length === 1 ? '' : 'es'} ` +
    `(explains ${a.explains.length} observed, ${extra} more the name answered with) (${a.source})`
  );
}

/**
 * The name layer's what-if in markdown (the DNS what-if, then the Network Firewall drops), each line led by an empty
 * one; shared by the markdown plan and the pull-request bodies so both say the same.
 */
export function nameWhatIfMarkdown(p: PlanDocument): string[] {
  const out: string[] = [];
  if (p.dnsWhatIf) {
    boldTable(
      out,
      dnsLine(p.dnsWhatIf),
      '| workload | name | queries |\n|---|---|---:|',
      p.dnsWhatIf.blocked.map((b) => `| ${b.workload} | ${markdownCell(b.name)} | ${b.queries} |`),
    );
  }
  if (p.networkFirewall) {
    const rows = p.networkFirewall.dropped.map(
      (d) => `| ${d.workload} | ${d.destination} | tcp/${d.port} | ${markdownCell(d.names.join(', '))} | ${d.flows} |`,
    );
    boldTable(
      out,
      networkFirewallLine(p.networkFirewall),
      '| workload | destination | port | names | flows |\n|---|---|---|---|---:|',
      rows,
    );
  }
  return out;
}

/** The names `observed: adopt` adopted, as a markdown section (nothing without adoptNames). */
export function adoptedMarkdown(p: PlanDocument): string[] {
  if (!p.adoptedNames) return [];
  return ['', '#### Adopted by name', '', ...p.adoptedNames.map((a) => `- ${markdownCell(adoptedLine(a))}`)];
}

function ruleLine(r: PlanRule): string {
  const ports = planRulePorts(r);
  const ex = r.exception ? ` [exception: ${r.exception.owner}, expires ${r.exception.expires}]` : '';
  const seen = r.flows !== undefined ? ` [${r.flows} flows, last ${r.lastSeen}${r.decidedBy ? `, initiator by ${r.decidedBy}` : ''}]` : '';
  return `${r.workload.padEnd(12)} ${r.destination.padEnd(28)} ${ports.padEnd(14)} ${r.provenance.padEnd(8)} ${r.why}${ex}${seen}`;
}

function renderText(p: PlanDocument): string {
  const out: string[] = [];
  out.push(`plan ${p.environment} (${p.mode}${p.mode === 'audit' ? ': plan and report only, the stack takes nothing over' : ''})`);
  out.push(breakLine(p));
  for (const d of p.whatIf.denied) {
    out.push(`  BREAKS ${d.workload} -> ${d.destination} ${protocolPort(d)}: ${d.flows} flows, last ${d.lastSeen} (${d.reason})`);
  }
  if (p.dnsWhatIf) {
    out.push(dnsLine(p.dnsWhatIf));
    for (const b of p.dnsWhatIf.blocked)
      out.push(`  ${p.dnsWhatIf.mode === 'block' ? 'BLOCKS' : 'NOT ALLOWED'} ${b.workload} -> ${b.name}: ${b.queries} queries`);
  }
  if (p.networkFirewall) {
    out.push(networkFirewallLine(p.networkFirewall));
    for (const d of p.networkFirewall.dropped)
      out.push(`  DROPS ${d.workload} -> ${d.destination} tcp/${d.port} (${d.names.join(', ')}): ${d.flows} flows`);
  }
  out.push('');
  out.push(`rules: ${p.summary.rules} (${p.summary.intent} intent, ${p.summary.observed} observed) for ${p.summary.workloads} workloads`);
  for (const r of p.rules) out.push(`  ${ruleLine(r)}`);
  if (p.changes.baseline !== null) {
    out.push('');
    out.push(`changes against ${p.changes.baseline}: ${p.changes.added.length} added, ${p.changes.removed.length} removed`);
    for (const r of p.changes.added) out.push(`  + ${ruleLine(r)}`);
    for (const r of p.changes.removed) out.push(`  - ${ruleLine(r)}`);
  }
  out.push('');
  out.push('quota (rule units per security group):');
  for (const q of p.quota)
    out.push(
      `  ${q.workload.padEnd(12)} ${q.used}/${q.limit}${q.prefixListEntries ? ` (${q.rules} rules + ${q.prefixListEntries} prefix-list entries)` : ''}`,
    );
  if (p.domainChurn && p.domainChurn.length > 0) {
    out.push('');
    out.push('domain rules (addresses the names resolved to in the window):');
    for (const c of p.domainChurn) {
      out.push(
        `  ${c.workload} ${c.domains.join(', ')}: ${c.addresses} addresses, ${c.appeared} appeared and ${c.disappeared} disappeared within the window (${c.source})`,
      );
    }
  }
  if (p.adoptedNames) {
    out.push('');
    out.push('adopted by name (adoptNames: names that explain observed addresses):');
    for (const a of p.adoptedNames) out.push(`  ${adoptedLine(a)}`);
  }
  if (p.compaction.length > 0) {
    out.push('');
    out.push('compaction (to fit the quota):');
    for (const c of p.compaction) {
      out.push(
        `  ${c.workload} ${protocolPort(c)}: ${c.before} destinations -> ${c.after} CIDRs, ${c.extraAddresses} addresses allowed that were never observed`,
      );
    }
  }
  if (p.exceptions.length > 0) {
    out.push('');
    out.push('exceptions:');
    for (const e of p.exceptions) {
      out.push(
        `  ${e.workload} ${e.destination} ${e.ports}: ${e.reason} (${e.owner}${e.ticket ? `, ${e.ticket}` : ''}) expires ${e.expires}, ${e.daysLeft} days${e.expiringSoon ? ' EXPIRING SOON' : ''}`,
      );
    }
  }
  if (p.endpoints.length > 0) {
    out.push('');
    out.push('endpoints:');
    for (const e of p.endpoints) out.push(`  ${e.service} (${e.type}) for ${e.workloads.join(', ')}`);
  }
  if (p.quarantine.length > 0) {
    out.push('');
    out.push('quarantine (NACL rules; a NACL change drops established connections at once):');
    for (const q of p.quarantine)
      out.push(
        `  ${q.networkAcl} #${q.ruleNumber} ${q.egress ? 'egress ' : 'ingress'} ${q.action.padEnd(5)} ${q.cidr} (${q.subnet}: ${q.reason})`,
      );
  }
  const listed = p.notAdopted.filter((n) => n.reason === 'review' || n.reason === 'denied');
  if (listed.length > 0) {
    out.push('');
    out.push('observed but not adopted:');
    for (const n of listed) out.push(`  ${n.workload} ${n.destination} ${protocolPort(n)}: ${n.flows} flows (${n.reason}: ${n.detail})`);
  }
  return `${out.join('\n')}\n`;
}

function renderMarkdown(p: PlanDocument): string {
  const out: string[] = [];
  out.push(`### Plan for \`${p.environment}\` (${p.mode})`);
  out.push('');
  out.push(`**${breakLine(p)}**`);
  if (p.whatIf.denied.length > 0) {
    out.push('');
    out.push('| workload | destination | port | flows | last seen | why not allowed |');
    out.push('|---|---|---|---:|---|---|');
    for (const d of p.whatIf.denied) {
      out.push(`| ${d.workload} | ${d.destination} | ${protocolPort(d)} | ${d.flows} | ${d.lastSeen} | ${d.reason} |`);
    }
  }
  out.push(...nameWhatIfMarkdown(p));
  out.push('');
  out.push(`${p.summary.rules} rules (${p.summary.intent} intent, ${p.summary.observed} observed) for ${p.summary.workloads} workloads.`);
  if (p.changes.baseline !== null) {
    out.push('');
    out.push(`#### Changes against ${p.changes.baseline}: ${p.changes.added.length} added, ${p.changes.removed.length} removed`);
    if (p.changes.added.length + p.changes.removed.length > 0) {
      out.push('');
      out.push('| | workload | destination | ports | why | flows |');
      out.push('|---|---|---|---|---|---:|');
      for (const [sign, list] of [
        ['+', p.changes.added],
        ['−', p.changes.removed],
      ] as const) {
        for (const r of list) {
          out.push(
            `| ${sign} | ${r.workload} | ${r.destination} | ${planRulePorts(r)} | ${markdownCell(reviewWhy(r))} | ${r.flows ?? ''} |`,
          );
        }
      }
    }
  }
  out.push('');
  out.push('#### Quota');
  out.push('');
  out.push('| security group | used | limit |');
  out.push('|---|---:|---:|');
  for (const q of p.quota) out.push(`| ${q.workload} | ${q.used} | ${q.limit} |`);
  out.push(...adoptedMarkdown(p));
  const soon = p.exceptions.filter((e) => e.expiringSoon);
  if (p.exceptions.length > 0) {
    out.push('');
    out.push(`#### Exceptions (${soon.length} expiring within the guard-rail window)`);
    out.push('');
    out.push('| workload | destination | ports | reason | owner | expires |');
    out.push('|---|---|---|---|---|---|');
    for (const e of p.exceptions)
      out.push(
        `| ${e.workload} | ${markdownCell(e.destination)} | ${e.ports} | ${markdownCell(e.reason)} | ${markdownCell(e.owner)} | ${e.expires}${e.expiringSoon ? ' ⚠' : ''} |`,
      );
  }
  if (p.compaction.length > 0) {
    out.push('');
    out.push('#### Compaction');
    out.push('');
    for (const c of p.compaction) {
      out.push(
        `- ${c.workload} ${protocolPort(c)}: ${c.before} destinations merged into ${c.after} CIDRs, allowing ${c.extraAddresses} addresses never observed (the fewest possible for the rules left in the quota).`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}
