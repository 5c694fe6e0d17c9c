import { readCategory } from '../../core/eventing/event-store.ts';
import { BACKGROUND_GATHER_MS, singleScopeProjection, type Projection } from '../../core/eventing/projector.ts';
import { decision, executeCommand, type EventStreams } from '../../core/eventing/command-handler.ts';
import type { Topics } from '../../core/adapters/kafka.ts';
import type { S3Clients } from '../../core/adapters/s3.ts';
import { deleteObject } from '../../core/adapters/object-store.ts';
import { fileDecider } from '../../domain/file/index.ts';
import type { AnyDomainEvent } from '../../domain/events.ts';

/**
 * Deletes a file's object once FileDeletionScheduled says no document uses it any more, then
 * records FileObjectDeleted. Event-driven and retried: a failed S3 call sets the scope aside
 * and the sweep tries again; deleting twice is harmless.
 */
export function fileJanitorProjection(options: { store: EventStreams; s3: S3Clients; topics: Topics }): Projection {
  const { store, s3 } = options;
  return singleScopeProjection({
    name: 'file-janitor',
    pool: store.pool,
    topics: [options.topics.documents],
    accepts: (event) => event.type === 'FileDeletionScheduled',
    gatherMs: BACKGROUND_GATHER_MS,
    batchSize: 50,
    load: (after, upTo, limit) => readCategory(store.pool, 'documents', { after, upTo, limit }),
    apply: async (_tx, stored) => {
      const event = { type: stored.type, data: stored.data } as AnyDomainEvent;
      if (event.type !== 'FileDeletionScheduled') return;
      await deleteObject(s3, event.data.s3Key);
      await executeCommand(
        store,
        [decision(fileDecider, stored.streamId, { type: 'MarkFileObjectDeleted', data: { fileId: event.data.fileId, now: new Date().toISOString() } })],
        {
          tenantId: stored.tenantId,
          actor: 'system:file-janitor',
          correlationId: stored.correlationId,
          causationId: stored.eventId,
          occurredAt: new Date(),
        },
        { respond: () => undefined },
      );
    },
  });
}
