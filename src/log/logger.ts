import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

// Headers that carry credentials: never logged (PROXYING.md).
export const REDACTED_HEADER_PATHS = [
  'headers["x-registry-auth"]',
  'headers["x-registry-config"]',
  'headers.authorization',
];

// Logs go to stderr as JSON lines, so stdout stays free for command output (eval, check-config).
export function createLogger(level: LevelWithSilent = 'info'): Logger {
  return pino(
    {
      level,
      base: { name: 'dockgate' },
      redact: { paths: REDACTED_HEADER_PATHS, censor: '[redacted]' },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}
