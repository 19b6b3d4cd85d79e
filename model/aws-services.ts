/** The curated AWS endpoint services (schemas/aws-services.json) that `to: { service: x }` may name. */
import { readFileSync } from 'node:fs';
import { assetPath } from '../core/assets.js';

type EndpointType = 'gateway' | 'interface';

interface AwsServices {
  /** Served by a gateway endpoint on the route tables (s3, dynamodb). */
  gateway: string[];
  /** Served by an interface endpoint (PrivateLink) in the endpoint subnets. */
  interface: string[];
}

let services: AwsServices | undefined;

/** The list, read once. */
export function awsServices(): AwsServices {
  services ??= JSON.parse(readFileSync(assetPath('schemas/aws-services.json'), 'utf8')) as AwsServices;
  return services;
}

/** How leastpath reaches the service privately; undefined when it is not a known service. */
export function endpointType(service: string): EndpointType | undefined {
  const s = awsServices();
  if (s.gateway.includes(service)) return 'gateway';
  if (s.interface.includes(service)) return 'interface';
  return undefined;
}
