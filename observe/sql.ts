/**
 * The observe query: one SQL text that runs unchanged on DuckDB (embedded) and on Amazon Athena (Trino).
 * It uses only functions both engines share (split_part, strpos, lpad, substr, replace, try_cast, bool_or,
 * FILTER, row_number, VALUES), so the text the tests run on DuckDB is the text Athena gets. Every value
 * comes in as a `?` parameter; the only identifier, the relation, is validated before it is quoted.
 *
 * What it decides is domain.md "Which side is the destination": for every conversation (the records of one
 * 5-tuple, both directions, on every interface that logged them) it decides who initiated, in the order
 * tcp-flags, reverse-flow, listening-port, well-known-port (flow-direction for portless protocols), and
 * keeps the connections a workload initiated: established (accepted both ways) -> egress, stopped by a
 * REJECT -> rejected.
 */
import { UsageError } from '../core/errors.js';
import { numberOrNull, stringOrNull } from '../core/sql-values.js';
import type { ObserveRow } from './observe-row.js';

export type SqlParam = string | number;

/** How one workload's records are recognised, in the forms the SQL compares. */
export interface WorkloadMatch extends RangeMatch {
  workload: string;
  interfaces: string[];
  instances: string[];
  subnets: string[];
}

/** CIDRs in the forms the SQL compares. */
export interface RangeMatch {
  v4: { lo: number; hi: number }[];
  v6: { hex: string; nibLo: number; nibHi: number }[];
}

export interface ObserveQueryInput {
  /** Relation to read: `flow_logs` (DuckDB view) or `database.table` (Athena). */
  relation: string;
  workloads: WorkloadMatch[];
  /** The VPC's CIDRs: when an interface's own address is in doubt (v2), the address inside the VPC is it. */
  vpc: RangeMatch;
  /** Partition filter on the `day` column (`YYYY/MM/DD`, inclusive). */
  dayFrom: string;
  dayTo: string;
  /** Records starting before this (epoch s) are not read: the look-back for handshakes before the window. */
  scanFrom: number;
  /** The observation window [winFrom, winTo) in epoch seconds. */
  winFrom: number;
  winTo: number;
  /**
   * TCP connections an earlier observe decided by tcp-flags and saw still open (observed files' `openConnections`):
   * their decision stands when this scan sees only their middle. Absent: none.
   */
  carried?: readonly CarriedConnection[];
}

/** A TCP connection whose initiator tcp-flags decided: the client sent the SYN. */
export interface CarriedConnection {
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
}

export interface RenderedQuery {
  sql: string;
  params: SqlParam[];
}

/** Ports below this, or in KNOWN_SERVICE_PORTS, are service ports; the rest are ephemeral. */
const WELL_KNOWN_BELOW = 1024;

/** Registered service ports above 1023 that clients commonly connect to. */
const KNOWN_SERVICE_PORTS = [
  1433, 1521, 2049, 2181, 2375, 2376, 2379, 3000, 3306, 3389, 4222, 4317, 4318, 5000, 5044, 5432, 5439, 5601, 5671, 5672, 6379, 6443, 7000,
  7001, 7199, 8000, 8080, 8081, 8086, 8088, 8125, 8200, 8443, 8500, 8883, 9000, 9042, 9090, 9092, 9093, 9094, 9200, 9300, 9418, 9443, 10250,
  11211, 15672, 27017, 50051,
];

/**
 * How late AWS may log a record's start ("up to 60 seconds after the packet was transmitted"): when the first records
 * of the two directions start closer than this, their order is only a tie-break after the port evidence.
 */
const START_TOLERANCE_SECONDS = 60;

/**
 * The longest record aggregation interval (600 s). A conversation whose first record starts this close to
 * the start of the scan may have begun before it, so its record order says nothing about who spoke first.
 */
const MAX_AGGREGATION_SECONDS = 600;

/** Ranks of the deciding rule, strongest first; the output names the strongest that decided any connection. */
export const DECISION_RANK = ['tcp-flags', 'reverse-flow', 'listening-port', 'well-known-port', 'flow-direction'] as const;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * SQL true when the remote address `raddr` is one a security group never sees: link-local (instance metadata,
 * Time Sync, the ECS credentials address), multicast, broadcast and unspecified addresses.
 */
export const ROUTABLE_REMOTE = `raddr NOT LIKE '169.254.%' AND lower(raddr) NOT LIKE 'fe8%' AND lower(raddr) NOT LIKE 'fe9%'
    AND lower(raddr) NOT LIKE 'fea%' AND lower(raddr) NOT LIKE 'feb%' AND lower(raddr) NOT LIKE 'ff%'
    AND raddr NOT IN ('255.255.255.255', '0.0.0.0', '::')
    AND NOT (strpos(raddr, ':') = 0 AND try_cast(split_part(raddr, '.', 1) AS BIGINT) BETWEEN 224 AND 239)`;

/** Quotes `name` or `db.name` after checking each part is a plain identifier (never user text in SQL). */
export function quoteRelation(relation: string): string {
  const parts = relation.split('.');
  if (parts.length > 2 || parts.some((p) => !IDENT.test(p))) {
    throw new UsageError(`table name ${JSON.stringify(relation)} must be [A-Za-z_][A-Za-z0-9_]* or database.table`);
  }
  return parts.map((p) => `"${p}"`).join('.');
}

