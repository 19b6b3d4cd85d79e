/**
 * The report query: rule hits, daily egress per destination (with which destinations are external: the volume
 * anomalies are computed from these rows, verify/volume.ts), rejections and beacon candidates, in one SQL text
 * that runs on DuckDB and on Athena (Trino), like the observe query it builds on: it appends its CTEs to the
 * conversation CTEs of observe/sql.ts (records, workload attribution, initiator decision), uses only functions
 * both engines share (lag, row_number, stddev_pop, bool_or, FILTER), and binds every value as a `?` parameter.
 *
 * A rule's hit is a flow-log record the rule admitted: log-status OK and ACCEPT, logged on an interface of the
 * rule's workload with that interface's own address as the workload's end, on the initiator's side (egress: a
 * record the workload sent in a conversation it initiated; ingress: a record it received in one the peer
 * initiated; responses ride on connection state and hit no rule), the peer inside the rule's CIDRs, prefix-list
 * entries or referenced workload's addresses, and the protocol (-1 all) and port range matching.
 */
import { numberOrNull, stringOrNull } from '../core/sql-values.js';
import type { AnomalyThresholds } from '../model/types.js';
import {
  ipv4IntExpr,
  ipv6HexExpr,
  rangeContains,
  renderOnConversations,
  ROUTABLE_REMOTE,
  valuesCte,
  type ObserveQueryInput,
  type RangeMatch,
  type RenderedQuery,
  type SqlParam,
} from '../observe/sql.js';

const DAY_SECONDS = 86_400;

/** A beacon: at least this share of its gaps (pauses longer than twice the period left out) lie near the period. */
export const BEACON_REGULAR_SHARE = 0.9;

/** One countable rule, in the forms the SQL compares. */
export interface RuleMatch {
  /** Index of the rule in the report's rule list. */
  id: number;
  workload: string;
  direction: 'egress' | 'ingress';
  /** IANA number; -1 = every protocol. */
  protocol: number;
  /** Port range for tcp/udp; null = every port. */
  fromPort: number | null;
  toPort: number | null;
  /** Peer CIDRs (a CIDR rule, or a prefix list's entries). */
  peer: RangeMatch;
  /** Peer workloads (a referenced group). */
  peerWorkloads: string[];
}

export interface ReportQueryInput extends ObserveQueryInput {
  rules: RuleMatch[];
  thresholds: AnomalyThresholds;
}

/** Builds the report query and its parameters, in the order the `?` marks appear. */
export function renderReportQuery(input: ReportQueryInput): RenderedQuery {
  return renderOnConversations(input, (p) => reportTail(input, p), true);
}

/** A coverage row's `instance subnet` (each '' when no selector names one, and conv then has no such column). */
function placeExpr(input: ReportQueryInput): string {
  const inst = input.workloads.some((w) => w.instances.length > 0) ? "coalesce(inst, '')" : "''";
  const subnet = input.workloads.some((w) => w.subnets.length > 0) ? "coalesce(subnet, '')" : "''";
  return `${inst} || ' ' || ${subnet}`;
}

