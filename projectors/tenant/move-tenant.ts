import { randomUUID } from 'node:crypto';
import { sql, type DatabasePool } from '../../core/adapters/db.ts';
import { applyFromCheckpoint, checkpointOf, lockCheckpoint } from '../../core/eventing/projector.ts';
import { decision, executeCommand, type EventStreams } from '../../core/eventing/command-handler.ts';
import { rebuildOne } from '../../core/eventing/rebuild-runner.ts';
import { tenantMigrations } from '../../core/adapters/migrate.ts';
import type { EventLog, Topics } from '../../core/adapters/kafka.ts';
import type { Logger } from '../../core/adapters/logger.ts';
import type { Progress } from '../../core/adapters/operator-progress.ts';
import type { TenantPools } from '../../core/adapters/tenant-pools.ts';
import type { TenantServers } from '../../core/adapters/tenant-servers.ts';
import { tenantDecider, tenantStreamId } from '../../domain/tenant/index.ts';
import { dropTenantDatabase, provisionTenantDatabase } from '../provisioner/provision.ts';
import { resolveTenant, tenantRebuild } from '../shared/rebuild-specs.ts';
import { tenantDataChanged, tenantEventSteps, TENANT_CHECKPOINT } from './projection.ts';

export const MOVE_STEPS = ['provision', 'rebuild', 'switch', 'drain', 'drop'] as const;

export type MoveOutcome = {
  tenantId: string;
  slug: string;
  from: string;
  to: string;
  database: string;
  /** The old database's checkpoint, frozen while the placement switched, and the new one's at the switch. */
  frozenAt: number;
  switchedAt: number;
  rebuiltEvents: number;
  ms: number;
  /** How long the old database's checkpoint was held: the tenant's projection waited that long. */
  switchMs: number;
};

export class MoveError extends Error {}

/**
 * Moves a tenant's database to another server while it is in use. The new database is rebuilt
 * from the log (the rebuild runner), then the switch happens inside a transaction on the old
 * database that holds its checkpoint row `for update`: the tenant projector cannot advance the
 * old database meanwhile, the new one catches up to at least that checkpoint, TenantPlaced is
 * appended, and the lock is held until the main projector has switched the placement map. A read
 * before the switch sees at most the frozen state, a read after it sees the new database at or
 * past it: no read goes back in time. After `drainMs` (reads in flight on the old database, the
 * query API's cached placement, invalidated by the tenants trigger) the old database is dropped.
 */
export async function moveTenant(options: {
  pool: DatabasePool;
  store: EventStreams;
  eventLog: EventLog;
  topics: Topics;
  servers: TenantServers;
  tenantPools: TenantPools;
  logger: Logger;
  tenant: string;
  to: string;
  groupId: string;
  progress?: Progress;
  drainMs?: number;
  switchTimeoutMs?: number;
  migrationsDir?: string;
}): Promise<MoveOutcome | null> {
  const { pool, servers, tenantPools, logger, to } = options;
  const started = Date.now();
  const step = (name: (typeof MOVE_STEPS)[number]) => options.progress?.update(MOVE_STEPS.indexOf(name), { step: name });
  if (!servers.has(to)) throw new MoveError(`no tenant server named ${JSON.stringify(to)} (configured: ${servers.names().join(', ')})`);
  const tenant = await resolveTenant(pool, options.tenant);
  if (!tenant) throw new MoveError(`no active tenant ${JSON.stringify(options.tenant)}`);
  if (!servers.has(tenant.server)) throw new MoveError(`the tenant is on server ${tenant.server}, which is not configured here`);
  if (tenant.server === to) return null;
  const { tenantId, databaseName: database, server: from } = tenant;

  step('provision');
  // A database of that name on the target is a crashed earlier move's (the placement says the
  // tenant is not there): start it afresh.
  await tenantPools.close(database, to);
  await dropTenantDatabase(servers.serverUri(to), database, logger);
  await provisionTenantDatabase(servers.serverUri(to), database, logger, tenantMigrations(options.migrationsDir));
  const target = await tenantPools.get(database, to);
  const source = await tenantPools.get(database, from);

  step('rebuild');
  const rebuilt = await rebuildOne({
    eventLog: options.eventLog,
    db: target,
    spec: tenantRebuild(pool, options.topics, tenantId),
    logger,
    groupId: options.groupId,
  });

  step('switch');
  const catchUp = (upTo: number) =>
    applyFromCheckpoint({
      db: target,
      key: TENANT_CHECKPOINT,
      upTo,
      ...tenantEventSteps(pool, tenantId),
    });
  const switchStarted = Date.now();
  const { frozenAt, switchedAt } = await source.transaction(async (tx) => {
    const frozen = await lockCheckpoint(tx, TENANT_CHECKPOINT);
    await catchUp(frozen);
    const reached = await checkpointOf(target, TENANT_CHECKPOINT);
    if (reached < frozen) throw new MoveError(`the new database reached position ${reached}, short of the old one's ${frozen}: nothing switched`);
    await executeCommand(
      options.store,
      [
        decision(tenantDecider, tenantStreamId(tenantId), {
          type: 'PlaceTenant',
          data: { server: to, database, servers: servers.names() },
        }),
      ],
      { tenantId, actor: 'system:tenants-cli', correlationId: randomUUID(), causationId: null, occurredAt: new Date() },
      { respond: () => undefined },
    );
    await waitForPlacement(pool, tenantId, to, options.switchTimeoutMs ?? 30_000);
    // The query APIs' cached pages were read from the old database: dropped now, and again once
    // the new one has the events the live projector could not apply to the old one meanwhile.
    await tenantDataChanged(pool, tenantId);
    await catchUp(Number(await pool.oneFirst(sql.unsafe`select coalesce(max(global_position), 0) from events`)));
    await tenantDataChanged(pool, tenantId);
    return { frozenAt: frozen, switchedAt: reached };
  });
  const switchMs = Date.now() - switchStarted;
  logger.info({ tenantId, from, to, frozenAt, switchedAt, switchMs }, 'tenant placement switched');

  step('drain');
  await new Promise((resolve) => setTimeout(resolve, options.drainMs ?? 5_000));
  step('drop');
  await tenantPools.close(database, from);
  await dropTenantDatabase(servers.serverUri(from), database, logger);
  options.progress?.update(MOVE_STEPS.length, { step: 'done' });
  return { tenantId, slug: tenant.slug, from, to, database, frozenAt, switchedAt, rebuiltEvents: rebuilt.applied, ms: Date.now() - started, switchMs };
}

/** The main projector has applied TenantPlaced: readers and the tenant projector now resolve the new server. */
async function waitForPlacement(pool: DatabasePool, tenantId: string, server: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await pool.maybeOneFirst(sql.unsafe`select server from tenants where tenant_id = ${tenantId}`)) !== server) {
    if (Date.now() > deadline) {
      throw new MoveError(
        `TenantPlaced was appended but the main projector did not apply it within ${timeoutMs} ms: ` +
          'the switch happens when it does; run the move again afterwards to drop the old database',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