/** The 32-hex-digit form of an IPv6 address column, in functions DuckDB and Trino share. */
export function ipv6HexExpr(col: string): string {
  // Make `::` inner (pad a leading/trailing group), count groups, expand `::`, then pad each group to 4.
  const edged = `(CASE WHEN ${col} LIKE '::%' THEN '0' ELSE '' END || ${col} || CASE WHEN ${col} LIKE '%::' THEN '0' ELSE '' END)`;
  const colons = `(length(${edged}) - length(replace(${edged}, ':', '')))`;
  const full =
    `(CASE WHEN strpos(${edged}, '::') > 0 ` +
    `THEN replace(${edged}, '::', ':' || lpad('', CAST(2 * (8 - ${colons}) AS INTEGER), '0:')) ELSE ${edged} END)`;
  const groups = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `lpad(split_part(${full}, ':', ${i}), 4, '0')`);
  return `lower(${groups.join(' || ')})`;
}

/** An IPv4 address column as an integer (NULL when it is not a dotted quad). */
export function ipv4IntExpr(col: string): string {
  const octet = (i: number) => `try_cast(split_part(${col}, '.', ${i}) AS BIGINT)`;
  return `(${octet(1)} * 16777216 + ${octet(2)} * 65536 + ${octet(3)} * 256 + ${octet(4)})`;
}

/**
 * A CTE `name AS (...)` of parameter rows with typed columns; an empty one is a typed zero-row SELECT (VALUES
 * cannot be empty).
 */
export function valuesCte(
  name: string,
  cols: [string, 'VARCHAR' | 'BIGINT'][],
  rows: readonly (readonly SqlParam[])[],
  p: (v: SqlParam) => string,
): string {
  if (rows.length === 0) {
    return `${name} AS (SELECT ${cols.map(([c, t]) => `CAST(NULL AS ${t}) AS ${c}`).join(', ')} WHERE 1 = 0)`;
  }
  const values = rows.map((r) => `(${r.map((v, i) => `CAST(${p(v)} AS ${cols[i]![1]})`).join(', ')})`).join(', ');
  return `${name} AS (SELECT * FROM (VALUES ${values}) AS t (${cols.map(([c]) => c).join(', ')}))`;
}

/**
 * SQL true when an address (as the integer `v4` or the hex `v6` column) lies inside one of `ranges`: an expression
 * per row, with the CIDRs as parameters bound where it stands in the text. (A per-row test, not a join with a
 * table of ranges: on Athena such a join would read the flow logs again for its address list.)
 */
export function rangeContains(ranges: RangeMatch, p: (v: SqlParam) => string, v4: string, v6: string): string {
  const terms = [
    ...ranges.v4.map((r) => `(${v4} BETWEEN ${p(r.lo)} AND ${p(r.hi)})`),
    ...ranges.v6.map(
      (r) =>
        `(substr(${v6}, 1, ${r.hex.length}) = ${p(r.hex)} AND ` +
        `strpos('0123456789abcdef', substr(${v6}, ${r.hex.length + 1}, 1)) - 1 BETWEEN ${p(r.nibLo)} AND ${p(r.nibHi)})`,
    ),
  ];
  return terms.length > 0 ? `coalesce(${terms.join(' OR ')}, false)` : 'false';
}

/**
 * A query over the conversation CTEs (renderConversationCtes): `tail` renders its own CTEs (after a comma) and final
 * SELECT, binding its values with `p` after the CTEs' own, so the parameters are in the order the `?` marks appear.
 */
export function renderOnConversations(
  input: ObserveQueryInput,
  tail: (p: (v: SqlParam) => string) => string,
  coverage = false,
): RenderedQuery {
  const params: SqlParam[] = [];
  const p = (v: SqlParam) => {
    params.push(v);
    return '?';
  };
  const shared = renderConversationCtes(input, p, coverage);
  return { sql: `${shared}${tail(p)}\n`, params };
}

