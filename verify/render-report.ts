/** The report document rendered as JSON (one document), markdown (PR bodies) or one self-contained HTML page. */
import { protocolPort } from '../core/ports.js';
import { markdownCell } from '../core/text.js';
import { renderReportHtml } from './render-html.js';
import { formatBytes, rulePorts, type ReportDocument } from './report.js';

type ReportFormat = 'json' | 'md' | 'html';

export function renderReport(doc: ReportDocument, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(doc, null, 2)}\n`;
    case 'md':
      return renderReportMarkdown(doc);
    case 'html':
      return renderReportHtml(doc);
  }
}

function renderReportMarkdown(doc: ReportDocument): string {
  const s = doc.summary;
  const out: string[] = [];
  out.push(`## leastpath report: ${doc.environment}`);
  out.push('');
  if (doc.window.noRecords) {
    out.push(
      `> **No flow-log records in this window.** No records is not no traffic: check the flow-log delivery. No rule is called unused; every counted rule is listed under "No evidence".`,
    );
    out.push('');
  }
  out.push(
    `Counted: ${doc.window.counted}. Rules: ${doc.rulesFrom === 'resolved' ? 'the resolved rules (what leastpath writes)' : `\`${doc.rulesFrom}\` (DescribeSecurityGroupRules)`}.`,
  );
  out.push('');
  out.push(
    `**${s.hits}** hits on ${s.counted} counted rules, **${s.unused}** unused, ${s.noEvidence > 0 ? `${s.noEvidence} without evidence, ` : ''}${s.notCounted} not counted; **${s.rejected}** rejected destinations; **${s.anomalies}** anomalies.`,
  );
  out.push('');

  out.push('### Unused rules');
  out.push('');
  if (doc.unused.length === 0) out.push('None: every counted rule admitted traffic in the window.');
  else {
    out.push('| group | direction | peer | ports | why |', '|---|---|---|---|---|');
    for (const r of doc.unused)
      out.push(`| ${markdownCell(r.group)} | ${r.direction} | ${markdownCell(r.peer)} | ${rulePorts(r)} | ${markdownCell(r.why ?? '')} |`);
  }
  out.push('');

  const gaps = doc.coverage.filter((c) => c.covered < c.days);
  if (doc.noEvidence.length > 0 || gaps.length > 0) {
    out.push('### No evidence (never "unused")');
    out.push('');
    if (gaps.length > 0) {
      out.push(
        `Workloads whose interfaces did not log every day: ${gaps.map((c) => `${markdownCell(c.workload)} (${c.covered} of ${c.days} days)`).join(', ')}. A rule is unused only over the days its workload logged.`,
      );
      out.push('');
    }
    if (doc.noEvidence.length > 0) {
      out.push('| group | direction | peer | ports | why |', '|---|---|---|---|---|');
      for (const r of doc.noEvidence)
        out.push(
          `| ${markdownCell(r.group)} | ${r.direction} | ${markdownCell(r.peer)} | ${rulePorts(r)} | ${markdownCell(r.why ?? '')} |`,
        );
      out.push('');
    }
  }

  const notCounted = doc.rules.filter((r) => !r.counted);
  if (notCounted.length > 0) {
    out.push('### Not counted (never "unused")');
    out.push('');
    out.push('| group | direction | peer | ports | why not |', '|---|---|---|---|---|');
    for (const r of notCounted)
      out.push(
        `| ${markdownCell(r.group)} | ${r.direction} | ${markdownCell(r.peer)} | ${rulePorts(r)} | ${markdownCell(r.notCounted ?? '')} |`,
      );
    out.push('');
  }

  if (doc.rulesFrom !== 'resolved') {
    out.push('### Rules outside leastpath on adopted groups');
    out.push('');
    if (doc.outside.length === 0) out.push('None: every egress rule of the adopted groups was written by leastpath.');
    else {
      out.push(
        'The stack never removes these rules (it owns only the rules it writes), so each group still allows what they allow. Revoke each once:',
      );
      out.push('');
      out.push('| group | rule | peer | ports | hits | revoke |', '|---|---|---|---|---:|---|');
      for (const r of doc.outside) {
        out.push(
          `| ${markdownCell(r.group)} (${r.outside!.groupId}) | ${r.ruleId ?? '-'} | ${markdownCell(r.peer)} | ${rulePorts(r)} | ${r.counted ? r.hits : 'not counted'} | ${r.outside!.revoke ? `\`${r.outside!.revoke}\`` : '-'} |`,
        );
      }
    }
    out.push('');
  }

  out.push('### Rejected');
  out.push('');
  if (doc.rejected.length === 0) out.push('Nothing was rejected in the window.');
  else {
    out.push('| workload | destination | ports | flows | last seen |', '|---|---|---|---:|---|');
    for (const r of doc.rejected) {
      out.push(`| ${r.workload} | ${r.destination} | ${protocolPort(r)} | ${r.flows} | ${r.lastSeen} |`);
    }
  }
  out.push('');

  out.push('### Anomalies (a triage list, not proof)');
  out.push('');
  if (doc.anomalies.length === 0) out.push('None.');
  else {
    out.push('| kind | workload | destination | port | flows | bytes | why |', '|---|---|---|---|---:|---:|---|');
    for (const a of doc.anomalies) {
      out.push(
        `| ${a.kind} | ${a.workload} | ${a.destination} | ${protocolPort(a)} | ${a.flows} | ${formatBytes(a.bytes)} | ${markdownCell(a.why)} |`,
      );
    }
  }
  out.push('');

  if (doc.dns) {
    out.push('### Names (Route 53 Resolver query logs)');
    out.push('');
    out.push(
      `${doc.dns.queries} queries in the window.${doc.dns.queries === 0 ? ' No query logs: no allowed name is called unused.' : ''}`,
    );
    out.push('');
    out.push('| allowed name | queries | workloads |', '|---|---:|---|');
    for (const a of doc.dns.allowed) out.push(`| ${markdownCell(a.name)} | ${a.queries} | ${markdownCell(a.workloads.join(', '))} |`);
    out.push('');
    if (doc.dns.unused.length > 0) out.push(`Unused allowed names: ${doc.dns.unused.map(markdownCell).join(', ')}.`, '');
    if (doc.dns.firewall.length > 0) {
      out.push(
        'Names the existing DNS Firewall blocked or alerted on:',
        '',
        '| workload | name | action | queries |',
        '|---|---|---|---:|',
      );
      for (const f of doc.dns.firewall) out.push(`| ${f.workload} | ${markdownCell(f.name)} | ${f.action} | ${f.queries} |`);
      out.push('');
    }
  }

  out.push('<details><summary>Hits per rule</summary>');
  out.push('');
  out.push('| group | direction | peer | ports | hits | last hit |', '|---|---|---|---|---:|---|');
  for (const r of doc.rules) {
    out.push(
      `| ${markdownCell(r.group)} | ${r.direction} | ${markdownCell(r.peer)} | ${rulePorts(r)} | ${r.counted ? r.hits : 'not counted'} | ${r.lastHit ?? '-'} |`,
    );
  }
  out.push('');
  out.push('</details>');
  return `${out.join('\n')}\n`;
}
