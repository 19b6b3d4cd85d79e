/** Registers each command; the command bodies live with their stage and return an exit code. */
import type { Command } from 'commander';
import type { Context } from './context.js';

export type SetExit = (code: number) => void;

export function registerCommands(_program: Command, _context: () => Context, _setExit: SetExit): void {
  // Commands are added here as their stages land.
}
