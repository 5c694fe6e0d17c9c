import type { NotificationKind } from '../../domain/notification-inbox/index.ts';

/** What a notification says, by kind; every string in it may come from a user (names, titles). */
export type NotificationData =
  | { kind: 'member-added'; tenantId: string; tenantName: string; role: string; by: string }
  | { kind: 'member-role-changed'; tenantId: string; tenantName: string; role: string; previousRole: string; by: string }
  | { kind: 'member-removed'; tenantId: string; tenantName: string; by: string }
  | { kind: 'document-uploaded'; tenantId: string; tenantName: string; documentId: string; title: string; filename: string; by: string }
  | { kind: 'webhook-disabled'; tenantId: string; tenantName: string; webhookId: string; reason: string; failedDeliveries: number | null; by: string | null };

/** The one-line plain-text message of a notification (in-app list and email subject). */
export function notificationMessage(data: NotificationData): string {
  switch (data.kind) {
    case 'member-added':
      return `${data.by} added you to ${quote(data.tenantName)} as ${data.role}`;
    case 'member-role-changed':
      return `${data.by} changed your role in ${quote(data.tenantName)} from ${data.previousRole} to ${data.role}`;
    case 'member-removed':
      return `${data.by} removed you from ${quote(data.tenantName)}`;
    case 'document-uploaded':
      return `${data.by} uploaded ${quote(data.title)} to ${quote(data.tenantName)}`;
    case 'webhook-disabled':
      if (data.reason === 'admin') return `${data.by ?? 'An admin'} disabled a webhook of ${quote(data.tenantName)}`;
      if (data.reason === 'failures') {
        return `A webhook of ${quote(data.tenantName)} was disabled after ${data.failedDeliveries ?? 'repeated'} failed deliveries`;
      }
      return `A webhook of ${quote(data.tenantName)} was disabled (${data.reason})`;
    default: {
      const _exhaustive: never = data;
      return _exhaustive;
    }
  }
}

/** Details below the message: label/value pairs, rendered as lines (text) or a table (HTML). */
function details(data: NotificationData): [string, string][] {
  const tenant: [string, string] = ['Tenant', data.tenantName];
  switch (data.kind) {
    case 'member-added':
      return [tenant, ['Role', data.role]];
    case 'member-role-changed':
      return [tenant, ['Role', `${data.previousRole} → ${data.role}`]];
    case 'member-removed':
      return [tenant];
    case 'document-uploaded':
      return [tenant, ['Title', data.title], ['File', data.filename], ['Document id', data.documentId]];
    case 'webhook-disabled': {
      const reason =
        data.reason === 'failures'
          ? `${data.failedDeliveries ?? 'repeated'} failed deliveries in a row`
          : data.reason === 'admin'
            ? `disabled by ${data.by ?? 'an admin'}`
            : data.reason;
      return [tenant, ['Webhook id', data.webhookId], ['Reason', reason]];
    }
    default: {
      const _exhaustive: never = data;
      return _exhaustive;
    }
  }
}

export type RenderedEmail = { subject: string; text: string; html: string };

const KIND_TITLES: Record<NotificationKind, string> = {
  'member-added': 'Added to a tenant',
  'member-role-changed': 'Role changed',
  'member-removed': 'Removed from a tenant',
  'document-uploaded': 'New document',
  'webhook-disabled': 'Webhook disabled',
};

/**
 * Plain text plus HTML. No user-provided HTML ever reaches the HTML part: every value is escaped
 * here, in one place, and the template itself has no user-controlled attribute or URL.
 */
export function renderEmail(data: NotificationData, recipientName: string): RenderedEmail {
  const message = notificationMessage(data);
  const rows = details(data);
  const footer = 'You receive this because of your Ledgerline notification settings; turn email off per kind with PUT /api/users/me/notification-preferences.';
  const text = [`Hello ${recipientName},`, '', `${message}.`, '', ...rows.map(([label, value]) => `${label}: ${value}`), '', '-- ', footer, ''].join('\n');
  const html = [
    '<!doctype html>',
    '<html><head><meta charset="utf-8"><title>',
    escapeHtml(KIND_TITLES[data.kind]),
    '</title></head>',
    '<body style="font-family: sans-serif">',
    `<p>Hello ${escapeHtml(recipientName)},</p>`,
    `<p><strong>${escapeHtml(message)}</strong>.</p>`,
    '<table>',
    ...rows.map(([label, value]) => `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`),
    '</table>',
    `<p style="color: #666; font-size: small">${escapeHtml(footer)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject: `[Ledgerline] ${oneLine(message)}`, text, html };
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

function quote(value: string): string {
  return `"${value}"`;
}

/** A subject is one header line: user text with line breaks must not fold it or add headers. */
function oneLine(value: string): string {
  return value.replace(/[\r\n\t]+/g, ' ').slice(0, 200);
}
