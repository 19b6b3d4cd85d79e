/** The rows the observe query answers, and the window it reads: shared by assembly and coverage. */

/**
 * One row of the observe query, with numbers as numbers and times as epoch seconds. `coverage` rows: `workload` is
 * the log status, `raddr` the interface, `rport` the UTC day (days since 1970), `flows` its records, `svc`
 * "instance subnet"; `address` rows: `svc` is the interface whose own address it is.
 */
export interface ObserveRow {
  kind: 'egress' | 'rejected' | 'stats' | 'address' | 'coverage' | 'open';
  workload: string;
  raddr: string | null;
  proto: number | null;
  rport: number | null;
  flows: number;
  bytes: number;
  firstSeen: number | null;
  lastSeen: number | null;
  rank: number;
  svc: string | null;
  /** kind `open`: the workload's own end of the connection (`rank` 1: it sent the SYN; 2: the peer did). */
  laddr?: string | null;
  lport?: number | null;
}

export interface ObserveWindow {
  /** First and last day of the window, YYYY-MM-DD (both inclusive). */
  from: string;
  to: string;
}
