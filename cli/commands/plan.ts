/** `leastpath plan --env E`: the plan stage over the environment the CLI loads, with validation's resolution of it. */
import { planEnvironment } from '../../generators/plan-command.js';
import { withEnvironment } from '../load.js';

export const runPlan = withEnvironment(planEnvironment);
