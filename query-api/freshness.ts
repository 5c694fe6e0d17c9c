import type { FastifyRequest } from 'fastify';
import { sql, type DatabasePool } from '../core/adapters/db.ts';
import { lastPositionAtOrBelow } from '../core/eventing/event-store.ts';
import { checkpointOf } from '../core/eventing/projector.ts';
import { httpError } from '../core/adapters/http.ts';

/** The X-Min-Position a client sent (the `position` of its last command), or undefined. */
export function minPosition(request: FastifyRequest): number | undefined {
  const header = request.headers['x-min-position'];
  if (header === undefined) return undefined;
  const text = String(header).trim();
  if (!/^\d{1,15}$/.test(text)) throw httpError(400, 'INVALID_MIN_POSITION', "X-Min-Position must be a non-negative integer (a command's position)");
  return Number(text);
}

/**
 * Read-your-writes: waits, bounded, until a read model has applied every event it is made of
 * at or below the client's position. A projection's checkpoint is a true watermark because
 * positions are handed out in commit order (core/eventing/event-store.ts).
 */
export function createFreshness(pool: DatabasePool, timeoutMs: number) {
  async function waitUntil(caughtUp: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let pause = 5;
    while (!(await caughtUp())) {
      if (Date.now() >= deadline) {
        throw httpError(504, 'READ_MODEL_BEHIND', `the read model has not caught up with the requested position within ${timeoutMs} ms; retry`);
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 100);
    }
  }

  return {
    /** A main-database projection: users, tenants and memberships (`main`), or a tenant's audit trail or webhooks (tenant-scoped). */
    async projection(request: FastifyRequest, projection: 'main' | 'audit' | 'webhooks', tenantId?: string): Promise<void> {
      const position = minPosition(request);
      if (position === undefined) return;
      const needed =
        projection === 'main'
          ? await lastPositionAtOrBelow(pool, 'platform', position)
          : Number(
              await pool.oneFirst(sql.unsafe`
            select coalesce(max(global_position), 0) from events where tenant_id = ${tenantId ?? null} and global_position <= ${position}`),
            );
      if (needed === 0) return;
      await waitUntil(async () => (await checkpointOf(pool, projection)) >= needed);
    },
    /** A read model of the main database under checkpoint `key`, made of the events `needed` finds below a position. */
    async checkpoint(request: FastifyRequest, key: string, needed: (position: number) => Promise<number>): Promise<void> {
      const position = minPosition(request);
      if (position === undefined) return;
      const last = await needed(position);
      if (last === 0) return;
      await waitUntil(async () => (await checkpointOf(pool, key)) >= last);
    },
    /** The audit entries about one user outside any tenant: their user and auth-activity streams. */
    async userAudit(request: FastifyRequest, userId: string): Promise<void> {
      const position = minPosition(request);
      if (position === undefined) return;
      const needed = Number(
        await pool.oneFirst(sql.unsafe`
        select coalesce(max(global_position), 0) from events
        where stream_id = any(${sql.array([`user-${userId}`, `auth-${userId}`], 'text')}) and global_position <= ${position}`),
      );
      if (needed === 0) return;
      await waitUntil(async () => (await checkpointOf(pool, 'audit')) >= needed);
    },
    /**
     * A tenant database's files and documents (projection 'tenant', checkpoint in that database).
     * `tenantPool` is asked on every poll: a tenant being moved switches databases while a read waits.
     */
    async tenant(request: FastifyRequest, tenantId: string, tenantPool: () => Promise<DatabasePool>): Promise<void> {
      const position = minPosition(request);
      if (position === undefined) return;
      const needed = await lastPositionAtOrBelow(pool, 'documents', position, tenantId);
      if (needed === 0) return;
      await waitUntil(async () => (await checkpointOf(await tenantPool(), 'tenant')) >= needed);
    },
  };
}

export type Freshness = ReturnType<typeof createFreshness>;
