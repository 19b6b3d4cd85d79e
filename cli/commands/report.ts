/** `leastpath report --env E`: the report stage over the environment the CLI loads, with validation's resolution of it. */
import { reportEnvironment } from '../../verify/report-command.js';
import { withEnvironment } from '../load.js';

export const runReport = withEnvironment(reportEnvironment);
