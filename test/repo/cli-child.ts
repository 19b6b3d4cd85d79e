/** The CLI from source, as a child process of a test (`node --import tsx test/repo/cli-child.ts ARGS`). */
import { main } from '../../cli/main.js';

process.exitCode = await main(process.argv.slice(2));
