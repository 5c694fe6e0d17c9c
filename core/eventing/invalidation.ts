import pg from 'pg';
import type { Logger } from '../adapters/logger.ts';

const CHANNEL = 'ledgerline_invalidate';

/**
 * Invalidations of in-process caches, sent by triggers at commit on the tables they cache
 * (core/migrations/004_append_function.sql): `session:<id>`, `membership:<tenant>:<user>`,
 * `tenant:<tenant>`. One LISTEN connection per process. While it is down, nothing may be
 * cached (`caching()` is false) and everything cached before is dropped, since notifications
 * sent meanwhile are lost. The staleness bound is thus the notification's delivery (milliseconds
 * after the commit) or, should a connection fail silently, `maxAgeMs`: no entry lives longer.
 */
export type Invalidations = {
  /** Whether a cache may keep what it reads now. */
  caching: () => boolean;
  /** Bumped on every invalidation: a read that began before a bump must not be cached. */
  generation: () => number;
  subscribe: (handler: (subject: string) => void) => void;
  maxAgeMs: number;
  close: () => Promise<void>;
};

export async function listenForInvalidations(
  connectionUri: string,
  logger: Logger,
  options: { maxAgeMs?: number; retryMs?: number } = {},
): Promise<Invalidations> {
  const handlers: ((subject: string) => void)[] = [];
  let generation = 0;
  let listening = false;
  let closed = false;
  let client: pg.Client | undefined;
  const retryMs = options.retryMs ?? 1000;
  const dropAll = () => {
    generation += 1;
    for (const handler of handlers) handler('*');
  };

  async function connect(): Promise<void> {
    const next = new pg.Client({ connectionString: connectionUri });
    next.on('notification', (message) => {
      generation += 1;
      for (const handler of handlers) handler(message.payload ?? '*');
    });
    const lost = (err?: Error) => {
      if (client !== next) return;
      client = undefined;
      listening = false;
      dropAll();
      if (closed) return;
      logger.warn({ err }, 'cache invalidation connection lost: caches dropped, reconnecting');
      setTimeout(() => void connect().catch(() => {}), retryMs).unref();
    };
    next.on('error', lost);
    next.on('end', () => lost());
    client = next;
    try {
      await next.connect();
      await next.query(`listen ${CHANNEL}`);
      // Whatever was cached before this connection listened may have missed a notification.
      dropAll();
      listening = true;
    } catch (err) {
      lost(err as Error);
      await next.end().catch(() => {});
      throw err;
    }
  }

  await connect().catch((err: unknown) => logger.warn({ err }, 'cache invalidation connection failed; caching off until it connects'));
  return {
    caching: () => listening,
    generation: () => generation,
    subscribe: (handler) => {
      handlers.push(handler);
    },
    maxAgeMs: options.maxAgeMs ?? 60_000,
    async close() {
      closed = true;
      listening = false;
      const current = client;
      client = undefined;
      await current?.end().catch(() => {});
    },
  };
}

/**
 * A read-through cache of one kind of row, invalidated by subject (each key names the subjects
 * whose notification drops it). Negative answers (no row) are cached too: the triggers also
 * notify on insert.
 */
export function createInvalidatedCache<V>(
  invalidations: Invalidations,
  subjectsOf: (key: string) => string[],
  options: { maxEntries?: number; maxAgeMs?: number } = {},
) {
  const maxEntries = options.maxEntries ?? 50_000;
  const maxAgeMs = Math.min(options.maxAgeMs ?? Infinity, invalidations.maxAgeMs);
  const entries = new Map<string, { value: V; at: number }>();
  const keysBySubject = new Map<string, Set<string>>();
  const forget = (key: string) => {
    entries.delete(key);
    for (const subject of subjectsOf(key)) {
      const keys = keysBySubject.get(subject);
      keys?.delete(key);
      if (keys?.size === 0) keysBySubject.delete(subject);
    }
  };
  invalidations.subscribe((subject) => {
    if (subject === '*') {
      entries.clear();
      keysBySubject.clear();
      return;
    }
    for (const key of keysBySubject.get(subject) ?? []) forget(key);
  });
  return {
    async get(key: string, load: () => Promise<V>): Promise<V> {
      const hit = entries.get(key);
      if (hit && invalidations.caching() && Date.now() - hit.at < maxAgeMs) return hit.value;
      const generation = invalidations.generation();
      const value = await load();
      if (maxEntries > 0 && invalidations.caching() && invalidations.generation() === generation) {
        if (entries.size >= maxEntries) forget(entries.keys().next().value!);
        entries.set(key, { value, at: Date.now() });
        for (const subject of subjectsOf(key)) {
          let keys = keysBySubject.get(subject);
          if (!keys) keysBySubject.set(subject, (keys = new Set()));
          keys.add(key);
        }
      }
      return value;
    },
    size: () => entries.size,
  };
}
