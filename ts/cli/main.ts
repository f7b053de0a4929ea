// The `godel` command. Each command group lives in its own file and registers itself here.
import { Command, CommanderError } from 'commander';
import { engineChoice } from '../engine/loader.js';
import { GODEL_VERSION } from '../version.js';
import { registerCommit } from './commit.js';
import { registerConfigs } from './configs.js';
import { registerConsume } from './consume.js';
import { registerGroups } from './groups.js';
import { registerProduce } from './produce.js';
import { registerServe } from './serve.js';
import { registerTopics } from './topics.js';

/** `godel 0.1.0 (engine: native)`, or the reason the TypeScript engine is in use. */
export function versionLine(): string {
  try {
    const choice = engineChoice();
    const why = choice.fallbackReason === undefined ? '' : `; ${choice.fallbackReason}`;
    return `godel ${GODEL_VERSION} (engine: ${choice.engine.name}${why})`;
  } catch (err) {
    return `godel ${GODEL_VERSION} (engine: none; ${(err as Error).message})`;
  }
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('godel')
    .description('Gödel: a Kafka-compatible distributed log for Node.js')
    .version(versionLine(), '-V, --version', 'print the version and the storage engine in use')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerServe(program);
  registerTopics(program);
  registerConfigs(program);
  registerProduce(program);
  registerConsume(program);
  registerCommit(program);
  registerGroups(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`godel: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
