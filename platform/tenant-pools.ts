import { createDatabasePool, assertSafeDatabaseName, withDatabase, type DatabasePool } from './db.ts';

/**
 * Small connection pools to tenant databases, at most `maxPools` open at once: the least
 * recently used one is closed first, and pools idle longer than `idleMs` are closed too, so
 * hundreds of tenants never exhaust the server's connections.
 */
export function createTenantPools(options: { mainUri: string; poolSize: number; maxPools: number; idleMs?: number }) {
  const pools = new Map<string, { pool: Promise<DatabasePool>; lastUsed: number }>();
  const idleMs = options.idleMs ?? 60_000;

  async function close(name: string): Promise<void> {
    const entry = pools.get(name);
    if (!entry) return;
    pools.delete(name);
    await (await entry.pool).end().catch(() => {});
  }

  const timer = setInterval(() => {
    const now = Date.now();
    for (const [name, entry] of pools) if (now - entry.lastUsed > idleMs) void close(name);
  }, Math.min(idleMs, 10_000));
  timer.unref();

  return {
    async get(databaseName: string): Promise<DatabasePool> {
      const existing = pools.get(databaseName);
      if (existing) {
        // Map order is the LRU order: move to the back.
        pools.delete(databaseName);
        pools.set(databaseName, { ...existing, lastUsed: Date.now() });
        return existing.pool;
      }
      while (pools.size >= options.maxPools) {
        const oldest = pools.keys().next().value;
        if (oldest === undefined) break;
        await close(oldest);
      }
      const pool = createDatabasePool(withDatabase(options.mainUri, assertSafeDatabaseName(databaseName)), { maxPoolSize: options.poolSize, name: databaseName });
      pools.set(databaseName, { pool, lastUsed: Date.now() });
      pool.catch(() => pools.delete(databaseName));
      return pool;
    },
    close,
    size: () => pools.size,
    async closeAll(): Promise<void> {
      clearInterval(timer);
      await Promise.all([...pools.keys()].map(close));
    },
  };
}

export type TenantPools = ReturnType<typeof createTenantPools>;
