// The mailer killed (SIGKILL, as a power cut) around an SMTP send, with the real Mailpit:
// - after the server took the email but before the mailer recorded it: the next mailer finds the
//   row in doubt and sends it again with the same Message-ID; the mailbox holds it once;
// - after it claimed the row but before sending: the next mailer sends it; it arrives once.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { createTestContext, eventually } from './support/harness.ts';
import { spawnFixture } from './support/backbone-support.ts';
import { mailTo, readMail, waitForMail } from './support/mailpit.ts';
import { sql } from '../core/adapters/db.ts';
import { emailMessageId } from '../projectors/notifications/projection.ts';
import { renderEmail } from '../projectors/notifications/templates.ts';

const ctx = await createTestContext(t);
const env = { ...ctx.env, MAILER_POLL_MS: '100', MAILER_LEASE_MS: '1500', LOG_LEVEL: 'info' };

async function queueEmail(recipient: string): Promise<string> {
  const id = randomUUID();
  const email = renderEmail(
    {
      kind: 'document-uploaded',
      tenantId: randomUUID(),
      tenantName: 'Acme',
      documentId: randomUUID(),
      title: `Report ${id}`,
      filename: 'r.pdf',
      by: 'Ada',
    },
    'Bob',
  );
  await ctx.pool.query(sql.unsafe`
    insert into email_outbox (notification_id, recipient, subject, text_body, html_body, message_id)
    values (${id}, ${recipient}, ${email.subject}, ${email.text}, ${email.html}, ${emailMessageId(id)})`);
  return id;
}

async function outboxRow(id: string): Promise<{ status: string; attempts: number }> {
  return ctx.pool.one(sql.unsafe`select status, attempts from email_outbox where notification_id = ${id}`) as Promise<{ status: string; attempts: number }>;
}

t.test('killed between the SMTP send and recording it: resent once, with the same Message-ID, held once', async (t) => {
  const recipient = `crash-after-${ctx.id}@example.com`;
  const id = await queueEmail(recipient);

  const crashed = spawnFixture(t, 'mailer-process.ts', { ...env, LEDGERLINE_FAILPOINTS: 'mailer-after-send' });
  t.same(await crashed.exited, { code: null, signal: 'SIGKILL' }, 'the mailer died at its failpoint', { output: crashed.output() });
  t.same(await outboxRow(id), { status: 'sending', attempts: 1 }, 'the send was never recorded');
  const [first] = await waitForMail(recipient);
  t.equal(first?.MessageID, `${id}@notifications.ledgerline`, 'yet the SMTP server already has the email');

  const restarted = spawnFixture(t, 'mailer-process.ts', env);
  await eventually(async () => (await outboxRow(id)).status === 'sent' || undefined, { timeoutMs: 30_000 });
  t.same(await outboxRow(id), { status: 'sent', attempts: 2 }, 'the restarted mailer sent the in-doubt email again (at least once)');
  t.match(restarted.output(), /resending an email whose previous attempt ended unrecorded/, 'and said so');
  await restarted.stop();
  const held = await mailTo(recipient);
  t.equal(held.length, 1, 'the mailbox holds one copy: both transfers carried one Message-ID');
  t.equal(held[0]?.MessageID, `${id}@notifications.ledgerline`);
});

t.test('killed after claiming but before sending: the next mailer sends it, once', async (t) => {
  const recipient = `crash-before-${ctx.id}@example.com`;
  const id = await queueEmail(recipient);

  const crashed = spawnFixture(t, 'mailer-process.ts', { ...env, LEDGERLINE_FAILPOINTS: 'mailer-before-send' });
  t.same(await crashed.exited, { code: null, signal: 'SIGKILL' }, 'the mailer died at its failpoint', { output: crashed.output() });
  t.same(await outboxRow(id), { status: 'sending', attempts: 1 }, 'the row was claimed');
  t.equal((await mailTo(recipient)).length, 0, 'nothing was sent');

  const restarted = spawnFixture(t, 'mailer-process.ts', env);
  const [mail] = await waitForMail(recipient);
  t.ok(mail, 'the email arrived after the restart');
  t.match(mail?.Subject ?? '', /Ada uploaded "Report /);
  await eventually(async () => (await outboxRow(id)).status === 'sent' || undefined);
  await restarted.stop();
  t.equal((await mailTo(recipient)).length, 1, 'exactly once');
});

t.test('a clean stop (SIGTERM) records what it sent: nothing is sent twice', async (t) => {
  const recipients = Array.from({ length: 5 }, (_, i) => `clean-${i}-${ctx.id}@example.com`);
  const ids: string[] = [];
  for (const recipient of recipients) ids.push(await queueEmail(recipient));
  const mailer = spawnFixture(t, 'mailer-process.ts', env);
  await waitForMail(recipients[0]!);
  await mailer.stop();
  const again = spawnFixture(t, 'mailer-process.ts', env);
  await eventually(
    async () => {
      const rows = await ctx.pool.anyFirst(sql.unsafe`select status from email_outbox where notification_id = any(${sql.array(ids, 'uuid')})`);
      return rows.every((s) => s === 'sent') || undefined;
    },
    { timeoutMs: 30_000 },
  );
  await again.stop();
  t.equal(
    Number(
      await ctx.pool.oneFirst(sql.unsafe`
    select count(*) from email_outbox where notification_id = any(${sql.array(ids, 'uuid')}) and attempts > 1`),
    ),
    0,
    'no email needed a second attempt',
  );
  t.notMatch(again.output(), /resending/, 'and none was in doubt');
  for (const recipient of recipients) t.equal((await mailTo(recipient)).length, 1, `${recipient} got one email`);
  const mail = await readMail((await mailTo(recipients[4]!))[0]!.ID);
  t.match(mail.Text, /Hello Bob,/, 'plain text part');
  t.match(mail.HTML, /<strong>Ada uploaded &quot;Report /, 'HTML part, escaped');
});
