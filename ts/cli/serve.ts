// `godel serve`: run a broker in the foreground until SIGINT or SIGTERM, then shut down cleanly
// (in-flight requests answered, logs flushed, the clean-shutdown marker written).
import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { Broker } from '../broker/broker.js';
import { buildBrokerConfig, parseHostPort, parsePropertiesText, parseSetting } from '../broker/broker-config.js';
import { GodelError } from '../errors.js';
import { keepHeapHeadroom } from '../heap-growth.js';
import { createLogger } from '../log.js';

interface ServeOptions {
  listen?: string;
  advertise?: string;
  dataDir?: string;
  config?: string;
  set: string[];
  logLevel?: string;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run a broker (Kafka protocol) in the foreground')
    .option('--listen <host:port>', 'address to listen on (default localhost:9092)')
    .option('--advertise <host:port>', 'address clients are told to use (default: the listen address)')
    .option('--data-dir <dir>', 'data directory (default ./godel-data)')
    .option('--config <file>', 'Kafka-style .properties file')
    .option('--set <key=value>', 'a config value by its Kafka name (repeatable)', (v: string, all: string[]) => [...all, v], [])
    .option('--log-level <level>', 'trace, debug, info, warn, error (default info)')
    .action(async (options: ServeOptions) => {
      await serve(options);
    });
}

async function serve(options: ServeOptions): Promise<void> {
  const props: Record<string, string> = { listeners: 'PLAINTEXT://localhost:9092', 'log.dirs': './godel-data' };
  if (options.config !== undefined) {
    let text: string;
    try {
      text = await fs.readFile(options.config, 'utf8');
    } catch (err) {
      throw new GodelError('CONFIG_INVALID', `cannot read config file ${options.config}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    Object.assign(props, parsePropertiesText(text));
  }
  for (const setting of options.set) {
    const [key, value] = parseSetting(setting);
    props[key] = value;
  }
  if (options.listen !== undefined) {
    parseHostPort(options.listen, '--listen');
    props.listeners = `PLAINTEXT://${options.listen}`;
  }
  if (options.advertise !== undefined) {
    parseHostPort(options.advertise, '--advertise');
    props['advertised.listeners'] = `PLAINTEXT://${options.advertise}`;
  }
  if (options.dataDir !== undefined) props['log.dirs'] = options.dataDir;
  const { config, warnings } = buildBrokerConfig(props);
  const logger = createLogger({ level: options.logLevel });
  for (const warning of warnings) logger.warn(warning);
  // A rejection nobody handled is a bug in error handling, not lost state: log it loudly and keep
  // serving. An uncaught exception may have left state half-changed: log it and exit non-zero,
  // without writing the clean-shutdown marker, so the next start recovers.
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: String((reason as Error)?.stack ?? reason) }, 'unhandled promise rejection');
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err: String(err?.stack ?? err) }, 'uncaught exception; exiting');
    logger.flush();
    process.exit(70);
  });
  keepHeapHeadroom();
  let broker: Broker;
  try {
    broker = await Broker.start({ config, logger });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new GodelError('CONFIG_INVALID', `cannot listen on ${config.listen.host}:${config.listen.port}: ${code}`);
    }
    throw err;
  }
  let signals = 0;
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals > 1) {
        logger.warn({ signal }, 'second signal: exiting without a clean shutdown');
        process.exit(130);
      }
      logger.info({ signal }, 'shutting down');
      broker.stop().then(resolve, (err: unknown) => {
        logger.error({ err: String(err) }, 'shutdown failed');
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  logger.flush();
}