/** The report's own CTEs and final SELECT, after the conversation CTEs. */
function reportTail(input: ReportQueryInput, p: (v: SqlParam) => string): string {
  const t = input.thresholds;
  const rule = valuesCte(
    'rule',
    [
      ['rid', 'BIGINT'],
      ['workload', 'VARCHAR'],
      ['direction', 'VARCHAR'],
      ['proto', 'BIGINT'],
      ['from_port', 'BIGINT'],
      ['to_port', 'BIGINT'],
    ],
    // -1 stands for "every port" (a NULL cannot be a typed parameter on both engines).
    input.rules.map((r) => [r.id, r.workload, r.direction, r.protocol, r.fromPort ?? -1, r.toPort ?? -1]),
    p,
  );
  const ruleV4 = valuesCte(
    'rule_v4',
    [
      ['rid', 'BIGINT'],
      ['lo', 'BIGINT'],
      ['hi', 'BIGINT'],
    ],
    input.rules.flatMap((r) => r.peer.v4.map((x) => [r.id, x.lo, x.hi])),
    p,
  );
  const ruleV6 = valuesCte(
    'rule_v6',
    [
      ['rid', 'BIGINT'],
      ['hex', 'VARCHAR'],
      ['nib_lo', 'BIGINT'],
      ['nib_hi', 'BIGINT'],
    ],
    input.rules.flatMap((r) => r.peer.v6.map((x) => [r.id, x.hex, x.nibLo, x.nibHi])),
    p,
  );
  const ruleWl = valuesCte(
    'rule_wl',
    [
      ['rid', 'BIGINT'],
      ['peer', 'VARCHAR'],
    ],
    input.rules.flatMap((r) => r.peerWorkloads.map((w) => [r.id, w])),
    p,
  );
  // Whole days since the window's first second (integer arithmetic only: both engines agree on it).
  const dayOf = (col: string) =>
    `CAST(((${col} - ${p(input.winFrom)}) - ((${col} - ${p(input.winFrom)}) % ${DAY_SECONDS})) / ${DAY_SECONDS} AS BIGINT)`;

  const report = `,
${rule},
${ruleV4},
${ruleV6},
${ruleWl},
-- Conversations with their initiator: L = the workload, R = the peer. A conversation that the workload's own
-- interface did not log while that interface is logged is another interface's translated view (NAT) and is left out.
conn AS (
  SELECT d.workload, d.laddr, d.lport, d.raddr, d.rport, d.proto, substr(d.decision, 1, 1) AS side,
    d.rejected, d.rej_flows, d.rej_last, d.own_iface
  FROM decided d
  WHERE d.decision IS NOT NULL AND (d.seen_own OR NOT d.laddr_logged)
    AND ${ROUTABLE_REMOTE}
),
-- Every record in the window on a workload's own interface, from the workload's end: out = it sent it.
own_rec AS (
  SELECT w.workload, o.dir, o.laddr, o.lport, o.raddr, o.rport, o.proto, o.start, o.bytes, o.flags
  FROM (
    SELECT d.dir, r.iface, r.proto, r.start, r.bytes, r.flags,
      CASE WHEN d.dir = 'out' THEN r.src ELSE r.dst END AS laddr,
      CASE WHEN d.dir = 'out' THEN r.sport ELSE r.dport END AS lport,
      CASE WHEN d.dir = 'out' THEN r.dst ELSE r.src END AS raddr,
      CASE WHEN d.dir = 'out' THEN r.dport ELSE r.sport END AS rport
    FROM rec r CROSS JOIN (VALUES ('out'), ('in')) AS d (dir)
    WHERE r.log_status = 'OK' AND r.action = 'ACCEPT' AND r.start >= ${p(input.winFrom)}
  ) o
  JOIN iface_addr ia ON ia.iface = o.iface AND ia.addr = o.laddr
  JOIN wl_addr w ON w.addr = o.laddr
),
conv_rec AS (
  SELECT o.workload, o.dir, c.side, o.laddr, o.lport, o.raddr, o.rport, o.proto, o.start, o.bytes,
    (o.flags % 4 >= 2 AND o.flags % 32 < 16) AS syn, ${dayOf('o.start')} AS d
  FROM own_rec o
  JOIN conn c ON c.workload = o.workload AND c.laddr = o.laddr AND c.lport = o.lport AND c.raddr = o.raddr
    AND c.rport = o.rport AND c.proto = o.proto
),
-- Records a rule admitted: the initiator's records only (egress: sent in a conversation the workload opened;
-- ingress: received in one the peer opened). port is the service port: the peer's for egress, the workload's for ingress.
hit_key AS (
  SELECT workload, CASE WHEN dir = 'out' THEN 'egress' ELSE 'ingress' END AS direction, raddr,
    CASE WHEN dir = 'out' THEN rport ELSE lport END AS port, proto, count(*) AS n, max(start) AS last_start
  FROM conv_rec
  WHERE (dir = 'out' AND side = 'L') OR (dir = 'in' AND side = 'R')
  GROUP BY workload, CASE WHEN dir = 'out' THEN 'egress' ELSE 'ingress' END, raddr, CASE WHEN dir = 'out' THEN rport ELSE lport END, proto
),
rule_match AS (
  SELECT r.rid, k.workload, k.direction, k.raddr, k.port, k.proto, k.n, k.last_start
  FROM hit_key k
  JOIN rule r ON r.workload = k.workload AND r.direction = k.direction
    AND (r.proto = -1 OR r.proto = k.proto)
    AND (r.proto = -1 OR r.from_port = -1 OR k.proto NOT IN (6, 17) OR k.port BETWEEN r.from_port AND r.to_port)
),
-- The workload peers' addresses of each rule.
rule_peer_addr AS (
  SELECT g.rid, wa.addr FROM rule_wl g JOIN wl_addr wa ON wa.workload = g.peer
),
-- DISTINCT: a record inside two entries of one prefix list is still one hit of the rule. One pass over rule_match
-- with a join per kind of peer, not a UNION of three: Athena would read the table again for each (see addrs).
peer_match AS (
  SELECT DISTINCT m.* FROM (
    SELECT r.*,
      CASE WHEN strpos(raddr, ':') = 0 THEN ${ipv4IntExpr('raddr')} END AS v4,
      CASE WHEN strpos(raddr, ':') > 0 THEN ${ipv6HexExpr('raddr')} END AS v6
    FROM rule_match r
  ) m
  LEFT JOIN rule_v4 v ON v.rid = m.rid AND m.v4 BETWEEN v.lo AND v.hi
  LEFT JOIN rule_v6 x ON x.rid = m.rid AND substr(m.v6, 1, length(x.hex)) = x.hex
    AND strpos('0123456789abcdef', substr(m.v6, length(x.hex) + 1, 1)) - 1 BETWEEN x.nib_lo AND x.nib_hi
  LEFT JOIN rule_peer_addr g ON g.rid = m.rid AND g.addr = m.raddr
  WHERE v.rid IS NOT NULL OR x.rid IS NOT NULL OR g.rid IS NOT NULL
),
rule_hits AS (
  SELECT rid, sum(n) AS hits, max(last_start) AS last_start FROM peer_match GROUP BY rid
),
-- What the workload initiated, per destination and day: the charts, and the volume baseline.
egress_day AS (
  SELECT workload, raddr, rport AS port, proto, d,
    count(*) FILTER (WHERE dir = 'out') AS flows, coalesce(sum(bytes) FILTER (WHERE dir = 'out'), 0) AS bytes
  FROM conv_rec
  WHERE side = 'L'
  GROUP BY workload, raddr, rport, proto, d
),
-- Addresses outside the VPC that are no workload's: the destinations anomalies are looked for at. (Volume anomalies
-- are computed from the daily rows, verify/volume.ts: their medians over "the other days" are self-joins, each a
-- new read of the table on Athena.)
ext_addr AS (
  SELECT a.addr FROM addr_num a
  LEFT JOIN wl_addr w ON w.addr = a.addr
  WHERE w.addr IS NULL AND NOT ${rangeContains(input.vpc, p, 'a.v4', 'a.v6')}
),
-- Connections the workload opened: each SYN it sent starts one; a conversation without a SYN (UDP, records
-- without tcp-flags) is one connection, starting at its first record. A kept-alive connection is one, however many
-- records it has. Windows over one pass of conv_rec, not a UNION of two reads and a join with the destination's
-- bytes: on Athena each would read the table again (see addrs in observe/sql.ts).
conn_start AS (
  SELECT workload, raddr, rport, proto, start, dest_bytes FROM (
    SELECT workload, raddr, rport, proto, start, dir, syn,
      bool_or(dir = 'out' AND syn) OVER (PARTITION BY workload, laddr, lport, raddr, rport, proto) AS opened_by_syn,
      row_number() OVER (PARTITION BY workload, laddr, lport, raddr, rport, proto ORDER BY start, dir) AS rn,
      sum(bytes) OVER (PARTITION BY workload, raddr, rport, proto) AS dest_bytes
    FROM conv_rec
    WHERE side = 'L'
  ) c
  WHERE (dir = 'out' AND syn) OR (NOT opened_by_syn AND rn = 1)
),
gaps AS (
  SELECT workload, raddr, rport, proto, start, dest_bytes,
    start - lag(start) OVER (PARTITION BY workload, raddr, rport, proto ORDER BY start) AS gap
  FROM conn_start
),
-- The period of a destination's connections: the median gap (ranks rn with 2 * rn in (cnt, cnt + 1, cnt + 2) among
-- the gaps, the first connection's missing gap ranked apart).
gap_ranked AS (
  SELECT g.*,
    row_number() OVER (PARTITION BY workload, raddr, rport, proto, gap IS NULL ORDER BY gap) AS rn,
    count(*) OVER (PARTITION BY workload, raddr, rport, proto, gap IS NULL) AS cnt
  FROM gaps g
),
gap_period AS (
  SELECT r.*,
    avg(CASE WHEN gap IS NOT NULL AND 2 * rn IN (cnt, cnt + 1, cnt + 2) THEN gap END)
      OVER (PARTITION BY workload, raddr, rport, proto) AS period
  FROM gap_ranked r
),
-- A beacon: most gaps lie within beaconMaxJitter of the period. Gaps longer than twice the period are pauses (the
-- host slept overnight, records fell into a SKIPDATA hole) and are left out of the count; random traffic has few
-- gaps near its median (about one in ten within 10% for a Poisson stream), a beacon nearly all of them.
beacon AS (
  SELECT g.workload, g.raddr, g.rport, g.proto, count(*) AS conns, min(g.start) AS first_start, max(g.start) AS last_start,
    max(g.period) AS period,
    stddev_pop(g.gap) FILTER (WHERE abs(g.gap - g.period) <= ${p(t.beaconMaxJitter)} * g.period) AS sd_gap,
    max(g.dest_bytes) AS bytes
  FROM gap_period g
  GROUP BY g.workload, g.raddr, g.rport, g.proto
  HAVING count(*) >= ${p(t.beaconMinFlows)} AND max(g.period) > 0
    AND count(*) FILTER (WHERE abs(g.gap - g.period) <= ${p(t.beaconMaxJitter)} * g.period)
      >= ${p(BEACON_REGULAR_SHARE)} * count(*) FILTER (WHERE g.gap <= 2 * g.period)
    AND max(g.dest_bytes) <= ${p(t.beaconMaxBytesPerFlow)} * count(*)
),
-- The daily rows say which destinations are external, and beacons are kept only at those: one join with ext_addr
-- for both (two joins would read the table twice more on Athena).
dest_rows AS (
  SELECT 'daily' AS kind, workload, raddr, port, proto, d, flows AS n, bytes, CAST(NULL AS BIGINT) AS first_start,
    CAST(NULL AS BIGINT) AS last_start, CAST(NULL AS DOUBLE) AS period, CAST(NULL AS DOUBLE) AS sd_gap
  FROM egress_day
  UNION ALL
  SELECT 'beacon' AS kind, workload, raddr, rport, proto, NULL, conns, bytes, first_start, last_start, period, sd_gap
  FROM beacon
),
-- Rejections per destination, and (a second grouping set of the same pass: a read of conn of its own would read the
-- table again on Athena) each workload's own interfaces, for its coverage.
rejected AS (
  SELECT workload, raddr, proto, rport, own_iface, grouping(own_iface) AS by_dest,
    bool_or(side = 'L' AND rejected) AS any_rejected,
    sum(CASE WHEN side = 'L' AND rejected THEN rej_flows ELSE 0 END) AS flows,
    max(CASE WHEN side = 'L' AND rejected THEN rej_last END) AS last_start
  FROM conn
  GROUP BY GROUPING SETS ((workload, raddr, proto, rport), (workload, own_iface))
)
SELECT 'hit' AS kind, CAST(NULL AS VARCHAR) AS workload, CAST(NULL AS VARCHAR) AS raddr, CAST(NULL AS BIGINT) AS port,
  CAST(NULL AS BIGINT) AS proto, rid, CAST(NULL AS BIGINT) AS d, hits AS n, CAST(0 AS BIGINT) AS bytes,
  CAST(NULL AS BIGINT) AS first_start, last_start, CAST(NULL AS DOUBLE) AS period, CAST(NULL AS DOUBLE) AS sd_gap, CAST(NULL AS VARCHAR) AS basis
FROM rule_hits
UNION ALL
SELECT r.kind, r.workload, r.raddr, r.port, r.proto, NULL, r.d, r.n, r.bytes, r.first_start, r.last_start, r.period, r.sd_gap,
  CASE WHEN r.kind = 'daily' AND x.addr IS NOT NULL THEN 'external' END
FROM dest_rows r LEFT JOIN ext_addr x ON x.addr = r.raddr
WHERE r.kind = 'daily' OR x.addr IS NOT NULL
UNION ALL
SELECT CASE WHEN by_dest = 1 THEN 'rejected' ELSE 'iface' END AS kind, workload, CASE WHEN by_dest = 1 THEN raddr ELSE own_iface END,
  rport, proto, NULL, NULL, flows, 0, NULL, last_start, NULL, NULL, NULL
FROM rejected
WHERE (by_dest = 1 AND any_rejected) OR (by_dest = 0 AND own_iface IS NOT NULL)
UNION ALL
-- Coverage, as observe records it: records per interface, UTC day (d, days since 1970) and log status (workload =
-- the status, raddr = the interface, basis = "instance subnet"); each workload's own interfaces are the iface rows.
SELECT 'coverage' AS kind, log_status, iface, NULL, NULL, NULL, dix, n_win, 0, NULL, NULL, NULL, NULL,
  ${placeExpr(input)}
FROM coverage

ORDER BY kind, workload, raddr, port, proto, rid, d`;
  return report;
}

