import { pino, type Logger, type LevelWithSilent, type DestinationStream, type LoggerOptions } from 'pino';

export type { Logger };

// Headers that carry credentials: never logged (PROXYING.md).
export const REDACTED_HEADER_PATHS = [
  'headers["x-registry-auth"]',
  'headers["x-registry-config"]',
  'headers.authorization',
];

function options(level: LevelWithSilent): LoggerOptions {
  return {
    level,
    base: { name: 'dockgate' },
    redact: { paths: REDACTED_HEADER_PATHS, censor: '[redacted]' },
  };
}

// Logs go to stderr as JSON lines, so stdout stays free for command output (eval, check-config).
export function createLogger(level: LevelWithSilent = 'info'): Logger {
  return pino(options(level), pino.destination({ fd: 2, sync: false }));
}

/**
 * The same logger with human-readable lines (pino-pretty) for development. pino-pretty is only
 * loaded here, so JSON logging never pays for it.
 */
export async function createPrettyLogger(level: LevelWithSilent = 'info'): Promise<Logger> {
  const { default: pretty } = await import('pino-pretty');
  const stream: DestinationStream = pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY, ignore: 'pid,hostname,name' });
  return pino(options(level), stream);
}

export function createLoggerFor(format: 'json' | 'pretty', level: LevelWithSilent): Promise<Logger> {
  return format === 'pretty' ? createPrettyLogger(level) : Promise.resolve(createLogger(level));
}
