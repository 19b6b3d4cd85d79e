/** environment.yaml `anomalies`: optional, defaults filled in, bad values refused with their place. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ANOMALIES } from '../../model/normalise.js';
import { devEnvironment, expectFinding, runOrg } from '../validate/org.js';

describe('environment.yaml anomalies', () => {
  it('is optional, and partial values keep the other defaults', async () => {
    expect((await runOrg({})).code).toBe(0);
    const run = await runOrg({
      'policies/dev/environment.yaml': devEnvironment('anomalies: { volumeFactor: 4, beaconMaxJitter: 0.05 }\n'),
    });
    expect(run.stderr.filter((l) => !l.startsWith('validate:'))).toEqual([]);
    expect(run.code).toBe(0);
    expect(DEFAULT_ANOMALIES).toEqual({
      volumeFactor: 10,
      volumeMinBytes: 100_000_000,
      beaconMinFlows: 20,
      beaconMaxJitter: 0.1,
      beaconMaxBytesPerFlow: 16_384,
    });
  });

  it('refuses unknown keys and values out of range, naming the place', async () => {
    await expectFinding(
      { 'policies/dev/environment.yaml': devEnvironment('anomalies: { beaconMaxJitter: 0 }\n') },
      'policies/dev/environment.yaml:13:',
    );
    await expectFinding(
      { 'policies/dev/environment.yaml': devEnvironment('anomalies: { volumeFactor: 1 }\n') },
      'policies/dev/environment.yaml:13:',
    );
    await expectFinding(
      { 'policies/dev/environment.yaml': devEnvironment('anomalies: { beaconFlows: 3 }\n') },
      'policies/dev/environment.yaml:13:',
    );
  });
});