/** Builds the observe query and its parameters, in the order the `?` marks appear. */
export function renderObserveQuery(input: ObserveQueryInput): RenderedQuery {
  // A coverage row's instance and subnet ids (`inst subnet`, either '' when no selector needs it).
  const byInst = input.workloads.some((w) => w.instances.length > 0);
  const bySubnet = input.workloads.some((w) => w.subnets.length > 0);
  const placeExpr = `${byInst ? "coalesce(inst, '')" : "''"} || ' ' || ${bySubnet ? "coalesce(subnet, '')" : "''"}`;
  // One aggregation over decided gives every output row but the stats: a conversation's destination (egress,
  // rejected) and the workload's own addresses, as two grouping sets, so that decided is read once (see addrs).
  const tail = `,
mine AS (
  SELECT m.*, is_mine AND out_ok AND in_ok AND (own_flows + other_flows) > 0 AS is_egress, is_mine AND rejected AS is_rejected,
    -- Its ends as columns of their own, NULL on every other row, so that one grouping set keeps these rows only.
    CASE WHEN is_open THEN laddr END AS o_laddr, CASE WHEN is_open THEN lport END AS o_lport,
    CASE WHEN is_open THEN raddr END AS o_raddr, CASE WHEN is_open THEN rport END AS o_rport,
    CASE WHEN is_open THEN substr(decision, 1, 1) END AS o_side
  FROM (
    SELECT x.*, seen_here AND decision LIKE 'L:%' AS is_mine,
      -- A TCP connection decided by tcp-flags (in this scan or carried), accepted both ways, in the window, and with
      -- no FIN or RST: still open, so its decision is carried forward (openConnections) to windows that see only its
      -- middle.
      (seen_here AND decision IN ('L:tcp-flags', 'R:tcp-flags') AND proto = 6 AND out_ok AND in_ok AND NOT closed
        AND (own_flows + other_flows) > 0) AS is_open
    FROM (
      SELECT d.*, ((d.seen_own OR NOT d.laddr_logged) AND ${ROUTABLE_REMOTE}) AS seen_here,
        CASE substr(decision, 3)
          WHEN 'tcp-flags' THEN 1 WHEN 'reverse-flow' THEN 2 WHEN 'listening-port' THEN 3
          WHEN 'well-known-port' THEN 4 ELSE 5 END AS rank
      FROM decided d
    ) x
  ) m
),
dest AS (
  SELECT workload, raddr, proto, rport, laddr, o_laddr, o_lport, o_raddr, o_rport, o_side,
    grouping(laddr) AS by_dest, grouping(o_laddr) AS by_open,
    bool_or(is_egress) AS any_egress,
    sum(CASE WHEN is_egress THEN own_flows ELSE 0 END) AS e_own_flows,
    sum(CASE WHEN is_egress THEN own_bytes ELSE 0 END) AS e_own_bytes,
    min(CASE WHEN is_egress THEN own_first END) AS e_own_first,
    max(CASE WHEN is_egress THEN own_last END) AS e_own_last,
    sum(CASE WHEN is_egress THEN other_flows ELSE 0 END) AS e_other_flows,
    sum(CASE WHEN is_egress THEN other_bytes ELSE 0 END) AS e_other_bytes,
    min(CASE WHEN is_egress THEN other_first END) AS e_other_first,
    max(CASE WHEN is_egress THEN other_last END) AS e_other_last,
    min(CASE WHEN is_egress THEN rank END) AS e_rank,
    max(CASE WHEN is_egress THEN svc END) AS e_svc,
    bool_or(is_rejected) AS any_rejected,
    sum(CASE WHEN is_rejected THEN rej_flows ELSE 0 END) AS r_flows,
    max(CASE WHEN is_rejected THEN rej_last END) AS r_last,
    bool_or(seen_own_win) AS any_address,
    min(own_iface) AS a_iface
  FROM mine
  GROUP BY GROUPING SETS ((workload, raddr, proto, rport), (workload, laddr), (workload, o_laddr, o_lport, o_raddr, o_rport, o_side))
)
SELECT k.kind, workload, CASE k.kind WHEN 'address' THEN laddr WHEN 'open' THEN o_raddr ELSE raddr END AS raddr,
  CASE WHEN k.kind = 'open' THEN 6 ELSE proto END AS proto, CASE WHEN k.kind = 'open' THEN o_rport ELSE rport END AS rport,
  CASE k.kind WHEN 'egress' THEN CASE WHEN e_own_flows > 0 THEN e_own_flows ELSE e_other_flows END
    WHEN 'rejected' THEN r_flows ELSE 0 END AS flows,
  CASE WHEN k.kind = 'egress' THEN CASE WHEN e_own_flows > 0 THEN e_own_bytes ELSE e_other_bytes END ELSE 0 END AS bytes,
  CASE WHEN k.kind = 'egress' THEN CASE WHEN e_own_flows > 0 THEN e_own_first ELSE e_other_first END END AS first_seen,
  CASE k.kind WHEN 'egress' THEN CASE WHEN e_own_flows > 0 THEN e_own_last ELSE e_other_last END
    WHEN 'rejected' THEN r_last END AS last_seen,
  CASE k.kind WHEN 'egress' THEN e_rank WHEN 'open' THEN CASE o_side WHEN 'L' THEN 1 ELSE 2 END ELSE 0 END AS rank,
  CASE WHEN k.kind = 'egress' THEN e_svc WHEN k.kind = 'address' THEN a_iface END AS svc,
  CASE WHEN k.kind = 'open' THEN o_laddr END AS laddr, CASE WHEN k.kind = 'open' THEN o_lport END AS lport
FROM dest CROSS JOIN (VALUES ('egress'), ('rejected'), ('address'), ('open')) AS k (kind)
WHERE (k.kind = 'egress' AND by_dest = 1 AND by_open = 1 AND any_egress)
  OR (k.kind = 'rejected' AND by_dest = 1 AND by_open = 1 AND any_rejected)
  OR (k.kind = 'address' AND by_dest = 0 AND any_address)
  OR (k.kind = 'open' AND by_open = 0 AND o_laddr IS NOT NULL)
UNION ALL
-- Coverage rows as they are, and per log status (one more grouping set of the same pass) the stats: records in the
-- window and incomplete OK records.
SELECT CASE WHEN grouping(iface) = 0 THEN 'coverage' ELSE 'stats' END AS kind, coalesce(log_status, '-') AS workload,
  iface AS raddr, NULL AS proto, dix AS rport,
  sum(n_win) AS flows, CASE WHEN grouping(iface) = 0 THEN 0 ELSE sum(n_bad) END AS bytes,
  NULL AS first_seen, NULL AS last_seen, 0 AS rank, CASE WHEN grouping(iface) = 0 THEN ${placeExpr} END AS svc, NULL AS laddr, NULL AS lport
FROM coverage
GROUP BY GROUPING SETS ((log_status), (${['log_status', 'iface', ...(byInst ? ['inst'] : []), ...(bySubnet ? ['subnet'] : []), 'dix'].join(', ')}))
ORDER BY kind, workload, raddr, proto, rport, laddr, lport`;
  return renderOnConversations(input, () => tail, true);
}

