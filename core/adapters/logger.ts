import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.ts';

/** Paths that may carry secrets; pino replaces them before anything is written. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.password_hash',
  '*.passwordHash',
  '*.access_token',
  '*.refresh_token',
  '*.token',
  '*.secret',
  '*.S3_SECRET_ACCESS_KEY',
  '*.JWT_SECRET',
  // Personal data (README "Erasure"): a log line outlives any erasure, so it never holds any.
  'email',
  '*.email',
  '*.displayName',
  '*.title',
  '*.filename',
  '*.description',
  '*.userAgent',
  '*.ip',
  '*.recipient',
  'req.remoteAddress',
  'req.headers["user-agent"]',
  'req.headers["x-forwarded-for"]',
  'req.headers["x-real-ip"]',
];

/** JSON lines to stdout, or to `destination` (a test capturing what a process logs). */
export function createLogger(name: string, config: Pick<Config, 'LOG_LEVEL'>, destination?: DestinationStream): Logger {
  const options = { name, level: config.LOG_LEVEL, redact: { paths: REDACT, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
