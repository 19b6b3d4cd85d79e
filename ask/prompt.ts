/**
 * What `ask` sends to a model, and how it reads the answer. Pure. The model gets the table's schema and the
 * question, never a row of data: the exact columns and types of ask/schema.ts, the table name the environment
 * uses, the partition column and the validator's rules, so that a well-behaved answer passes `sql check`.
 */
import { DNS_LOG_COLUMNS, FLOW_LOG_COLUMNS } from './schema.js';
import { ALLOWED_FUNCTIONS, type SqlPolicy } from './sql-guard.js';

export interface ChatPrompt {
  /** The instructions and the schema (the system prompt). */
  system: string;
  /** The user's question, as given. */
  user: string;
}

/** What some columns hold, beyond their type. */
const NOTES: Record<string, string> = {
  srcaddr: 'source IPv4 or IPv6 address, as text',
  dstaddr: 'destination address, as text',
  srcport: 'source port',
  dstport: 'destination port',
  protocol: 'IANA protocol number: 6 tcp, 17 udp, 1 icmp, 58 icmpv6',
  packets: 'packets in the record',
  bytes: 'bytes in the record',
  start: 'first packet of the record, Unix seconds (quote it: "start")',
  end: 'last packet of the record, Unix seconds (quote it: "end")',
  action: "'ACCEPT' or 'REJECT'",
  log_status: "'OK', 'NODATA' or 'SKIPDATA'",
  tcp_flags: 'OR of the TCP flags seen: 2 SYN, 18 SYN-ACK, 1 FIN, 4 RST',
  flow_direction: "'ingress' or 'egress'",
  pkt_dst_aws_service: "AWS service of the destination, like 'S3' or 'AMAZON', or NULL",
};

/** The system prompt and the user message for one question. `today` is YYYY-MM-DD (UTC). */
/** What the query-log columns hold, for the model. */
const DNS_NOTES: Record<string, string> = {
  query_timestamp: "ISO 8601 UTC text, e.g. '2026-11-08T10:00:01Z'",
  query_name: "the name asked for, with a trailing dot, e.g. 'api.stripe.com.'",
  rcode: 'NOERROR, NXDOMAIN, SERVFAIL, ...',
  srcaddr: 'the address of the instance that asked',
  firewall_rule_action: 'ALLOW, ALERT or BLOCK when a DNS Firewall rule matched, else NULL',
  day: "partition column: the UTC day of query_timestamp as text 'YYYY/MM/DD'",
};

export function buildPrompt(question: string, policy: SqlPolicy, today: string): ChatPrompt {
  const day = policy.partitionColumn;
  const dns = policy.logs === 'dns';
  const columns = dns
    ? DNS_LOG_COLUMNS.map((c) => `  ${c.name} ${c.type}${DNS_NOTES[c.name] ? ` -- ${DNS_NOTES[c.name]}` : ''}`)
    : FLOW_LOG_COLUMNS.map((c) => {
        const note = c.name === day ? `partition column: the UTC day of "start" as text 'YYYY/MM/DD'` : NOTES[c.name];
        return `  ${c.name} ${c.type}${note ? ` -- ${note}` : ''}`;
      });
  const example = today.replace(/-/g, '/');
  const system = [
    `You turn questions about ${dns ? 'Amazon Route 53 Resolver query logs' : 'AWS VPC Flow Logs'} into exactly one SQL query (Trino / Amazon Athena dialect).`,
    '',
    `Table ${policy.table}, one row per ${dns ? 'DNS query' : 'flow-log record'}:`,
    ...columns,
    '',
    'Rules the query must follow (any other query is refused):',
    '- Exactly one SELECT statement (WITH ... SELECT is fine). Answer with the SQL only: no explanation, no comments, no code fence.',
    `- Read only the table ${policy.table}, its columns above, and the query's own CTEs and subqueries.`,
    `- Every SELECT that reads ${policy.table} must bound ${day} from below in its WHERE with days written 'YYYY/MM/DD', as a top-level AND term: ` +
      `${day} = '${example}', ${day} BETWEEN '2026/01/01' AND '2026/01/31', ${day} >= '2026/01/01', or ${day} IN ('...', '...').`,
    `- Today is ${example} (UTC); when the question names no day, use today.`,
    ...(policy.earliestDay ? [`- The earliest day kept is ${policy.earliestDay}: never bound ${day} from below with an earlier day.`] : []),
    `- Functions allowed: ${ALLOWED_FUNCTIONS.join(', ')}. Operators: = <> < <= > >= + - * / % || AND OR NOT LIKE IN BETWEEN IS NULL, ` +
      "IS DISTINCT FROM, CASE, CAST, EXTRACT(HOUR FROM ...), INTERVAL '7' DAY, TIMESTAMP '2026-01-01 00:00:00'.",
    '- Strings in single quotes; identifiers that are keywords in double quotes ("start", "end"); no backticks, no backslashes, no semicolons.',
    `- End with LIMIT n, n at most ${policy.maxLimit}.`,
  ].join('\n');
  return { system, user: question };
}

const FENCE = /^```[ \t]*(?:sql)?[ \t]*\r?\n([\s\S]*?)\r?\n?```$/i;

/** The model's answer as a query: trimmed, without one ```sql fence around all of it. Anything else is left to the validator. */
export function stripFence(answer: string): string {
  const text = answer.trim();
  const m = FENCE.exec(text);
  return (m ? (m[1] as string) : text).trim();
}
