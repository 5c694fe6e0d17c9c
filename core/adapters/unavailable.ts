// A dependency that is down (PostgreSQL restarting, S3 unreachable) is not a bug of ours: the
// client gets 503 with a stable code and Retry-After, and may retry, rather than a 500.
// Recognised by what the drivers throw, following `cause` chains (slonik wraps pg's errors).

export type Unavailable = { code: 'DATABASE_UNAVAILABLE' | 'STORAGE_UNAVAILABLE'; message: string };

type ErrorLike = { name?: string; code?: unknown; message?: string; cause?: unknown; $metadata?: { httpStatusCode?: number }; $fault?: string };

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);
/**
 * SQLSTATE class 08 (connection exception), 57P01-57P03 (shutdown, crash, cannot connect now),
 * 53300 (too many connections), 3D000 (a tenant database that is gone, e.g. being restored).
 */
const PG_UNAVAILABLE = /^(08...|57P0[123]|53300|3D000)$/;
const PG_MESSAGES =
  /Connection terminated|terminating connection|the database system is (starting up|shutting down|in recovery mode)|Backend has been terminated|timeout exceeded when trying to connect|Connection refused|is not currently accepting connections/i;
const SLONIK_UNAVAILABLE = new Set(['ConnectionError', 'BackendTerminatedError', 'BackendTerminatedUnexpectedlyError']);

function chain(err: unknown): ErrorLike[] {
  const errors: ErrorLike[] = [];
  for (let e = err as ErrorLike | undefined; e && typeof e === 'object' && errors.length < 6; e = e.cause as ErrorLike | undefined) errors.push(e);
  return errors;
}

function isS3Error(e: ErrorLike): boolean {
  return e.$metadata !== undefined || e.$fault !== undefined;
}

/** What is down, when `err` says a dependency is unavailable; undefined for any other error. */
export function unavailableDependency(err: unknown): Unavailable | undefined {
  const errors = chain(err);
  if (errors.some(isS3Error)) {
    const s3 = errors.find(isS3Error)!;
    const status = s3.$metadata?.httpStatusCode;
    const down =
      status === undefined || status >= 500 || errors.some((e) => typeof e.code === 'string' && SOCKET_CODES.has(e.code)) || s3.name === 'TimeoutError';
    return down ? { code: 'STORAGE_UNAVAILABLE', message: 'file storage is unavailable; retry shortly' } : undefined;
  }
  for (const e of errors) {
    if (SLONIK_UNAVAILABLE.has(e.name ?? '') || SLONIK_UNAVAILABLE.has(e.constructor?.name ?? '')) return database();
    if (typeof e.code === 'string' && PG_UNAVAILABLE.test(e.code)) return database();
    if (PG_MESSAGES.test(e.message ?? '')) return database();
  }
  // A bare socket error without an S3 marker comes from a database connection (pg, our own clients).
  if (errors.some((e) => typeof e.code === 'string' && SOCKET_CODES.has(e.code))) return database();
  return undefined;
}

function database(): Unavailable {
  return { code: 'DATABASE_UNAVAILABLE', message: 'the database is unavailable; retry shortly' };
}
