/** Every semantic rule, in the order RULES.md lists them. Each rule's id is its file name. */
import type { Rule } from '../rule.js';
import { rule as adoptNames } from './adopt-names.js';
import { rule as awsProviderRange } from './aws-provider-range.js';
import { rule as cidrValid } from './cidr-valid.js';
import { rule as denyConflict } from './deny-conflict.js';
import { rule as duplicateRule } from './duplicate-rule.js';
import { rule as environmentName } from './environment-name.js';
import { rule as exceptionExpired } from './exception-expired.js';
import { rule as exceptionHorizon } from './exception-horizon.js';
import { rule as exceptionRequired } from './exception-required.js';
import { rule as exceptionTicket } from './exception-ticket.js';
import { rule as exceptionUnneeded } from './exception-unneeded.js';
import { rule as flowLogsConfig } from './flow-logs-config.js';
import { rule as guardrailsTightenOnly } from './guardrails-tighten-only.js';
import { rule as nameFormat } from './name-format.js';
import { rule as observedConsistent } from './observed-consistent.js';
import { rule as observedWindowMixed } from './observed-window-mixed.js';
import { rule as portsValid } from './ports-valid.js';
import { rule as prefixListReference } from './prefix-list-reference.js';
import { rule as prefixListValid } from './prefix-list-valid.js';
import { rule as promoteChain } from './promote-chain.js';
import { rule as quarantineValid } from './quarantine-valid.js';
import { rule as selectorOverlap } from './selector-overlap.js';
import { rule as serviceKnown } from './service-known.js';
import { rule as synthReady } from './synth-ready.js';
import { rule as whyRequired } from './why-required.js';
import { rule as workloadCoverage } from './workload-coverage.js';
import { rule as workloadFileName } from './workload-file-name.js';
import { rule as workloadReference } from './workload-reference.js';

export const rules: readonly Rule[] = [
  whyRequired,
  nameFormat,
  environmentName,
  workloadFileName,
  exceptionRequired,
  exceptionExpired,
  exceptionHorizon,
  exceptionTicket,
  exceptionUnneeded,
  workloadReference,
  workloadCoverage,
  prefixListReference,
  prefixListValid,
  serviceKnown,
  cidrValid,
  portsValid,
  guardrailsTightenOnly,
  denyConflict,
  selectorOverlap,
  promoteChain,
  flowLogsConfig,
  quarantineValid,
  observedConsistent,
  observedWindowMixed,
  duplicateRule,
  awsProviderRange,
  adoptNames,
  synthReady,
];
