import pino, { type Logger } from 'pino';
import type { LogConfig } from './config/app-config.js';

export type { Logger };

/**
 * Keys whose values are secrets, at the top of a log object or one level down. pino's redact
 * paths reach no deeper, so never log an object that holds a secret further down.
 */
const REDACTED_PATHS = [
  'password',
  '*.password',
  'apiKey',
  '*.apiKey',
  'pass',
  '*.pass',
  'req.headers.authorization',
  'headers.authorization',
];

/**
 * JSON lines for machines (LOG_FORMAT=json) or one readable line per event for people
 * (LOG_FORMAT=text). Both go to stdout; the text form needs no extra process or dependency.
 */
export function createLogger(config: LogConfig, bindings: Record<string, unknown> = {}): Logger {
  const options = {
    level: config.level,
    base: { service: 'selfmx', ...bindings },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  if (config.format === 'json') return pino(options);
  return pino(options, { write: (line: string) => process.stdout.write(formatText(line)) });
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

function formatText(line: string): string {
  const {
    level,
    time,
    msg,
    service: _service,
    pid: _pid,
    hostname: _host,
    ...rest
  } = JSON.parse(line) as Record<string, unknown>;
  const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
  const when = new Date(Number(time)).toISOString();
  return `${when} ${LEVEL_NAMES[Number(level)] ?? level} ${String(msg ?? '')}${extra}\n`;
}
