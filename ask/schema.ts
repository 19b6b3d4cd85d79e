/**
 * The flow-log table a question may be asked of: the columns of the Athena table in README.md ("Athena"), derived
 * from the field catalogue in observe/fields.ts, plus the projected partition column `day` (YYYY/MM/DD).
 */
import { DNS_TABLE_COLUMNS } from '../observe/dns-read.js';
import { columnName, fieldType, TABLE_FIELDS, type FieldType } from '../observe/fields.js';

export const DEFAULT_TABLE = 'vpc_flow_logs';
export const PARTITION_COLUMN = 'day';
export const DEFAULT_MAX_LIMIT = 1000;

interface TableColumn {
  name: string;
  type: FieldType;
}

/** Every column of the table, the partition column last (VARCHAR, like the Athena `day string`). */
export const FLOW_LOG_COLUMNS: readonly TableColumn[] = [
  ...TABLE_FIELDS.map((f) => ({ name: columnName(f), type: fieldType(f) })),
  { name: PARTITION_COLUMN, type: 'VARCHAR' },
];

/** The Route 53 Resolver query-log table (`ask --logs dns`): one row per query, the partition column last. */
export const DNS_TABLE = 'resolver_query_logs';
export const DNS_LOG_COLUMNS: readonly { name: string; type: string }[] = [
  ...DNS_TABLE_COLUMNS.map(([name, type]) => ({ name, type })),
  { name: PARTITION_COLUMN, type: 'VARCHAR' },
];
