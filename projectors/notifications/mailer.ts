import nodemailer from 'nodemailer';
import { Type } from 'typebox';
import { rowSchema, sql, type DatabasePool } from '../../core/adapters/db.ts';
import { failpoint } from '../../core/adapters/failpoints.ts';
import type { Logger } from '../../core/adapters/logger.ts';
import type { Metrics } from '../../core/adapters/metrics.ts';

/**
 * Drains the email outbox over SMTP. Delivery to an SMTP server cannot be made exactly-once by
 * the sender alone: after the final "." of DATA the server may have taken the message while we
 * never learn it (a crash before we record it, or before its 250 reaches us), and SMTP has no way
 * to ask afterwards. So:
 * - a row is claimed ('sending', attempts + 1, a lease) before it is sent and marked 'sent' after;
 * - a 'sending' row whose lease ran out is in doubt and is sent again: at least once;
 * - every (re)send of one notification carries the same Message-ID, derived from the notification
 *   id, so it is the same message: mail stores that drop a Message-ID they already hold (and Mailpit
 *   here, started with --ignore-duplicate-ids) keep one copy. Only the in-doubt window can cause a
 *   second SMTP transfer; a clean stop (SIGTERM) finishes the send in hand and records it first.
 * - the 'sent' mark is fenced on the attempt number: a mailer whose lease was taken over cannot
 *   overwrite the newer attempt's outcome.
 */
export type Mailer = { stop: () => Promise<void> };

const OutboxRow = rowSchema(
  Type.Object({
    notification_id: Type.String(),
    recipient: Type.String(),
    subject: Type.String(),
    text_body: Type.String(),
    html_body: Type.String(),
    message_id: Type.String(),
    attempts: Type.Number(),
    previous: Type.String(),
  }),
);
type Claimed = {
  notification_id: string;
  recipient: string;
  subject: string;
  text_body: string;
  html_body: string;
  message_id: string;
  attempts: number;
  previous: string;
};

const MAX_ATTEMPTS = 20;
/** Temporary failures wait 2^attempts seconds, at most an hour. */
const retryDelayMs = (attempts: number) => Math.min(1000 * 2 ** attempts, 3_600_000);

export function startMailer(options: {
  pool: DatabasePool;
  smtpUrl: string;
  from: string;
  logger: Logger;
  metrics: Metrics;
  pollMs: number;
  leaseMs: number;
  batchSize?: number;
}): Mailer {
  const { pool, logger } = options;
  // Bounded timeouts: one send must end well within the lease (MAILER_LEASE_MS).
  const transport = nodemailer.createTransport({
    url: options.smtpUrl,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  const sent = options.metrics.counter('mailer_emails_sent_total', 'Emails the SMTP server accepted');
  const failures = options.metrics.counter('mailer_send_failures_total', 'Send attempts that failed');
  const inDoubt = options.metrics.counter('mailer_in_doubt_resends_total', 'Emails sent again because an earlier attempt ended unrecorded');
  let stopping = false;
  let wake: (() => void) | null = null;

  async function claim(): Promise<readonly Claimed[]> {
    return pool.any(sql.type(OutboxRow)`
      with due as (
        select notification_id, status as previous from email_outbox
        where (status = 'pending' and next_attempt_at <= now()) or (status = 'sending' and lease_until < now())
        order by next_attempt_at limit ${options.batchSize ?? 20}
        for update skip locked)
      update email_outbox o set status = 'sending', attempts = o.attempts + 1,
        lease_until = now() + ${options.leaseMs} * interval '1 millisecond'
      from due where o.notification_id = due.notification_id
      returning o.notification_id, o.recipient, o.subject, o.text_body, o.html_body, o.message_id, o.attempts, due.previous`);
  }

  async function deliver(row: Claimed): Promise<void> {
    if (row.previous === 'sending') {
      inDoubt.inc();
      logger.warn(
        { notificationId: row.notification_id, attempt: row.attempts },
        'resending an email whose previous attempt ended unrecorded (same Message-ID)',
      );
    }
    try {
      failpoint('mailer-before-send');
      await transport.sendMail({
        from: options.from,
        to: row.recipient,
        subject: row.subject,
        text: row.text_body,
        html: row.html_body,
        messageId: row.message_id,
        headers: { 'X-Ledgerline-Notification-Id': row.notification_id },
      });
    } catch (err) {
      failures.inc();
      const code = (err as { responseCode?: number }).responseCode;
      // A 5xx reply is the server's final word (unknown mailbox, refused content): retrying repeats it.
      const final = (code !== undefined && code >= 500) || row.attempts >= MAX_ATTEMPTS;
      logger.warn({ err, notificationId: row.notification_id, attempt: row.attempts, final }, 'email not sent');
      await pool.query(sql.unsafe`
        update email_outbox set status = ${final ? 'failed' : 'pending'}, lease_until = null, last_error = ${(err as Error).message.slice(0, 1000)},
          next_attempt_at = now() + ${retryDelayMs(row.attempts)} * interval '1 millisecond'
        where notification_id = ${row.notification_id} and attempts = ${row.attempts} and status = 'sending'`);
      return;
    }
    failpoint('mailer-after-send');
    await pool.query(sql.unsafe`
      update email_outbox set status = 'sent', sent_at = now(), lease_until = null, last_error = null
      where notification_id = ${row.notification_id} and attempts = ${row.attempts} and status = 'sending'`);
    sent.inc();
  }

  /** Claimed but never tried (stopping): back to pending, so no restart takes them for in-doubt. */
  async function release(rows: readonly Claimed[]): Promise<void> {
    for (const row of rows) {
      await pool.query(sql.unsafe`
        update email_outbox set status = 'pending', attempts = attempts - 1, lease_until = null
        where notification_id = ${row.notification_id} and attempts = ${row.attempts} and status = 'sending'`);
    }
  }

  const loop = (async () => {
    while (!stopping) {
      let claimed: readonly Claimed[] = [];
      try {
        claimed = await claim();
        for (const [index, row] of claimed.entries()) {
          if (stopping) {
            await release(claimed.slice(index));
            break;
          }
          await deliver(row);
        }
      } catch (err) {
        logger.error({ err }, 'mailer pass failed; retrying');
      }
      if (claimed.length === 0 && !stopping) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, options.pollMs);
        });
        wake = null;
      }
    }
  })();

  return {
    async stop() {
      stopping = true;
      wake?.();
      await loop;
      transport.close();
    },
  };
}
