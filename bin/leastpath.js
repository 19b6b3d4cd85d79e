#!/usr/bin/env node
// The compiled CLI is built by `npm ci` (the `prepare` script); this file only loads it.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
