// Email templates: every kind renders text and HTML, no user-provided HTML survives into the HTML
// part, and user text cannot break the subject line; notification ids are stable per recipient.
import t from 'tap';
import { renderEmail, type NotificationData } from '../projectors/notifications/templates.ts';
import { emailMessageId, notificationId } from '../projectors/notifications/projection.ts';

const evil = `<img src=x onerror="alert('x')">&amp;\r\nBcc: victim@example.com`;
const base = { tenantId: '3fa85f64-5717-4562-b3fc-2c963f66afa6', tenantName: evil };
const all: NotificationData[] = [
  { ...base, kind: 'member-added', role: 'user', by: evil },
  { ...base, kind: 'member-role-changed', role: 'admin', previousRole: 'user', by: evil },
  { ...base, kind: 'member-removed', by: evil },
  { ...base, kind: 'document-uploaded', documentId: 'd0c00000-0000-4000-8000-000000000001', title: evil, filename: evil, by: evil },
  { ...base, kind: 'webhook-disabled', webhookId: 'a1b2c3d4-0000-4000-8000-000000000001', reason: 'failures', failedDeliveries: 10, by: null },
  { ...base, kind: 'webhook-disabled', webhookId: 'a1b2c3d4-0000-4000-8000-000000000001', reason: 'admin', failedDeliveries: null, by: evil },
];

t.test('every kind renders; user text is escaped in HTML and kept verbatim in text', async (t) => {
  for (const data of all) {
    const email = renderEmail(data, evil);
    t.notMatch(email.html, '<img', `${data.kind}: no user tag in the HTML`);
    t.notMatch(email.html, `onerror="`, `${data.kind}: no user attribute in the HTML`);
    t.match(email.html, '&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;amp;', `${data.kind}: escaped`);
    t.match(email.text, `Hello ${evil},`, `${data.kind}: the plain text says it as typed`);
    t.notMatch(email.subject, /[\r\n]/, `${data.kind}: the subject stays one line`);
    t.ok(email.subject.startsWith('[Ledgerline] '), `${data.kind}: subject ${email.subject}`);
  }
});

t.test('notification ids: stable per (event, recipient), distinct otherwise, UUID-shaped', async (t) => {
  const event = '6f1c2a9e-1b2c-4d3e-8f40-5a6b7c8d9e01';
  const [ada, bob] = ['0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d', '9b2e4c1a-0d3f-4e5a-8b6c-7d8e9f0a1b2c'];
  t.equal(notificationId(event, ada), notificationId(event, ada));
  t.not(notificationId(event, ada), notificationId(event, bob));
  t.match(notificationId(event, ada), /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.equal(emailMessageId(notificationId(event, ada)), `<${notificationId(event, ada)}@notifications.ledgerline>`);
});
