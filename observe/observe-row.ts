/** The rows the observe query answers, by kind with named fields, and the window it reads: shared by assembly and coverage. */

/** A destination the workload sent to and was answered (or a record said accepted): numbers as numbers, times epoch seconds. */
export interface EgressRow {
  kind: 'egress';
  workload: string;
  raddr: string | null;
  proto: number | null;
  rport: number | null;
  flows: number;
  bytes: number;
  firstSeen: number | null;
  lastSeen: number | null;
  /** 1-based index into DECISION_RANK: what decided the workload was the client. */
  rank: number;
  /** The AWS service the records named (pkt-dst-aws-service), if any. */
  service: string | null;
}

/** A destination the workload's traffic to was rejected. */
export interface RejectedRow {
  kind: 'rejected';
  workload: string;
  raddr: string | null;
  proto: number | null;
  rport: number | null;
  flows: number;
  lastSeen: number | null;
}

/** One of the workload's own addresses, with the interface it belongs to. */
export interface AddressRow {
  kind: 'address';
  workload: string;
  address: string | null;
  iface: string | null;
}

/** A connection still open at the window's end, seen from the workload's end. */
export interface OpenRow {
  kind: 'open';
  workload: string;
  laddr: string | null;
  lport: number | null;
  raddr: string | null;
  rport: number | null;
  /** Who sent the SYN: the workload's end or its peer. */
  opener: 'workload' | 'peer';
}

/** Per log status, the scan's records in the window and its incomplete OK records (a malformed file: `MALFORMED:<path>`). */
export interface StatsRow {
  kind: 'stats';
  status: string;
  records: number;
  incomplete: number;
}

/** Records of one interface on one UTC day with one log status. */
export interface CoverageRow {
  kind: 'coverage';
  status: string;
  iface: string | null;
  /** Days since 1970. */
  epochDay: number | null;
  records: number;
  /** "instance subnet" of the interface, as the records named them. */
  place: string | null;
}

/** One row of the observe query (decoded by `decodeObserveRow` in sql.ts, next to the SELECT that produces it). */
export type ObserveRow = EgressRow | RejectedRow | AddressRow | OpenRow | StatsRow | CoverageRow;

export interface ObserveWindow {
  /** First and last day of the window, YYYY-MM-DD (both inclusive). */
  from: string;
  to: string;
}
