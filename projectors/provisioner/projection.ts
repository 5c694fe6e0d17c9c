import { sql } from '../../platform/db.ts';
import { executeCommand, loadAggregate, type CommandStore } from '../../platform/command-handler.ts';
import { readCategory, readStream, type StoredEvent } from '../../platform/event-store.ts';
import { checkpointOf, type Projection } from '../../platform/projector.ts';
import type { Topics } from '../../platform/kafka.ts';
import type { Logger } from '../../platform/logger.ts';
import type { AnyDomainEvent } from '../../domain/events.ts';
import { tenantDecider, tenantStreamId } from '../../domain/tenant/index.ts';
import { dropTenantDatabase, provisionTenantDatabase } from './provision.ts';

const SCOPE = 'provisioner';
const ACTOR = 'system:provisioner';
const RETRY_DELAYS_MS = [250, 500, 1000, 2000, 4000];
const BATCH_SIZE = 20;
// Session-level, so it takes no transaction id (see catchUp).
const LOCK = 'ledgerline.provisioner';

/**
 * Provisioning is event-driven: TenantCreated → database + migrations → TenantProvisioned
 * (or TenantProvisioningFailed, retried with back-off); TenantDeleted → DROP DATABASE once the
 * read side no longer serves the tenant.
 */
export function provisionerProjection(options: { store: CommandStore; mainUri: string; topics: Topics; logger: Logger }): Projection {
  const { store, mainUri, logger } = options;
  const { pool } = store;

  async function record(event: StoredEvent, tenantId: string, command: unknown): Promise<void> {
    await executeCommand(store, [{ streamId: tenantStreamId(tenantId), decider: tenantDecider, command }], {
      tenantId, actor: ACTOR, correlationId: event.correlationId, causationId: event.eventId, occurredAt: new Date(),
    }, async () => undefined);
  }

  const isDeleted = async (tenantId: string) =>
    (await loadAggregate(pool, tenantStreamId(tenantId), tenantDecider)).state.status === 'deleted';

  /** Failures already recorded for the tenant: attempts keep counting across set-asides and restarts. */
  const failuresSoFar = async (tenantId: string) =>
    (await readStream(pool, tenantStreamId(tenantId))).filter((e) => e.type === 'TenantProvisioningFailed').length;

  async function provision(event: StoredEvent, tenantId: string, databaseName: string): Promise<void> {
    for (let round = 1; ; round++) {
      // A tenant deleted before it was provisioned gets no database (its TenantDeleted, later in
      // the log, drops one a crashed attempt may have left), and must not hold up the tenants after it.
      if (await isDeleted(tenantId)) {
        logger.info({ tenantId }, 'tenant deleted before it was provisioned: skipped');
        return;
      }
      try {
        await provisionTenantDatabase(mainUri, databaseName, logger);
        await record(event, tenantId, { type: 'MarkTenantProvisioned', data: { databaseName, now: new Date().toISOString() } });
        return;
      } catch (err) {
        if (await isDeleted(tenantId)) continue; // deleted meanwhile: the check above ends it
        const reason = (err as Error).message.slice(0, 500);
        const attempt = (await failuresSoFar(tenantId)) + 1;
        logger.warn({ err, tenantId, attempt }, 'provisioning failed');
        await record(event, tenantId, { type: 'MarkTenantProvisioningFailed', data: { reason, attempt, now: new Date().toISOString() } });
        const delay = RETRY_DELAYS_MS[round - 1];
        if (delay === undefined) throw err; // set aside; the projector's sweep tries again later
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  async function apply(stored: StoredEvent): Promise<void> {
    const event = { type: stored.type, data: stored.data } as AnyDomainEvent;
    if (event.type === 'TenantCreated') await provision(stored, event.data.tenantId, event.data.databaseName);
    if (event.type === 'TenantDeleted') {
      const name = await pool.maybeOneFirst(sql.unsafe`select database_name from tenants where tenant_id = ${event.data.tenantId}`);
      if (typeof name === 'string') await dropTenantDatabase(mainUri, name, logger);
    }
  }

  return {
    name: 'provisioner',
    topics: [options.topics.platform],
    scopeOf: (event) => (event.type === 'TenantCreated' || event.type === 'TenantDeleted' ? SCOPE : null),
    scopesToSweep: async () => [SCOPE],
    positions: async () => ({ [SCOPE]: await checkpointOf(pool, SCOPE) }),
    /**
     * Unlike the read-model projections, no transaction is held while a database is created,
     * migrated or retried: an open transaction on the main database holds pg_snapshot_xmin back,
     * and with it the relay's publishing of every event (platform/relay.ts). Every step is
     * idempotent, so the checkpoint advances after each step instead, and a session-level
     * advisory lock keeps two provisioners from working at once.
     */
    async catchUp(_scope, upTo) {
      return pool.connect(async (connection) => {
        const locked = await connection.oneFirst(sql.unsafe`select pg_try_advisory_lock(hashtext(${LOCK}))`);
        if (!locked) return 'paused'; // another provisioner is at work; the sweep comes back
        const advance = (position: number) => connection.query(sql.unsafe`
          update projection_checkpoints set position = ${position}, updated_at = now() where projection = ${SCOPE} and position < ${position}`);
        try {
          await connection.query(sql.unsafe`insert into projection_checkpoints (projection) values (${SCOPE}) on conflict do nothing`);
          for (;;) {
            const position = Number(await connection.oneFirst(sql.unsafe`select position from projection_checkpoints where projection = ${SCOPE}`));
            if (position >= upTo) return 'done';
            const events = await readCategory(connection, 'platform', { after: position, upTo, limit: BATCH_SIZE });
            // Stop before a deletion the read side has not seen yet; the sweep comes back for it.
            const cut = await firstUnreadyDeletion(events);
            for (const event of cut === -1 ? events : events.slice(0, cut)) {
              if (event.type === 'TenantCreated' || event.type === 'TenantDeleted') {
                await apply(event);
                await advance(event.globalPosition);
              }
            }
            if (cut !== -1) {
              const before = events[cut - 1];
              if (before) await advance(before.globalPosition);
              return 'paused';
            }
            const last = events.at(-1);
            if (last) await advance(last.globalPosition);
            if (events.length < BATCH_SIZE) return 'done';
          }
        } finally {
          await connection.query(sql.unsafe`select pg_advisory_unlock(hashtext(${LOCK}))`);
        }
      });
    },
  };

  async function firstUnreadyDeletion(events: StoredEvent[]): Promise<number> {
    for (const [index, event] of events.entries()) {
      if (event.type !== 'TenantDeleted') continue;
      const status = await pool.maybeOneFirst(sql.unsafe`select status from tenants where tenant_id = ${event.tenantId}`);
      if (status !== 'deleted') return index;
    }
    return -1;
  }
}
