// Structured logging (pino): one JSON object per line, so operators can grep and ship them.
import { destination, pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Where lines go; stdout (fd 1) by default, stderr for CLI commands whose stdout is data. */
  destinationFd?: number;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.GODEL_LOG_LEVEL ?? 'info';
  return pino({ level, base: { name: 'godel' } }, destination({ fd: options.destinationFd ?? 1, sync: false }));
}

/** A logger that drops everything (library default and tests). */
export const silentLogger: Logger = pino({ level: 'silent' });
