import { randomBytes } from 'node:crypto';
import { sql, type Queryable } from './db.ts';

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * Webhook signing secrets live in a write-side table (like password hashes), never in events:
 * the command API writes them in the transaction of the command's events, the delivery worker
 * reads the ones still valid.
 */
export function createWebhookSecretQueries(db: Queryable) {
  return {
    /** Stores a new version; older versions stop signing at `previousValidUntil` (a rotation's overlap). */
    async store(webhookId: string, version: number, secret: string, previousValidUntil?: string): Promise<void> {
      await db.query(sql.unsafe`
        insert into webhook_secrets (webhook_id, version, secret) values (${webhookId}, ${version}, ${secret})
        on conflict (webhook_id, version) do update set secret = excluded.secret`);
      if (previousValidUntil !== undefined) {
        await db.query(sql.unsafe`
          update webhook_secrets set expires_at = least(coalesce(expires_at, ${previousValidUntil}), ${previousValidUntil})
          where webhook_id = ${webhookId} and version < ${version}`);
      }
    },
    /** The secrets that sign now, newest first (two during a rotation's overlap). */
    async signing(webhookId: string): Promise<string[]> {
      const secrets = await db.anyFirst(sql.unsafe`
        select secret from webhook_secrets where webhook_id = ${webhookId} and (expires_at is null or expires_at > now())
        order by version desc`);
      return secrets.map(String);
    },
    async forget(webhookId: string): Promise<void> {
      await db.query(sql.unsafe`delete from webhook_secrets where webhook_id = ${webhookId}`);
    },
  };
}