// --- the rows of the report query, by kind ------------------------------------------------------------------
// The final SELECT unions every kind into one set of columns: each decoder below reads the columns its kind fills.

/** A counted rule's hits (`rid`, `n`, `last_start`): the records it admitted, and the start of the last one. */
export interface HitRow {
  kind: 'hit';
  /** Index of the rule in the report's rule list (RuleMatch.id). */
  rule: number | null;
  hits: number;
  lastStart: number | null;
}

/** The destination columns of a daily, beacon or rejected row: `workload`, `raddr`, `port`, `proto`. */
interface DestinationRow {
  workload: string | null;
  raddr: string | null;
  port: number | null;
  proto: number | null;
}

/** What a workload initiated to one destination on one day (`d`: days since the window's first day). */
export interface DailyRow extends DestinationRow {
  kind: 'daily';
  day: number | null;
  flows: number;
  bytes: number;
  /** Outside the VPC and no workload's address (`basis = 'external'`): where volume anomalies are looked for. */
  external: boolean;
}

/** An external destination the workload connects to at a regular period (`n` connections, `sd_gap`). */
export interface BeaconRow extends DestinationRow {
  kind: 'beacon';
  connections: number;
  bytes: number;
  firstStart: number | null;
  lastStart: number | null;
  /** The median gap between connections, in seconds. */
  period: number | null;
  /** The standard deviation of the gaps near the period, in seconds. */
  gapDeviation: number | null;
}