/**
 * One row of the observe query (DuckDB values or Athena strings) by its kind, with the fields the final SELECT above
 * gives that kind: the SELECT shares its columns between kinds, this is the one place that reads them.
 */
export function decodeObserveRow(r: Record<string, unknown>): ObserveRow {
  const num = numberOrNull;
  const str = stringOrNull;
  // egress and rejected: a destination of the workload and its records.
  const destination = () => ({
    workload: String(r.workload),
    raddr: str(r.raddr),
    proto: num(r.proto),
    rport: num(r.rport),
    flows: num(r.flows) ?? 0,
  });
  const kind = String(r.kind);
  switch (kind) {
    case 'egress':
      return {
        kind,
        ...destination(),
        bytes: num(r.bytes) ?? 0,
        firstSeen: num(r.first_seen),
        lastSeen: num(r.last_seen),
        rank: num(r.rank) ?? 0,
        service: str(r.svc),
      };
    case 'rejected':
      return { kind, ...destination(), lastSeen: num(r.last_seen) };
    case 'address':
      return { kind, workload: String(r.workload), address: str(r.raddr), iface: str(r.svc) };
    case 'open':
      return {
        kind,
        workload: String(r.workload),
        laddr: str(r.laddr),
        lport: num(r.lport),
        raddr: str(r.raddr),
        rport: num(r.rport),
        opener: num(r.rank) === 1 ? 'workload' : 'peer',
      };
    case 'stats':
      return { kind, status: String(r.workload), records: num(r.flows) ?? 0, incomplete: num(r.bytes) ?? 0 };
    case 'coverage':
      return {
        kind,
        status: String(r.workload),
        iface: str(r.raddr),
        epochDay: num(r.rport),
        records: num(r.flows) ?? 0,
        place: str(r.svc),
      };
    default:
      throw new Error(`observe query: a row of unknown kind ${JSON.stringify(kind)}`);
  }
}

/**
 * The conversation CTEs observe and report share, up to `decided` (one row per conversation of a workload with
 * who initiated it, and whether its local address's own interface is logged): records, the fold (`conv`: both
 * directions of each conversation per interface and day in one row, the only grouping over the records), coverage, selectors,
 * each interface's own addresses, workload addresses, listening ports, and the initiator decision. Returns `WITH ... decided AS (...)`; `p` binds each
 * value as a `?` parameter, in text order, so callers append their own CTEs and parameters after it.
 */
