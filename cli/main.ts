/** The `leastpath` command line: parse flags, call the library, render. Exit codes live in exit-codes.ts. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { assetPath } from '../core/assets.js';
import { makeContext, type Context, type Io } from './context.js';
import { EXIT_FAILURE, reportError } from './exit-codes.js';
import { registerCommands } from './commands.js';

const defaultIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (line) => process.stderr.write(`${line}\n`),
};

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(
  argv: string[],
  io: Io = defaultIo,
  processEnv: NodeJS.ProcessEnv = process.env,
  now = new Date(),
): Promise<number> {
  let code = 0;
  const program = new Command('leastpath')
    .description('least-privilege AWS egress from VPC Flow Logs, as policy-as-code')
    .version(packageVersion(), '-V, --version', "print leastpath's version")
    .option('--root <dir>', 'repository root (default: the current directory)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s.replace(/\n$/, '')) })
    .showHelpAfterError(false);

  const context = (): Context =>
    makeContext(program.opts<{ root?: string }>().root, io, processEnv, now, io === defaultIo ? process.stderr : undefined);
  registerCommands(program, context, (c) => {
    code = c;
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0 through the same path.
      return err.exitCode === 0 ? 0 : EXIT_FAILURE;
    }
    return reportError(err, io.stderr);
  }
}

/** leastpath's own version, from its package.json (one source of truth for the tarball and the CLI). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(assetPath('package.json'), 'utf8')) as { version: string }).version;
}