/** Records the workload's connections to a destination got rejected (`n` flows). */
export interface RejectedRow extends DestinationRow {
  kind: 'rejected';
  flows: number;
  lastStart: number | null;
}

/** One of a workload's own interfaces (in `raddr`). */
export interface IfaceRow {
  kind: 'iface';
  workload: string | null;
  iface: string | null;
}

/** Records per interface, UTC day and log status, as observe counts coverage (status in `workload`, `basis` the place). */
export interface CoverageRow {
  kind: 'coverage';
  status: string | null;
  iface: string | null;
  /** Days since 1970. */
  epochDay: number | null;
  records: number;
  /** `instance subnet` of the interface. */
  place: string | null;
}

/** One row of the report query. */
export type ReportRow = HitRow | DailyRow | BeaconRow | RejectedRow | IfaceRow | CoverageRow;

/** A row of the report query (DuckDB values or Athena strings), decoded by its kind. */
export function decodeReportRow(r: Record<string, unknown>): ReportRow {
  const num = numberOrNull;
  const str = stringOrNull;
  const destination = (): DestinationRow => ({ workload: str(r.workload), raddr: str(r.raddr), port: num(r.port), proto: num(r.proto) });
  const kind = String(r.kind);
  switch (kind) {
    case 'hit':
      return { kind, rule: num(r.rid), hits: num(r.n) ?? 0, lastStart: num(r.last_start) };
    case 'daily':
      return {
        kind,
        ...destination(),
        day: num(r.d),
        flows: num(r.n) ?? 0,
        bytes: num(r.bytes) ?? 0,
        external: str(r.basis) === 'external',
      };
    case 'beacon':
      return {
        kind,
        ...destination(),
        connections: num(r.n) ?? 0,
        bytes: num(r.bytes) ?? 0,
        firstStart: num(r.first_start),
        lastStart: num(r.last_start),
        period: num(r.period),
        gapDeviation: num(r.sd_gap),
      };
    case 'rejected':
      return { kind, ...destination(), flows: num(r.n) ?? 0, lastStart: num(r.last_start) };
    case 'iface':
      return { kind, workload: str(r.workload), iface: str(r.raddr) };
    case 'coverage':
      return { kind, status: str(r.workload), iface: str(r.raddr), epochDay: num(r.d), records: num(r.n) ?? 0, place: str(r.basis) };
    default:
      throw new Error(`report query: a row of unknown kind ${JSON.stringify(kind)}`);
  }
}
