/**
 * The what-if replay: every observed egress of the window against the resolved rules of its workload. What no
 * rule admits is what the change would break once enforced. Pure.
 */
import type { ObservedEgress, ObservedFile } from '../model/types.js';
import { ruleAdmits, protocolNumber, type MatchContext } from './match.js';
import type { ResolvedEnvironment } from './model.js';

/** An observed egress of a workload that no resolved rule admits. */
type DeniedFlow = Pick<ObservedEgress, 'destination' | 'protocol' | 'port' | 'flows' | 'lastSeen'> & {
  workload: string;
  /** Why no rule was made for it: review, ignore, denied, or none (adopted evidence that a rule still misses). */
  reason: string;
};

export interface WhatIf {
  denied: DeniedFlow[];
  /** Observed entries replayed, and how many flows they hold. */
  replayed: number;
  flows: number;
  deniedFlows: number;
  deniedWorkloads: number;
}

export function replay(resolved: ResolvedEnvironment, observed: ReadonlyMap<string, ObservedFile>, ctx: MatchContext): WhatIf {
  const denied: DeniedFlow[] = [];
  // The first not-adopted entry per observed destination, looked up once per egress instead of searched for.
  const key = (workload: string, destination: string, protocol: string, port: number | undefined) =>
    `${workload}|${destination}|${protocol}|${port ?? ''}`;
  const notAdopted = new Map<string, string>();
  for (const n of resolved.notAdopted) {
    const k = key(n.workload, n.destination, n.protocol, n.port);
    if (!notAdopted.has(k)) notAdopted.set(k, n.reason);
  }
  let replayed = 0;
  let flows = 0;
  for (const group of resolved.groups) {
    const o = observed.get(group.workload);
    if (!o) continue;
    for (const e of o.egress) {
      replayed++;
      flows += e.flows;
      const flow = {
        destination: e.destination,
        protocol: protocolNumber(e.protocol),
        ...(e.port !== undefined ? { port: e.port } : {}),
        service: e.service,
      };
      if (group.rules.some((r) => ruleAdmits(r, flow, ctx))) continue;
      denied.push({
        workload: group.workload,
        destination: e.destination,
        protocol: e.protocol,
        ...(e.port !== undefined ? { port: e.port } : {}),
        flows: e.flows,
        lastSeen: e.lastSeen,
        reason: notAdopted.get(key(group.workload, e.destination, e.protocol, e.port)) ?? 'none',
      });
    }
  }
  return {
    denied,
    replayed,
    flows,
    deniedFlows: denied.reduce((n, d) => n + d.flows, 0),
    deniedWorkloads: new Set(denied.map((d) => d.workload)).size,
  };
}
