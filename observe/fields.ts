/**
 * The VPC Flow Logs field catalogue: every field AWS documents, its column name (the hyphenated name with
 * underscores, as in Parquet delivery and the Athena table) and its SQL type.
 * https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html#flow-logs-fields
 */

export type FieldType = 'INTEGER' | 'BIGINT' | 'VARCHAR';

const NUMERIC: Record<string, FieldType> = {
  version: 'INTEGER',
  srcport: 'INTEGER',
  dstport: 'INTEGER',
  protocol: 'INTEGER',
  packets: 'BIGINT',
  bytes: 'BIGINT',
  start: 'BIGINT',
  end: 'BIGINT',
  'tcp-flags': 'INTEGER',
  'traffic-path': 'INTEGER',
};

/** Every documented field, hyphenated, in the order of the documentation (v2 first). */
const KNOWN_FIELDS = [
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
  'vpc-id',
  'subnet-id',
  'instance-id',
  'tcp-flags',
  'type',
  'pkt-srcaddr',
  'pkt-dstaddr',
  'region',
  'az-id',
  'sublocation-type',
  'sublocation-id',
  'pkt-src-aws-service',
  'pkt-dst-aws-service',
  'flow-direction',
  'traffic-path',
  'ecs-cluster-arn',
  'ecs-cluster-name',
  'ecs-container-instance-arn',
  'ecs-container-instance-id',
  'ecs-container-id',
  'ecs-second-container-id',
  'ecs-service-name',
  'ecs-task-definition-arn',
  'ecs-task-arn',
  'ecs-task-id',
  'reject-reason',
] as const;

/** The v2 default format, used for files without a header line. */
export const DEFAULT_FORMAT = KNOWN_FIELDS.slice(0, 14);

/**
 * The fields of the Athena table (README "Athena"), in its column order: the columns of DuckDB's `flow_logs`
 * view too, so a query (observe's, report's, or an `ask`) reads the same table on either engine.
 */
export const TABLE_FIELDS = [
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
  'vpc-id',
  'subnet-id',
  'instance-id',
  'tcp-flags',
  'type',
  'pkt-srcaddr',
  'pkt-dstaddr',
  'pkt-src-aws-service',
  'pkt-dst-aws-service',
  'flow-direction',
  'traffic-path',
] as const satisfies readonly (typeof KNOWN_FIELDS)[number][];

/**
 * The fields observe and report cannot work without (observe/sql.ts): a record without its interface, addresses,
 * protocol or action, or with a log status other than OK, is unusable; without ports every connection would look
 * portless; without start no record falls in the window. A file that lacks one would add nothing, or wrong rules,
 * without a word, so it is refused (readFlowLogs). The v2 default format has them all; ask needs none of them.
 */
export const REQUIRED_FIELDS = [
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'start',
  'action',
  'log-status',
] as const satisfies readonly (typeof KNOWN_FIELDS)[number][];

export function columnName(field: string): string {
  return field.replace(/-/g, '_');
}

export function fieldType(field: string): FieldType {
  return NUMERIC[field] ?? 'VARCHAR';
}

const known = new Set<string>(KNOWN_FIELDS);

/** Field name of a header token: hyphenated (text delivery) or underscored (Parquet); undefined if unknown. */
export function normaliseField(token: string): string | undefined {
  const f = token.trim().toLowerCase().replace(/_/g, '-');
  return known.has(f) ? f : undefined;
}
