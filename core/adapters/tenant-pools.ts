import { createDatabasePool, assertSafeDatabaseName, type DatabasePool } from './db.ts';
import { MAIN_SERVER, singleServer, type TenantServers } from './tenant-servers.ts';

/** lastUsed: the last get() or call on the pool; inFlight: calls on it not settled yet. */
type Usage = { lastUsed: number; inFlight: number };
type Entry = { pool: Promise<DatabasePool>; usage: Usage; ready?: DatabasePool; failed?: boolean };

/** No call running and no connection checked out or awaited: nothing runs on the pool. */
function isIdle(entry: Entry, pool: DatabasePool): boolean {
  const state = pool.state();
  return (
    entry.usage.inFlight === 0 &&
    state.acquiredConnections === 0 &&
    state.pendingConnections === 0 &&
    state.waitingClients === 0 &&
    state.pendingReleaseConnections === 0
  );
}

/** The pool as callers see it: every method call counts as use, and as in flight until it settles. */
function tracked(pool: DatabasePool, usage: Usage): DatabasePool {
  return new Proxy(pool, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'state') return value;
      return (...args: unknown[]) => {
        usage.lastUsed = Date.now();
        const result: unknown = Reflect.apply(value, target, args);
        if (!(result instanceof Promise)) return result;
        usage.inFlight++;
        return result.finally(() => {
          usage.inFlight--;
          usage.lastUsed = Date.now();
        });
      };
    },
  });
}

/**
 * Small connection pools to tenant databases, at most `maxPools` open at once, so hundreds of
 * tenants never exhaust the server's connections. Making room closes the least recently used
 * idle pool. A pool with queries in flight is never ended under them (slonik's `end()` would
 * fail them): when every pool is busy, the least recently used one is retired instead, taken
 * out of the map (so new requests open a fresh pool) and ended once it has been idle for
 * `graceMs`, or after `drainMs` at the latest (longer than the statement timeout). A request
 * that got a pool a moment ago but has not sent its query yet is covered by `graceMs`.
 *
 * Pools are keyed by server and database (a tenant being moved has a database of the same name
 * on two servers). `maxPools` bounds them per process across all servers: a process holds at
 * most maxPools × poolSize tenant connections, however many tenants and servers there are.
 */
export function createTenantPools(
  options: ({ mainUri: string } | { servers: TenantServers }) & { poolSize: number; maxPools: number; idleMs?: number; graceMs?: number; drainMs?: number },
) {
  const servers = 'servers' in options ? options.servers : singleServer(options.mainUri);
  const pools = new Map<string, Entry>();
  const retiring = new Set<Promise<void>>();
  const idleMs = options.idleMs ?? 60_000;
  const graceMs = options.graceMs ?? 1_000;
  const drainMs = options.drainMs ?? 70_000;

  const keyOf = (database: string, server: string) => `${server}/${database}`;

  async function close(database: string, server = MAIN_SERVER): Promise<void> {
    const name = keyOf(database, server);
    const entry = pools.get(name);
    if (!entry) return;
    pools.delete(name);
    await retire(entry, 0);
  }

  /** Ends the pool once nothing runs on it (checked every 50 ms) and `quietMs` passed since its last use. */
  function retire(entry: Entry, quietMs: number): Promise<void> {
    const done = (async () => {
      const pool = await entry.pool.catch(() => undefined);
      if (!pool) return;
      const deadline = Date.now() + drainMs;
      while (Date.now() < deadline && !(isIdle(entry, pool) && Date.now() - entry.usage.lastUsed >= quietMs)) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await pool.end().catch(() => {});
    })();
    retiring.add(done);
    void done.finally(() => retiring.delete(done));
    return done;
  }

  /** Closes the least recently used idle pool, else retires the least recently used one (still connecting counts as busy). */
  async function evictOne(): Promise<void> {
    const now = Date.now();
    for (const [name, entry] of pools) {
      const pool = entry.ready;
      if (entry.failed || (pool && isIdle(entry, pool) && now - entry.usage.lastUsed >= graceMs)) {
        pools.delete(name);
        await pool?.end().catch(() => {});
        return;
      }
    }
    const oldest = pools.entries().next().value;
    if (!oldest) return;
    pools.delete(oldest[0]);
    void retire(oldest[1], graceMs);
  }

  const timer = setInterval(
    () => {
      const now = Date.now();
      for (const [name, entry] of pools) {
        if (now - entry.usage.lastUsed > idleMs) {
          pools.delete(name);
          void retire(entry, graceMs);
        }
      }
    },
    Math.min(idleMs, 10_000),
  );
  timer.unref();

  return {
    /** The pool of a tenant database on a server (`main` when not said: tenants older than placement). */
    async get(databaseName: string, server = MAIN_SERVER): Promise<DatabasePool> {
      const key = keyOf(databaseName, server);
      const existing = pools.get(key);
      if (existing) {
        // Map order is the LRU order: move to the back.
        pools.delete(key);
        existing.usage.lastUsed = Date.now();
        pools.set(key, existing);
        return existing.pool;
      }
      const uri = servers.databaseUri(server, assertSafeDatabaseName(databaseName));
      while (pools.size >= options.maxPools) await evictOne();
      const usage: Usage = { lastUsed: Date.now(), inFlight: 0 };
      const entry: Entry = { usage, pool: createDatabasePool(uri, { maxPoolSize: options.poolSize, name: key }).then((pool) => tracked(pool, usage)) };
      pools.set(key, entry);
      entry.pool.then(
        (pool) => {
          entry.ready = pool;
        },
        () => {
          entry.failed = true;
          if (pools.get(key) === entry) pools.delete(key);
        },
      );
      return entry.pool;
    },
    close,
    size: () => pools.size,
    /** Pools taken out of the map and not ended yet (waiting for their queries). */
    retiring: () => retiring.size,
    async closeAll(): Promise<void> {
      clearInterval(timer);
      await Promise.all(
        [...pools.keys()].map((key) => {
          const entry = pools.get(key);
          pools.delete(key);
          return entry ? retire(entry, 0) : undefined;
        }),
      );
      await Promise.all([...retiring]);
    },
  };
}

export type TenantPools = ReturnType<typeof createTenantPools>;
