import { Type } from 'typebox';
import { rowSchema, sql, type Queryable } from '../../core/adapters/db.ts';

const StoredFileRow = rowSchema(Type.Object({ md5: Type.String(), size: Type.Number(), content_type: Type.String() }));

/**
 * The write side's lookups of stored content in the event store (never a lagging read model):
 * both are served by expression indexes on FileStored events (core/migrations/003 and 009).
 */
export function createFileQueries(db: Queryable) {
  return {
    /** The newest FileStored of this content in the tenant, or null. */
    findStoredContent(tenantId: string, sha256: string) {
      return db.maybeOne(sql.type(StoredFileRow)`
        select data->>'md5' as md5, (data->>'size')::bigint as size, data->>'contentType' as content_type from events
        where type = 'FileStored' and tenant_id = ${tenantId} and data->>'sha256' = ${sha256}
        order by global_position desc limit 1`);
    },
    /** The content-identity stream a file id was stored in (its FileStored event). */
    async fileStreamOf(fileId: string): Promise<string> {
      return String(
        await db.oneFirst(sql.unsafe`
        select stream_id from events where type = 'FileStored' and data->>'fileId' = ${fileId} order by global_position limit 1`),
      );
    },
  };
}
