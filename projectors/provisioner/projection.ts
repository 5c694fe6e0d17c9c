import { Type } from 'typebox';
import type { S3Clients } from '../../core/adapters/s3.ts';
import { deletePrefix, tenantPrefix } from '../../core/adapters/object-store.ts';
import { rowSchema, sql } from '../../core/adapters/db.ts';
import { decision, executeCommand, loadAggregate, type EventStreams } from '../../core/eventing/command-handler.ts';
import { readStream, type StoredEvent } from '../../core/eventing/event-store.ts';
import type { Projection } from '../../core/eventing/projector.ts';
import type { Topics } from '../../core/adapters/kafka.ts';
import type { Logger } from '../../core/adapters/logger.ts';
import type { AnyDomainEvent } from '../../domain/events.ts';
import { tenantDecider, tenantStreamId, type TenantCommand } from '../../domain/tenant/index.ts';
import { dropTenantDatabase, provisionTenantDatabase } from './provision.ts';
import { tenantMigrations } from '../../core/adapters/migrate.ts';
import { tenantScopesLag } from '../../core/eventing/projection-lag.ts';
import { MAIN_SERVER, singleServer, type TenantServers } from '../../core/adapters/tenant-servers.ts';

const SCOPE = 'provisioner';
const ACTOR = 'system:provisioner';
// Session-level, so it takes no transaction id (see catchUp).
const LOCK = 'ledgerline.provisioner';
type Placement = { server: string };

/**
 * Where the tenant's database is: its stream's latest TenantPlaced (emitted with TenantCreated,
 * and again by a move), `main` for tenants older than placement. Creation on a replay after a
 * move finds the database already there; deletion drops it where it is now.
 */
function placementOf(stream: StoredEvent[]): Placement {
  for (const stored of [...stream].reverse()) {
    const event = { type: stored.type, data: stored.data } as AnyDomainEvent;
    if (event.type === 'TenantPlaced') return { server: event.data.server };
  }
  return { server: MAIN_SERVER };
}

const PositionRow = rowSchema(Type.Object({ tenant_id: Type.String(), position: Type.Number() }));

/**
 * Provisioning is event-driven: TenantCreated → database + migrations → TenantProvisioned
 * (or TenantProvisioningFailed, retried with back-off); TenantDeleted → DROP DATABASE once the
 * read side no longer serves the tenant, then delete its objects in S3.
 */
