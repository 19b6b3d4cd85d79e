/** An anomaly of the report: flows (volume, beacon, from the report query) and names (DNS, verify/dns-report.ts) alike. */
export interface Anomaly {
  kind: 'volume' | 'beacon' | 'dns-tunnel' | 'nxdomain-burst';
  /** DNS anomalies: the registrable domain under which the names were queried (also in `destination`). */
  domain?: string;
  /** dns-tunnel: distinct names queried. */
  names?: number;
  workload: string;
  /** The remote address as a CIDR (/32, /128), like observed files. */
  destination: string;
  protocol: string;
  /** Volume: the port that carried most of the day's bytes; beacon: the destination port. */
  port?: number;
  /** Volume: records sent that day; beacon: connections. */
  flows: number;
  /** Bytes sent that day (volume); bytes of all the connections, both ways (beacon). */
  bytes: number;
  /** First and last day the finding covers (the same day for volume). */
  from: string;
  to: string;
  why: string;
  /** Volume: the median bytes per day it is compared with, over how many days, and of what. */
  baseline?: { bytesPerDay: number; days: number; of: 'destination' | 'external' };
  /** Beacon: mean seconds between connection starts and their coefficient of variation. */
  periodSeconds?: number;
  jitter?: number;
  /** Beacon: first and last connection start (epoch seconds), for the timeline. */
  firstStart?: number;
  lastStart?: number;
}
