/**
 * The flow-log table a question may be asked of: the columns of the Athena table in README.md ("Athena"), derived
 * from the field catalogue in observe/fields.ts, plus the projected partition column `day` (YYYY/MM/DD).
 */
import { columnName, fieldType, KNOWN_FIELDS, type FieldType } from '../observe/fields.js';

type Field = (typeof KNOWN_FIELDS)[number];

/** The fields of the Athena table, in its column order (a subset of the catalogue, so each name is checked). */
const TABLE_FIELDS: readonly Field[] = [
  'version', 'account-id', 'interface-id', 'srcaddr', 'dstaddr', 'srcport', 'dstport', 'protocol', 'packets', 'bytes',
  'start', 'end', 'action', 'log-status', 'vpc-id', 'subnet-id', 'instance-id', 'tcp-flags', 'type', 'pkt-srcaddr',
  'pkt-dstaddr', 'pkt-src-aws-service', 'pkt-dst-aws-service', 'flow-direction', 'traffic-path',
];

export const DEFAULT_TABLE = 'vpc_flow_logs';
export const PARTITION_COLUMN = 'day';
export const DEFAULT_MAX_LIMIT = 1000;

export interface TableColumn {
  name: string;
  type: FieldType;
}

/** Every column of the table, the partition column last (VARCHAR, like the Athena `day string`). */
export const FLOW_LOG_COLUMNS: readonly TableColumn[] = [
  ...TABLE_FIELDS.map((f) => ({ name: columnName(f), type: fieldType(f) })),
  { name: PARTITION_COLUMN, type: 'VARCHAR' },
];
