/**
 * The entry of cdktf.json's app (`node dist/stacks/app.js`, the path a CDK Terrain CLI runs): like bin/leastpath.js,
 * a process entry that only starts the CLI's side (cli/cdktf-app.ts), where loading and exit codes live.
 */
import { cdktfApp } from '../cli/cdktf-app.js';

process.exitCode = await cdktfApp();
