import { sql } from '../../platform/db.ts';
import { executeCommand, type CommandStore } from '../../platform/command-handler.ts';
import { readCategory, type StoredEvent } from '../../platform/event-store.ts';
import { applyFromCheckpoint, type Projection } from '../../platform/projector.ts';
import type { Topics } from '../../platform/kafka.ts';
import type { Logger } from '../../platform/logger.ts';
import type { AnyDomainEvent } from '../../domain/events.ts';
import { tenantDecider, tenantStreamId } from '../../domain/tenant/index.ts';
import { dropTenantDatabase, provisionTenantDatabase } from './provision.ts';

const SCOPE = 'provisioner';
const ACTOR = 'system:provisioner';
const RETRY_DELAYS_MS = [250, 500, 1000, 2000, 4000];

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

  async function provision(event: StoredEvent, tenantId: string, databaseName: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await provisionTenantDatabase(mainUri, databaseName, logger);
        await record(event, tenantId, { type: 'MarkTenantProvisioned', data: { databaseName, now: new Date().toISOString() } });
        return;
      } catch (err) {
        const reason = (err as Error).message.slice(0, 500);
        logger.warn({ err, tenantId, attempt }, 'provisioning failed');
        await record(event, tenantId, { type: 'MarkTenantProvisioningFailed', data: { reason, attempt, now: new Date().toISOString() } });
        const delay = RETRY_DELAYS_MS[attempt - 1];
        if (delay === undefined) throw err; // set aside; the projector's sweep tries again later
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  return {
    name: 'provisioner',
    topics: [options.topics.platform],
    scopeOf: (event) => (event.type === 'TenantCreated' || event.type === 'TenantDeleted' ? SCOPE : null),
    scopesToSweep: async () => [SCOPE],
    async catchUp(_scope, upTo) {
      let paused = false;
      await applyFromCheckpoint({
        db: pool, key: SCOPE, upTo, batchSize: 20,
        load: async (after, to, limit) => {
          const events = await readCategory(pool, 'platform', { after, upTo: to, limit });
          // Stop before a deletion the read side has not seen yet; the sweep comes back for it.
          const cut = await firstUnreadyDeletion(events);
          if (cut !== -1) paused = true;
          return cut === -1 ? events : events.slice(0, cut);
        },
        apply: async (_tx, stored) => {
          const event = { type: stored.type, data: stored.data } as AnyDomainEvent;
          if (event.type === 'TenantCreated') await provision(stored, event.data.tenantId, event.data.databaseName);
          if (event.type === 'TenantDeleted') {
            const name = await pool.maybeOneFirst(sql.unsafe`select database_name from tenants where tenant_id = ${event.data.tenantId}`);
            if (typeof name === 'string') await dropTenantDatabase(mainUri, name, logger);
          }
        },
      });
      return paused ? 'paused' : 'done';
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
