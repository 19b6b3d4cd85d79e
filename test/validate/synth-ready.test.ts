/**
 * Issue 14, case 5, through the real CLI: what plan or synth would refuse, validate reports first, with file, line
 * and column (synth failed with exit 2 and no line).
 */
import { describe, expect, it } from 'vitest';
import { BASE, devEnvironment, expectFinding, runOrg, web } from './org.js';

const ENV = 'policies/dev/environment.yaml';
const WEB = 'policies/dev/workloads/web.yaml';
const noEndpoints = BASE[ENV]!.replace('endpoints: { routeTables: [rtb-0a1b2c3d] }\n', '');

describe('synth-ready: validate reports what synth and plan refuse', () => {
  it('an S3 gateway endpoint without route tables: validate names it; synth stops with the same finding, not exit 2', async () => {
    const finding = `${ENV}:1:1: endpoints.routeTables: the s3 gateway endpoint (for api) needs route tables in endpoints.routeTables: synth refuses it`;
    await expectFinding({ [ENV]: noEndpoints }, finding);
    const synth = await runOrg({ [ENV]: noEndpoints }, ['synth', '--env', 'dev']);
    expect(synth.stderr).toContain(finding);
    expect(synth.code).toBe(1);
  });

  it('an interface endpoint without subnets, at the endpoints block', async () => {
    const secrets = web('  - to: { service: secretsmanager }\n    why: reads credentials\n');
    await expectFinding(
      { [WEB]: secrets },
      `${ENV}:13:12: endpoints.subnets: the secretsmanager interface endpoint (for web) needs subnets in endpoints.subnets: synth refuses it`,
    );
  });

  it('a workload whose group would take the name of an endpoint group', async () => {
    const env = devEnvironment('  sts-vpce: { cidrs: [10.20.7.0/24] }\n').replace(
      'routeTables: [rtb-0a1b2c3d]',
      'routeTables: [rtb-0a1b2c3d], subnets: [subnet-0a1b2c3d]',
    );
    const stsVpce = 'workload: sts-vpce\nowner: team-x\nobserved: adopt\negress:\n  - to: { service: sts }\n    why: assumes roles\n';
    await expectFinding(
      { [ENV]: env, 'policies/dev/workloads/sts-vpce.yaml': stsVpce },
      'policies/dev/workloads/sts-vpce.yaml:1:11: workload: its security group would have the name of the sts endpoint',
    );
  });

  it('intent rules over the quota (the resolver merges observed destinations only): at the egress of the workload', async () => {
    const env = devEnvironment('').replace('workloads:\n', 'quotas: { rulesPerGroup: 1 }\nworkloads:\n');
    const two = web('  - to: { workload: api }\n    ports: [tcp/8080, tcp/8081]\n    why: renders pages from the API\n');
    await expectFinding(
      { [ENV]: env, [WEB]: two },
      `${WEB}:5:3: egress: 2 egress rules (intent rules count one per port) are over quotas.rulesPerGroup 1`,
    );
  });
});
