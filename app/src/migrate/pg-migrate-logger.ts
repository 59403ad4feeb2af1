import type { Logger } from '../logger.js';

/** node-pg-migrate's logger interface. */
export interface PgMigrateLogger {
  debug: (message: string) => void;
  info: (message: string) => void;
  warn: (message: string) => void;
  error: (message: string) => void;
}

const MIGRATION_HEADER = /^### MIGRATION (\S+) \((UP|DOWN)\) ###$/;

/**
 * Routes node-pg-migrate's console-style messages through pino, concisely: one info line per
 * migration and its chatter at debug. A failed statement is logged at debug only (it prints the
 * whole migration): MigrationFailedError reports the file, line and message instead. `current()`
 * names the migration being applied.
 */
export function pgMigrateLogger(
  logger: Logger,
): PgMigrateLogger & { current(): string | undefined } {
  let current: string | undefined;
  return {
    current: () => current,
    debug: (message) => logger.debug(message),
    info: (message) => {
      const header = MIGRATION_HEADER.exec(message);
      if (!header) return logger.debug(message.trim());
      current = header[1];
      const direction = header[2] === 'UP' ? 'applying' : 'reverting';
      logger.info({ migration: current }, `${direction} ${current}`);
    },
    warn: (message) =>
      logger.warn({ migration: current }, message.replace(/^[#>\s]+|[<\s]+$/g, '')),
    error: (message) => logger.debug({ migration: current }, message),
  };
}