export function provisionerProjection(options: {
  store: EventStreams;
  mainUri: string;
  servers?: TenantServers;
  topics: Topics;
  logger: Logger;
  s3: S3Clients;
  tenantMigrations?: string;
}): Projection {
  const { store, logger, s3 } = options;
  const servers = options.servers ?? singleServer(options.mainUri);
  const { pool } = store;

  async function record(event: StoredEvent, tenantId: string, command: TenantCommand): Promise<void> {
    await executeCommand(
      store,
      [decision(tenantDecider, tenantStreamId(tenantId), command)],
      {
        tenantId,
        actor: ACTOR,
        correlationId: event.correlationId,
        causationId: event.eventId,
        occurredAt: new Date(),
      },
      { respond: () => undefined },
    );
  }

  const isDeleted = async (tenantId: string) => (await loadAggregate(pool, tenantStreamId(tenantId), tenantDecider)).state.status === 'deleted';

  /** Failures already recorded for the tenant: attempts keep counting across set-asides and restarts. */
  const failuresSoFar = async (tenantId: string) =>
    (await readStream(pool, tenantStreamId(tenantId))).filter((e) => e.type === 'TenantProvisioningFailed').length;

  /** One attempt; a failure is recorded and thrown, and the projector retries it with back-off. */
  async function provision(event: StoredEvent, tenantId: string, databaseName: string, placement: Placement): Promise<void> {
    // A tenant deleted before it was provisioned gets no database (its TenantDeleted, later in
    // the log, drops one a crashed attempt may have left).
    if (await isDeleted(tenantId)) {
      logger.info({ tenantId }, 'tenant deleted before it was provisioned: skipped');
      return;
    }
    try {
      await provisionTenantDatabase(servers.serverUri(placement.server), databaseName, logger, tenantMigrations(options.tenantMigrations));
      await record(event, tenantId, { type: 'MarkTenantProvisioned', data: { databaseName, now: new Date().toISOString() } });
    } catch (err) {
      if (await isDeleted(tenantId)) return; // deleted meanwhile: nothing to provision
      const reason = (err as Error).message.slice(0, 500);
      const attempt = (await failuresSoFar(tenantId)) + 1;
      logger.warn({ err, tenantId, attempt }, 'provisioning failed; retried with back-off');
      await record(event, tenantId, { type: 'MarkTenantProvisioningFailed', data: { reason, attempt, now: new Date().toISOString() } });
      throw err;
    }
  }

  async function apply(stored: StoredEvent, placement: Placement): Promise<void> {
    const event = { type: stored.type, data: stored.data } as AnyDomainEvent;
    if (event.type === 'TenantCreated') await provision(stored, event.data.tenantId, event.data.databaseName, placement);
    if (event.type === 'TenantDeleted') {
      const name = await pool.maybeOneFirst(sql.unsafe`select database_name from tenants where tenant_id = ${event.data.tenantId}`);
      if (typeof name === 'string') {
        await dropTenantDatabase(servers.serverUri(placement.server), name, logger);
        // Its objects go too: nothing can reach them any more, and the tenant asked to be deleted.
        // (Pre-signed URLs issued earlier stop working with the objects.)
        const deleted = await deletePrefix(s3, tenantPrefix(s3, name));
        logger.info({ databaseName: name, objects: deleted }, 'tenant objects deleted');
      }
    }
  }

  return {
    name: 'provisioner',
    topics: [options.topics.platform],
    // One scope per tenant: a tenant whose provisioning keeps failing is set aside on its own
    // and never holds up the tenants created after it.
    scopeOf: (event) => (event.type === 'TenantCreated' || event.type === 'TenantDeleted' ? event.tenantId : null),
    scopesToSweep: async () =>
      (
        await pool.anyFirst(sql.unsafe`
      select distinct e.tenant_id from events e
      where e.type in ('TenantCreated', 'TenantDeleted') and e.global_position > coalesce(
        (select c.position from projection_checkpoints c where c.projection = ${`${SCOPE}:`} || e.tenant_id::text), 0)`)
      ).map(String),
    positions: async () =>
      Object.fromEntries(
        (
          await pool.any(sql.type(PositionRow)`
      select substr(projection, ${SCOPE.length + 2}) as tenant_id, position from projection_checkpoints where projection like ${`${SCOPE}:%`}`)
        ).map((row) => [row.tenant_id, row.position]),
      ),
    lag: async () => {
      const tenants = (await pool.anyFirst(sql.unsafe`select distinct tenant_id from events where type = 'TenantCreated'`)).map(String);
      const positions: Record<string, number> = Object.fromEntries(tenants.map((t) => [t, 0]));
      for (const row of await pool.any(sql.type(PositionRow)`
        select substr(projection, ${SCOPE.length + 2}) as tenant_id, position from projection_checkpoints where projection like ${`${SCOPE}:%`}`))
        positions[row.tenant_id] = row.position;
      return tenantScopesLag(pool, positions, sql.fragment`e.type in ('TenantCreated', 'TenantDeleted')`);
    },
    /**
     * Unlike the read-model projections, no transaction is held while a database is created,
     * migrated or retried: every step is idempotent, so the tenant's checkpoint advances after
     * each step instead, and a session-level advisory lock per tenant keeps two provisioners
     * from working on the same tenant at once.
     */
    async catchUp(tenantId, upTo) {
      const key = `${SCOPE}:${tenantId}`;
      return pool.connect(async (connection) => {
        const locked = await connection.oneFirst(sql.unsafe`select pg_try_advisory_lock(hashtext(${`${LOCK}:${tenantId}`}))`);
        if (!locked) return 'paused'; // another provisioner is at work on it; the sweep comes back
        try {
          await connection.query(sql.unsafe`insert into projection_checkpoints (projection) values (${key}) on conflict do nothing`);
          const position = Number(await connection.oneFirst(sql.unsafe`select position from projection_checkpoints where projection = ${key}`));
          const stream = await readStream(connection, tenantStreamId(tenantId));
          const placement = placementOf(stream);
          const lifecycle = stream.filter(
            (e) => (e.type === 'TenantCreated' || e.type === 'TenantDeleted') && e.globalPosition > position && e.globalPosition <= upTo,
          );
          for (const event of lifecycle) {
            // A deletion waits until the read side no longer serves the tenant; the sweep comes back.
            if (event.type === 'TenantDeleted' && !(await readSideLetGo(tenantId))) return 'paused';
            await apply(event, placement);
            await connection.query(sql.unsafe`
              update projection_checkpoints set position = ${event.globalPosition}, updated_at = now() where projection = ${key} and position < ${event.globalPosition}`);
          }
          return 'done';
        } finally {
          await connection.query(sql.unsafe`select pg_advisory_unlock(hashtext(${`${LOCK}:${tenantId}`}))`);
        }
      });
    },
  };

  async function readSideLetGo(tenantId: string): Promise<boolean> {
    return (await pool.maybeOneFirst(sql.unsafe`select status from tenants where tenant_id = ${tenantId}`)) === 'deleted';
  }
}
