/**
 * THE BASELINE: a frozen copy of observe's SQL renderer as it was before the fold-first rebuild (issue 18), kept
 * only so that bench/observe/exactness.ts can run today's engine and the new one over the same files and compare
 * their output. Never used by leastpath itself; do not change it (it is the reference the new SQL must equal).
 * It groups records by conversation per direction, action and interface first and folds the directions later.
 */
import {
  ipv4IntExpr,
  ipv6HexExpr,
  quoteRelation,
  rangeContains,
  ROUTABLE_REMOTE,
  valuesCte,
  type ObserveQueryInput,
  type RenderedQuery,
  type SqlParam,
  type WorkloadMatch,
} from '../../observe/sql.js';

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

/** renderOnConversations of the baseline: its own conversation CTEs, then the tail. */
function onConversations(input: ObserveQueryInput, tail: (p: (v: SqlParam) => string) => string, coverage = false): RenderedQuery {
  const params: SqlParam[] = [];
  const p = (v: SqlParam) => {
    params.push(v);
    return '?';
  };
  const shared = renderConversationCtes(input, p, coverage);
  return { sql: `${shared}${tail(p)}\n`, params };
}

/** Builds the observe query and its parameters, in the order the `?` marks appear. */
export function renderBaselineObserveQuery(input: ObserveQueryInput): RenderedQuery {
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
SELECT CASE WHEN cov = 1 THEN 'coverage' ELSE 'stats' END AS kind, coalesce(log_status, '-') AS workload,
  c_iface AS raddr, NULL AS proto, c_dix AS rport,
  sum(n_win) AS flows, sum(CASE WHEN cov = 0 AND log_status = 'OK' AND (iface IS NULL OR srcaddr IS NULL OR dstaddr IS NULL
    OR proto IS NULL OR action IS NULL) THEN n_win ELSE 0 END) AS bytes,
  NULL AS first_seen, NULL AS last_seen, 0 AS rank, c_place AS svc, NULL AS laddr, NULL AS lport
FROM (
  SELECT c.*, CASE WHEN cov = 1 THEN iface END AS c_iface, CASE WHEN cov = 1 THEN dix END AS c_dix,
    CASE WHEN cov = 1 THEN ${placeExpr} END AS c_place
  FROM conv c
) s
GROUP BY cov, log_status, c_iface, c_dix, c_place
ORDER BY kind, workload, raddr, proto, rport, laddr, lport`;
  return onConversations(input, () => tail, true);
}

/**
 * The conversation CTEs observe and report share, up to `decided` (one row per conversation of a workload with
 * who initiated it, and whether its local address's own interface is logged): records, conversations, selectors,
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
    coalesce(tcp_flags, 0) AS flags, coalesce(bytes, 0) AS bytes, start, pkt_dst_aws_service AS svc, log_status${
      coverage
        ? `,
    CAST(floor(start / 86400.0) AS BIGINT) AS dix`
        : ''
    }
  FROM ${rel}
  WHERE day BETWEEN ${p(input.dayFrom)} AND ${p(input.dayTo)}
    AND start >= ${p(input.scanFrom)} AND start < ${p(input.winTo)}
)`;

  // Instance and subnet ids matter only to selectors that name them. When no workload does, they are left out of
  // conv's key: two long strings fewer in the largest hash table, and conv is the same conversations.
  const byInst = input.workloads.some((w) => w.instances.length > 0);
  const bySubnet = input.workloads.some((w) => w.subnets.length > 0);
  const convKey = [
    'log_status',
    'iface',
    ...(byInst ? ['inst'] : []),
    ...(bySubnet ? ['subnet'] : []),
    'fdir',
    'srcaddr',
    'dstaddr',
    'src',
    'dst',
    'sport',
    'dport',
    'proto',
    'action',
  ].join(', ');
  // Coverage (observe and report): records per interface and UTC day (days since 1970), a second grouping set of conv's one pass;
  // its rows have no addresses, so they are never usable, and `cov` tells them from conversations.
  const coverageKey = ['log_status', 'iface', ...(byInst ? ['inst'] : []), ...(bySubnet ? ['subnet'] : []), 'dix'].join(', ');
  const winFrom = () => p(input.winFrom);
  const conv = `conv AS (
  SELECT ${convKey},${coverage ? ' dix, grouping(srcaddr) AS cov,' : ''}
    count(*) AS n,
    count(*) FILTER (WHERE start >= ${winFrom()}) AS n_win,
    coalesce(sum(bytes) FILTER (WHERE start >= ${winFrom()}), 0) AS bytes_win,
    min(start) FILTER (WHERE start >= ${winFrom()}) AS first_win,
    max(start) FILTER (WHERE start >= ${winFrom()}) AS last_win,
    min(start) AS first_any,
    bool_or(flags % 4 >= 2 AND flags % 32 < 16) AS syn,
    bool_or(flags % 4 >= 2 AND flags % 32 >= 16) AS synack,
    bool_or(flags % 2 = 1 OR flags % 8 >= 4) AS fin,
    max(svc) AS svc,
    -- Usable: one flow, complete, accepted or rejected. (The rest is only counted in stats.) A protocol or tcp/udp
    -- port out of range is no flow: the duckdb view skips such lines by name; this keeps Athena's rows to it too.
    (log_status = 'OK' AND action IN ('ACCEPT', 'REJECT')
      AND iface IS NOT NULL AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL AND proto BETWEEN 0 AND 255
      AND (proto NOT IN (6, 17) OR (sport BETWEEN 1 AND 65535 AND dport BETWEEN 1 AND 65535))) AS usable
  FROM rec
  GROUP BY ${coverage ? `GROUPING SETS ((${convKey}), (${coverageKey}))` : convKey}
)`;

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
-- with a two-row VALUES table (ends: s = source, d = destination; dirs: out, in), not once per end.
addrs AS (
  SELECT DISTINCT CASE WHEN e.side = 's' THEN c.src ELSE c.dst END AS addr
  FROM conv c CROSS JOIN (VALUES ('s'), ('d')) AS e (side)
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
  SELECT iface, addr, strpos(addr, ':') > 0 AS v6, bool_or(exact) AS exact, bool_or(v2) AS in_v2,
    sum(CASE WHEN v2 THEN n ELSE 0 END) AS c
  FROM (
    SELECT c.iface, c.n, CASE WHEN e.side = 's' THEN c.srcaddr ELSE c.dstaddr END AS addr,
      (e.side = 's' AND c.fdir = 'egress') OR (e.side = 'd' AND c.fdir = 'ingress') AS exact,
      c.fdir IS NULL AS v2
    FROM conv c CROSS JOIN (VALUES ('s'), ('d')) AS e (side)
    WHERE c.usable AND (c.fdir IS NULL OR c.fdir IN ('egress', 'ingress'))
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
    SELECT CASE WHEN e.side = 'd' THEN c.dst ELSE c.src END AS addr,
      CASE WHEN e.side = 'd' THEN c.dport ELSE c.sport END AS port,
      c.proto,
      CASE WHEN e.side = 'd' THEN c.sport ELSE c.dport END AS other,
      CASE WHEN e.side = 'd' THEN c.syn ELSE c.synack END AS handshake
    FROM conv c CROSS JOIN (VALUES ('s'), ('d')) AS e (side)
    WHERE c.usable AND c.action = 'ACCEPT'
  ) l
  WHERE port > 0
  GROUP BY addr, port, proto
  HAVING min(other) <> max(other) OR bool_or(handshake)
),
-- Every record seen from each workload it touches: out = the workload sent it, in = it received it. acc: an
-- accepted record the workload sent, 1 seen on its own interface, 2 on another.
side AS (
  SELECT w.workload, o.dir, o.laddr, o.lport, o.raddr, o.rport, o.proto, o.action,
    o.n_win, o.bytes_win, o.first_win, o.last_win, o.first_any, o.syn, o.synack, o.fin, o.svc,
    (ia.iface IS NOT NULL) AS own, CASE WHEN ia.iface IS NOT NULL AND o.n_win > 0 THEN o.iface END AS own_iface,
    CASE WHEN o.dir = 'in' OR o.action <> 'ACCEPT' THEN 0 WHEN ia.iface IS NOT NULL THEN 1 ELSE 2 END AS acc
  FROM (
    SELECT d.dir, c.iface,
      CASE WHEN d.dir = 'out' THEN c.src ELSE c.dst END AS laddr,
      CASE WHEN d.dir = 'out' THEN c.sport ELSE c.dport END AS lport,
      CASE WHEN d.dir = 'out' THEN c.dst ELSE c.src END AS raddr,
      CASE WHEN d.dir = 'out' THEN c.dport ELSE c.sport END AS rport,
      c.proto, c.action, c.n_win, c.bytes_win, c.first_win, c.last_win, c.first_any, c.syn, c.synack, c.fin, c.svc
    FROM conv c CROSS JOIN (VALUES ('out'), ('in')) AS d (dir)
    WHERE c.usable
  ) o
  JOIN wl_addr w ON w.addr = o.laddr
  LEFT JOIN iface_addr ia ON ia.iface = o.iface AND ia.addr = o.laddr
),
-- One row per conversation (workload, local end, remote end, protocol), both directions folded together. (Plain
-- aggregates over CASE, not FILTER clauses: the same values, in one pass over the rows.)
cv AS (
  SELECT workload, laddr, lport, raddr, rport, proto,
    bool_or(CASE WHEN dir = 'out' THEN syn ELSE synack END) AS l_flags,
    bool_or(CASE WHEN dir = 'in' THEN syn ELSE synack END) AS r_flags,
    bool_or(dir = 'out' AND action = 'ACCEPT') AS out_ok,
    bool_or(dir = 'in' AND action = 'ACCEPT') AS in_ok,
    bool_or(action = 'REJECT' AND n_win > 0) AS rejected,
    min(CASE WHEN dir = 'out' THEN first_any END) AS out_first,
    min(CASE WHEN dir = 'in' THEN first_any END) AS in_first,
    sum(CASE WHEN acc = 1 THEN n_win ELSE 0 END) AS own_flows,
    sum(CASE WHEN acc = 1 THEN bytes_win ELSE 0 END) AS own_bytes,
    min(CASE WHEN acc = 1 THEN first_win END) AS own_first,
    max(CASE WHEN acc = 1 THEN last_win END) AS own_last,
    sum(CASE WHEN acc = 2 THEN n_win ELSE 0 END) AS other_flows,
    sum(CASE WHEN acc = 2 THEN bytes_win ELSE 0 END) AS other_bytes,
    min(CASE WHEN acc = 2 THEN first_win END) AS other_first,
    max(CASE WHEN acc = 2 THEN last_win END) AS other_last,
    sum(CASE WHEN action = 'REJECT' THEN n_win ELSE 0 END) AS rej_flows,
    max(CASE WHEN action = 'REJECT' THEN last_win END) AS rej_last,
    max(CASE WHEN dir = 'out' AND svc <> 'AMAZON' THEN svc END) AS svc,
    bool_or(own) AS seen_own,
    bool_or(own AND n_win > 0) AS seen_own_win,
    -- the interface the local address is the own address of (observe's coverage: which interfaces are the workload's)
    min(own_iface) AS own_iface,
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

  return `WITH\n${[rec, conv, selIface, selInst, selSubnet, selV4, selV6, carried].join(',\n')},${rest}`;
}