function renderConversationCtes(input: ObserveQueryInput, p: (v: SqlParam) => string, coverage = false): string {
  const rel = quoteRelation(input.relation);

  const table = (name: string, cols: [string, 'VARCHAR' | 'BIGINT'][], rows: SqlParam[][]) => valuesCte(name, cols, rows, p);
  const rowsOf = <T>(pick: (w: WorkloadMatch) => T[], shape: (w: WorkloadMatch, x: T) => SqlParam[]) =>
    input.workloads.flatMap((w) => pick(w).map((x) => shape(w, x)));

  const rec = `rec AS (
  SELECT interface_id AS iface, instance_id AS inst, subnet_id AS subnet, flow_direction AS fdir,
    srcaddr, dstaddr, coalesce(pkt_srcaddr, srcaddr) AS src, coalesce(pkt_dstaddr, dstaddr) AS dst,
    coalesce(srcport, 0) AS sport, coalesce(dstport, 0) AS dport, protocol AS proto, action,
    coalesce(tcp_flags, 0) AS flags, coalesce(bytes, 0) AS bytes, start, pkt_dst_aws_service AS svc, log_status,
    CAST(floor(start / 86400.0) AS BIGINT) AS dix
  FROM ${rel}
  WHERE day BETWEEN ${p(input.dayFrom)} AND ${p(input.dayTo)}
    AND start >= ${p(input.scanFrom)} AND start < ${p(input.winTo)}
)`;

  // The fold: each record as one direction of a conversation whose ends are put in a canonical order (a is the
  // lesser address, then port), so that the first grouping already folds both directions of a conversation, per
  // interface, into one row. Everything after reads folded rows, not records. f = the direction a -> b, r = b -> a.
  // Its aggregates are sums, mins, maxes and ORs only, so its rows could be made per day and merged.
  const fold = `frec AS (
  SELECT iface, inst, subnet, log_status, proto, start, bytes, fdir, svc, fwd, win, syn, synack, fin,
    action = 'ACCEPT' AS acc, action = 'REJECT' AS rej,
    CASE WHEN fwd THEN src ELSE dst END AS a, CASE WHEN fwd THEN sport ELSE dport END AS ap,
    CASE WHEN fwd THEN dst ELSE src END AS b, CASE WHEN fwd THEN dport ELSE sport END AS bp,
    -- The ends as logged (srcaddr, dstaddr), for the interface's own addresses: NULL where they are the ends
    -- themselves (no NAT), so most keys hold two short NULLs instead of the same addresses again.
    nullif(CASE WHEN fwd THEN srcaddr ELSE dstaddr END, CASE WHEN fwd THEN src ELSE dst END) AS ra,
    nullif(CASE WHEN fwd THEN dstaddr ELSE srcaddr END, CASE WHEN fwd THEN dst ELSE src END) AS rb,
    -- Usable: one flow, complete, accepted or rejected. (The rest is only counted in stats.) A protocol or tcp/udp
    -- port out of range is no flow: the duckdb view skips such lines by name; this keeps Athena's rows to it too.
    (log_status = 'OK' AND action IN ('ACCEPT', 'REJECT')
      AND iface IS NOT NULL AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL AND proto BETWEEN 0 AND 255
      AND (proto NOT IN (6, 17) OR (sport BETWEEN 1 AND 65535 AND dport BETWEEN 1 AND 65535))) AS usable,
    (log_status = 'OK' AND (iface IS NULL OR srcaddr IS NULL OR dstaddr IS NULL OR proto IS NULL OR action IS NULL)) AS incomplete, dix
  FROM (
    SELECT r.*, (src < dst OR (src = dst AND sport <= dport)) AS fwd, start >= ${p(input.winFrom)} AS win,
      flags % 4 >= 2 AND flags % 32 < 16 AS syn, flags % 4 >= 2 AND flags % 32 >= 16 AS synack,
      flags % 2 = 1 OR flags % 8 >= 4 AS fin
    FROM rec r
  ) x
)`;

  // Instance and subnet ids matter only to selectors that name them. When no workload does, they are left out of
  // conv's key: two long strings fewer in the largest hash table, and conv is the same conversations.
  const byInst = input.workloads.some((w) => w.instances.length > 0);
  const bySubnet = input.workloads.some((w) => w.subnets.length > 0);
  const place = [...(byInst ? ['inst'] : []), ...(bySubnet ? ['subnet'] : [])];
  // The UTC day (days since 1970) is part of the key: coverage counts records per interface and day, and a fold per
  // day is what a cache of days would keep. Only conversations that cross midnight have a row more for it.
  const convKey = ['usable', 'log_status', 'iface', ...place, 'dix', 'proto', 'a', 'ap', 'b', 'bp', 'ra', 'rb'].join(', ');
  const coverageKey = ['log_status', 'iface', ...place, 'dix'].join(', ');
  // a_cl: a acted as the client (a sent a SYN, or b a SYN-ACK); b_cl alike; the _acc forms count accepted records
  // only (a server listens where accepted handshakes arrive).
  const aClient = '(fwd AND syn) OR (NOT fwd AND synack)';
  const bClient = '(NOT fwd AND syn) OR (fwd AND synack)';
  const conv = `conv AS (
  SELECT ${convKey},
    count(*) FILTER (WHERE win) AS n_win,
    count(*) FILTER (WHERE win AND incomplete) AS n_bad,
    count(*) FILTER (WHERE fdir IS NULL) AS n_v2,
    bool_or((fwd AND fdir = 'egress') OR (NOT fwd AND fdir = 'ingress')) AS own_a,
    bool_or((fwd AND fdir = 'ingress') OR (NOT fwd AND fdir = 'egress')) AS own_b,
    min(start) FILTER (WHERE fwd) AS first_f,
    min(start) FILTER (WHERE NOT fwd) AS first_r,
    bool_or(${aClient}) AS a_cl,
    bool_or(${bClient}) AS b_cl,
    bool_or(acc AND (${aClient})) AS a_cl_acc,
    bool_or(acc AND (${bClient})) AS b_cl_acc,
    bool_or(acc AND fwd) AS acc_f,
    bool_or(acc AND NOT fwd) AS acc_r,
    count(*) FILTER (WHERE win AND acc AND fwd) AS nw_f,
    coalesce(sum(bytes) FILTER (WHERE win AND acc AND fwd), 0) AS bw_f,
    min(start) FILTER (WHERE win AND acc AND fwd) AS fw_f,
    max(start) FILTER (WHERE win AND acc AND fwd) AS lw_f,
    count(*) FILTER (WHERE win AND acc AND NOT fwd) AS nw_r,
    coalesce(sum(bytes) FILTER (WHERE win AND acc AND NOT fwd), 0) AS bw_r,
    min(start) FILTER (WHERE win AND acc AND NOT fwd) AS fw_r,
    max(start) FILTER (WHERE win AND acc AND NOT fwd) AS lw_r,
    count(*) FILTER (WHERE win AND rej) AS rej_n,
    max(start) FILTER (WHERE win AND rej) AS rej_last,
    bool_or(fin) AS fin,
    -- the AWS service of each direction's destination (AMAZON alone says nothing)
    max(svc) FILTER (WHERE fwd AND svc <> 'AMAZON') AS svc_f,
    max(svc) FILTER (WHERE NOT fwd AND svc <> 'AMAZON') AS svc_r
  FROM frec
  GROUP BY ${convKey}
)${
    coverage
      ? `,
-- Coverage (observe and report): records in the window per interface, log status and UTC day, from the fold.
coverage AS (
  SELECT ${coverageKey}, sum(n_win) AS n_win, sum(n_bad) AS n_bad
  FROM conv
  GROUP BY ${coverageKey}
)`
      : ''
  }`;

  const selIface = table(
    'sel_iface',
    [
      ['workload', 'VARCHAR'],
      ['iface', 'VARCHAR'],
    ],
    rowsOf(
      (w) => w.interfaces,
      (w, x) => [w.workload, x],
    ),
  );
  const selInst = table(
    'sel_inst',
    [
      ['workload', 'VARCHAR'],
      ['inst', 'VARCHAR'],
    ],
    rowsOf(
      (w) => w.instances,
      (w, x) => [w.workload, x],
    ),
  );
  const selSubnet = table(
    'sel_subnet',
    [
      ['workload', 'VARCHAR'],
      ['subnet', 'VARCHAR'],
    ],
    rowsOf(
      (w) => w.subnets,
      (w, x) => [w.workload, x],
    ),
  );
  const selV4 = table(
    'sel_v4',
    [
      ['workload', 'VARCHAR'],
      ['lo', 'BIGINT'],
      ['hi', 'BIGINT'],
    ],
    rowsOf(
      (w) => w.v4,
      (w, x) => [w.workload, x.lo, x.hi],
    ),
  );
  const selV6 = table(
    'sel_v6',
    [
      ['workload', 'VARCHAR'],
      ['hex', 'VARCHAR'],
      ['nib_lo', 'BIGINT'],
      ['nib_hi', 'BIGINT'],
    ],
    rowsOf(
      (w) => w.v6,
      (w, x) => [w.workload, x.hex, x.nibLo, x.nibHi],
    ),
  );

  const inVpc = (v4: string, v6: string) => rangeContains(input.vpc, p, v4, v6);
  const knownPorts = KNOWN_SERVICE_PORTS.join(', ');
  const isService = (col: string) => `(${col} < ${WELL_KNOWN_BELOW} OR ${col} IN (${knownPorts}))`;
  const scanGuard = () => p(input.scanFrom + MAX_AGGREGATION_SECONDS);
  const tolerance = START_TOLERANCE_SECONDS;
  const carried = table(
    'carried',
    [
      ['client', 'VARCHAR'],
      ['client_port', 'BIGINT'],
      ['server', 'VARCHAR'],
      ['server_port', 'BIGINT'],
    ],
    (input.carried ?? []).map((c) => [c.client, c.clientPort, c.server, c.serverPort]),
  );

  const rest = `
-- The usable conversations are read as conv WHERE usable, not as a CTE of their own: a CTE read more than once is
-- stored, and that copy would be as large as conv.
-- Athena (Trino) does not store a WITH query: each reference is planned again down to the table scan, and the bytes
-- of every scan are billed. So a query that needs both ends of a conversation reads conv once, doubled by a join
-- with a two-row VALUES table (ends: a, b), not once per end.
addrs AS (
  SELECT DISTINCT CASE WHEN e.side = 'a' THEN c.a ELSE c.b END AS addr
  FROM conv c CROSS JOIN (VALUES ('a'), ('b')) AS e (side)
  WHERE c.usable
),
addr_num AS (
  SELECT addr,
    CASE WHEN strpos(addr, ':') = 0 THEN ${ipv4IntExpr('addr')} END AS v4,
    CASE WHEN strpos(addr, ':') > 0 THEN ${ipv6HexExpr('addr')} END AS v6
  FROM addrs
),
-- Each logged interface's own addresses. With flow-direction: exact. Without it (v2): per address family, the
-- address in most of the interface's records (a NAT gateway's own address, not its clients'); when two tie (an
-- interface that talks to one peer only), the one that is not another interface's own address, and of those
-- the one inside the VPC. One row per (interface, address it logged), then windows: one read of conv, where a
-- join of these steps with each other would be a read each on Athena (see addrs).
iface_end AS (
  SELECT iface, addr, strpos(addr, ':') > 0 AS v6, bool_or(exact) AS exact, bool_or(in_v2) AS in_v2, sum(c) AS c
  FROM (
    SELECT c.iface, CASE WHEN e.side = 'a' THEN coalesce(c.ra, c.a) ELSE coalesce(c.rb, c.b) END AS addr,
      CASE WHEN e.side = 'a' THEN c.own_a ELSE c.own_b END AS exact, c.n_v2 > 0 AS in_v2, c.n_v2 AS c
    FROM conv c CROSS JOIN (VALUES ('a'), ('b')) AS e (side)
    WHERE c.usable
  ) x
  GROUP BY iface, addr
),
iface_top AS (
  SELECT t.*, in_v2 AND c = top AS is_top,
    sum(CASE WHEN in_v2 AND c = top THEN 1 ELSE 0 END) OVER (PARTITION BY iface, v6) AS tied
  FROM (SELECT g.*, max(CASE WHEN in_v2 THEN c END) OVER (PARTITION BY iface, v6) AS top FROM iface_end g) t
),
iface_owned AS (
  SELECT o.*,
    sum(CASE WHEN owned THEN 1 ELSE 0 END) OVER (PARTITION BY addr) - CASE WHEN owned THEN 1 ELSE 0 END > 0 AS owned_elsewhere,
    -- the address as a number, for the VPC test: only where a tie needs it
    CASE WHEN tied_top AND NOT v6 THEN ${ipv4IntExpr('addr')} END AS v4n,
    CASE WHEN tied_top AND v6 THEN ${ipv6HexExpr('addr')} END AS v6h
  FROM (SELECT t.*, exact OR (is_top AND tied = 1) AS owned, is_top AND tied > 1 AS tied_top FROM iface_top t) o
),
iface_tie AS (
  SELECT t.*, bool_or(CASE WHEN tie THEN inside END) OVER (PARTITION BY iface, v6) AS any_inside
  FROM (
    SELECT o.*, tied_top AND NOT owned_elsewhere AS tie, ${inVpc('v4n', 'v6h')} AS inside FROM iface_owned o
  ) t
),
iface_addr AS (
  SELECT iface, addr FROM (
    SELECT t.*, sum(CASE WHEN pick THEN 1 ELSE 0 END) OVER (PARTITION BY iface, v6) AS left_n
    FROM (SELECT i.*, tie AND (inside OR NOT coalesce(any_inside, false)) AS pick FROM iface_tie i) t
  ) x
  WHERE owned OR (pick AND left_n = 1)
),
wl_iface AS (
  SELECT workload, iface FROM sel_iface${
    byInst
      ? `
  UNION SELECT s.workload, c.iface FROM conv c JOIN sel_inst s ON c.inst = s.inst WHERE c.usable`
      : ''
  }${
    bySubnet
      ? `
  UNION SELECT s.workload, c.iface FROM conv c JOIN sel_subnet s ON c.subnet = s.subnet WHERE c.usable`
      : ''
  }
),
-- Addresses of each workload: its interfaces' own addresses, and the addresses inside its CIDRs.
wl_addr AS (
  SELECT w.workload, a.addr FROM wl_iface w JOIN iface_addr a ON a.iface = w.iface
  UNION
  SELECT s.workload, a.addr FROM addr_num a JOIN sel_v4 s ON a.v4 BETWEEN s.lo AND s.hi
  UNION
  SELECT s.workload, a.addr FROM addr_num a JOIN sel_v6 s
    ON substr(a.v6, 1, length(s.hex)) = s.hex
    AND strpos('0123456789abcdef', substr(a.v6, length(s.hex) + 1, 1)) - 1 BETWEEN s.nib_lo AND s.nib_hi
),
-- Ports each address is seen listening on: a SYN arrived, it sent a SYN-ACK, or accepted peers came from two or
-- more different ports (a client's ephemeral port talks to one server port; a server port to many client ports;
-- min <> max says "two or more" without counting them).
listening AS (
  SELECT addr, port, proto FROM (
    SELECT CASE WHEN e.side = 'a' THEN c.a ELSE c.b END AS addr,
      CASE WHEN e.side = 'a' THEN c.ap ELSE c.bp END AS port,
      c.proto,
      CASE WHEN e.side = 'a' THEN c.bp ELSE c.ap END AS other,
      -- a server's handshake: the other end acted as the client in accepted records
      CASE WHEN e.side = 'a' THEN c.b_cl_acc ELSE c.a_cl_acc END AS handshake
    FROM conv c CROSS JOIN (VALUES ('a'), ('b')) AS e (side)
    WHERE c.usable AND (c.acc_f OR c.acc_r)
  ) l
  WHERE port > 0
  GROUP BY addr, port, proto
  HAVING min(other) <> max(other) OR bool_or(handshake)
),
-- Each folded row from each end a workload owns: l = that end (out = what it sent), r = the other end. own: logged
-- on the interface whose own address the end is.
side AS (
  SELECT w.workload, o.*, (ia.iface IS NOT NULL) AS own
  FROM (
    SELECT c.iface, c.proto, c.n_win, c.rej_n, c.rej_last, c.fin,
      CASE WHEN e.side = 'a' THEN c.a ELSE c.b END AS laddr,
      CASE WHEN e.side = 'a' THEN c.ap ELSE c.bp END AS lport,
      CASE WHEN e.side = 'a' THEN c.b ELSE c.a END AS raddr,
      CASE WHEN e.side = 'a' THEN c.bp ELSE c.ap END AS rport,
      CASE WHEN e.side = 'a' THEN c.a_cl ELSE c.b_cl END AS l_cl,
      CASE WHEN e.side = 'a' THEN c.b_cl ELSE c.a_cl END AS r_cl,
      CASE WHEN e.side = 'a' THEN c.acc_f ELSE c.acc_r END AS out_acc,
      CASE WHEN e.side = 'a' THEN c.acc_r ELSE c.acc_f END AS in_acc,
      CASE WHEN e.side = 'a' THEN c.first_f ELSE c.first_r END AS out_first,
      CASE WHEN e.side = 'a' THEN c.first_r ELSE c.first_f END AS in_first,
      CASE WHEN e.side = 'a' THEN c.nw_f ELSE c.nw_r END AS nw,
      CASE WHEN e.side = 'a' THEN c.bw_f ELSE c.bw_r END AS bw,
      CASE WHEN e.side = 'a' THEN c.fw_f ELSE c.fw_r END AS fw,
      CASE WHEN e.side = 'a' THEN c.lw_f ELSE c.lw_r END AS lw,
      CASE WHEN e.side = 'a' THEN c.svc_f ELSE c.svc_r END AS svc
    FROM conv c CROSS JOIN (VALUES ('a'), ('b')) AS e (side)
    WHERE c.usable
  ) o
  JOIN wl_addr w ON w.addr = o.laddr
  LEFT JOIN iface_addr ia ON ia.iface = o.iface AND ia.addr = o.laddr
),
-- One row per conversation (workload, local end, remote end, protocol): its folded rows of every interface that
-- logged it. own: accepted records the workload sent, logged on its own interface; other: on another interface.
cv AS (
  SELECT workload, laddr, lport, raddr, rport, proto,
    bool_or(l_cl) AS l_flags,
    bool_or(r_cl) AS r_flags,
    bool_or(out_acc) AS out_ok,
    bool_or(in_acc) AS in_ok,
    bool_or(rej_n > 0) AS rejected,
    min(out_first) AS out_first,
    min(in_first) AS in_first,
    sum(CASE WHEN own THEN nw ELSE 0 END) AS own_flows,
    sum(CASE WHEN own THEN bw ELSE 0 END) AS own_bytes,
    min(CASE WHEN own THEN fw END) AS own_first,
    max(CASE WHEN own THEN lw END) AS own_last,
    sum(CASE WHEN own THEN 0 ELSE nw END) AS other_flows,
    sum(CASE WHEN own THEN 0 ELSE bw END) AS other_bytes,
    min(CASE WHEN own THEN NULL ELSE fw END) AS other_first,
    max(CASE WHEN own THEN NULL ELSE lw END) AS other_last,
    sum(rej_n) AS rej_flows,
    max(rej_last) AS rej_last,
    max(svc) AS svc,
    bool_or(own) AS seen_own,
    bool_or(own AND n_win > 0) AS seen_own_win,
    -- the interface the local address is the own address of (observe's coverage: which interfaces are the workload's)
    min(CASE WHEN own AND n_win > 0 THEN iface END) AS own_iface,
    bool_or(fin) AS closed
  FROM side
  GROUP BY workload, laddr, lport, raddr, rport, proto
),
-- laddr_logged: the local address's own interface is logged. Then its conversations must show on it: one seen only
-- on another interface is that interface's translated view (v2 records on a NAT gateway show instance -> NAT
-- address). A window over cv, not a join with a list of such addresses, so that cv is read once.
decided AS (
  SELECT cv.*,
    bool_or(cv.seen_own) OVER (PARTITION BY cv.workload, cv.laddr) AS laddr_logged,
    CASE
      WHEN l_flags AND NOT r_flags THEN 'L:tcp-flags'
      WHEN r_flags AND NOT l_flags THEN 'R:tcp-flags'
      -- a decision by tcp-flags in an earlier window, of a connection still open then (its handshake is not read now)
      WHEN cl.client IS NOT NULL THEN 'L:tcp-flags'
      WHEN cr.client IS NOT NULL THEN 'R:tcp-flags'
      WHEN rl.addr IS NOT NULL AND ll.addr IS NULL THEN 'L:listening-port'
      WHEN ll.addr IS NOT NULL AND rl.addr IS NULL THEN 'R:listening-port'
      -- one direction first by more than AWS's start tolerance
      WHEN out_first + ${tolerance} < in_first AND out_first > ${scanGuard()} THEN 'L:reverse-flow'
      WHEN in_first + ${tolerance} < out_first AND in_first > ${scanGuard()} THEN 'R:reverse-flow'
      WHEN lport = 0 AND rport = 0 THEN CASE
        WHEN out_first < in_first AND out_first > ${scanGuard()} THEN 'L:reverse-flow'
        WHEN in_first < out_first AND in_first > ${scanGuard()} THEN 'R:reverse-flow'
        WHEN out_first IS NOT NULL THEN 'L:flow-direction' END
      WHEN ${isService('rport')} AND NOT ${isService('lport')} THEN 'L:well-known-port'
      WHEN ${isService('lport')} AND NOT ${isService('rport')} THEN 'R:well-known-port'
      -- inside the tolerance, the order of first records is a tie-break only: the ports said nothing
      WHEN out_first < in_first AND out_first > ${scanGuard()} THEN 'L:reverse-flow'
      WHEN in_first < out_first AND in_first > ${scanGuard()} THEN 'R:reverse-flow'
      WHEN rport < lport THEN 'L:well-known-port'
      WHEN lport < rport THEN 'R:well-known-port'
    END AS decision
  FROM cv
  LEFT JOIN listening rl ON rl.addr = cv.raddr AND rl.port = cv.rport AND rl.proto = cv.proto
  LEFT JOIN listening ll ON ll.addr = cv.laddr AND ll.port = cv.lport AND ll.proto = cv.proto
  LEFT JOIN carried cl ON cv.proto = 6 AND cl.client = cv.laddr AND cl.client_port = cv.lport AND cl.server = cv.raddr AND cl.server_port = cv.rport
  LEFT JOIN carried cr ON cv.proto = 6 AND cr.client = cv.raddr AND cr.client_port = cv.rport AND cr.server = cv.laddr AND cr.server_port = cv.lport
)`;

  return `WITH\n${[rec, fold, conv, selIface, selInst, selSubnet, selV4, selV6, carried].join(',\n')},${rest}`;
}
