// Who may call what: one row per route of the command and query APIs. test/access-matrix.e2e.test.ts
// reads the routes from the APIs themselves and fails on any route that has no row here, so a new
// route cannot ship without its access rule. `deny` cells are sent and must answer 401/403/404 and
// change nothing; `allow` cells of reads are sent and must answer 2xx; `allow` cells of writes are
// not sent (they would change the state the deny cells are compared against).
//
// Roles: admin, user and viewer of tenant A; `outsider` is the admin of another tenant B;
// `anonymous` sends no token. Path parameters: tenantId = A, documentId = a document of A that
// the admin uploaded (so a `user` is not its owner), userId = A's viewer.

export type Role = 'admin' | 'user' | 'viewer' | 'outsider' | 'anonymous';
export type Cell = 'allow' | 'deny';
export type Body = { json: unknown } | { multipart: true };
export type Expectation = { access: Record<Role, Cell>; body?: Body };

const everyone: Record<Role, Cell> = { admin: 'allow', user: 'allow', viewer: 'allow', outsider: 'allow', anonymous: 'allow' };
const signedIn: Record<Role, Cell> = { ...everyone, anonymous: 'deny' };
const members: Record<Role, Cell> = { ...signedIn, outsider: 'deny' };
const writers: Record<Role, Cell> = { ...members, viewer: 'deny' };
const tenantAdmin: Record<Role, Cell> = { ...members, user: 'deny', viewer: 'deny' };
/** A document of A uploaded by A's admin: its owner and admins may change it. */
const documentOwner = tenantAdmin;

/** Key: `<api> <METHOD> <url as registered>`, api being `command` or `query`. */
export const EXPECTATIONS: Record<string, Expectation> = {
  // Operations and documentation: public on both APIs.
  'command GET /health': { access: everyone },
  'command GET /ready': { access: everyone },
  'command GET /metrics': { access: everyone },
  'query GET /health': { access: everyone },
  'query GET /ready': { access: everyone },
  'query GET /metrics': { access: everyone },

  // Identity.
  'command POST /api/auth/register': {
    access: everyone,
    body: { json: { email: 'matrix-new@example.com', password: 'correct horse battery staple', displayName: 'New' } },
  },
  'command POST /api/auth/login': { access: everyone, body: { json: { email: 'nobody@example.com', password: 'correct horse battery staple' } } },
  'command POST /api/auth/refresh': { access: everyone, body: { json: { refresh_token: 'not-a-token' } } },
  'command POST /api/auth/logout': { access: signedIn },
  'command POST /api/auth/password': {
    access: signedIn,
    body: { json: { currentPassword: 'correct horse battery staple', newPassword: 'another horse battery staple' } },
  },
  'query GET /api/users/me': { access: signedIn },
  'command POST /api/users/me/erase': { access: signedIn, body: { json: { password: 'correct horse battery staple' } } },

  // Tenants and members.
  'command POST /api/tenants': { access: signedIn, body: { json: { name: 'Matrix', slug: 'matrix-new' } } },
  'query GET /api/tenants': { access: signedIn },
  'query GET /api/tenants/:tenantId': { access: members },
  'command PUT /api/tenants/:tenantId': { access: tenantAdmin, body: { json: { name: 'Renamed by someone' } } },
  'command DELETE /api/tenants/:tenantId': { access: tenantAdmin },
  'command POST /api/tenants/:tenantId/users': { access: tenantAdmin, body: { json: { email: 'matrix-outsider@example.com', role: 'admin' } } },
  'query GET /api/tenants/:tenantId/users': { access: members },
  'command PUT /api/tenants/:tenantId/users/:userId': { access: tenantAdmin, body: { json: { role: 'admin' } } },
  'command DELETE /api/tenants/:tenantId/users/:userId': { access: tenantAdmin },
  // Erasing what a member left in the tenant: its admins only; another tenant's admin gets 404.
  'command POST /api/tenants/:tenantId/users/:userId/erase': { access: tenantAdmin },
  'query GET /api/tenants/:tenantId/audit': { access: tenantAdmin },
  'query GET /api/tenants/:tenantId/audit/export': { access: tenantAdmin },
  'query GET /api/users/me/audit': { access: signedIn },

  // Documents.
  'command POST /api/tenants/:tenantId/documents': { access: writers, body: { multipart: true } },
  'query GET /api/tenants/:tenantId/documents': { access: members },
  'query GET /api/tenants/:tenantId/documents/:documentId': { access: members },
  'command PUT /api/tenants/:tenantId/documents/:documentId': { access: documentOwner, body: { json: { title: 'Changed by someone' } } },
  'command DELETE /api/tenants/:tenantId/documents/:documentId': { access: documentOwner },
  'query GET /api/tenants/:tenantId/documents/:documentId/download': { access: members },
  'query GET /api/tenants/:tenantId/documents/:documentId/download-url': { access: members },

  // Webhooks: tenant admins only. webhookId = a subscription of A to TenantDeleted (never sent).
  'command POST /api/tenants/:tenantId/webhooks': { access: tenantAdmin, body: { json: { url: 'http://127.0.0.1:9/matrix', events: ['*'] } } },
  'command PUT /api/tenants/:tenantId/webhooks/:webhookId': { access: tenantAdmin, body: { json: { description: 'changed by someone' } } },
  'command POST /api/tenants/:tenantId/webhooks/:webhookId/rotate-secret': { access: tenantAdmin },
  'command DELETE /api/tenants/:tenantId/webhooks/:webhookId': { access: tenantAdmin },
  'query GET /api/tenants/:tenantId/webhooks': { access: tenantAdmin },
  'query GET /api/tenants/:tenantId/webhooks/:webhookId': { access: tenantAdmin },
  'query GET /api/tenants/:tenantId/webhooks/:webhookId/deliveries': { access: tenantAdmin },

  // Notifications: each signed-in user's own.
  'command POST /api/users/me/notifications/read': { access: signedIn, body: { json: { upToPosition: 1 } } },
  'command PUT /api/users/me/notification-preferences': { access: signedIn, body: { json: { email: { 'member-added': false } } } },
  'query GET /api/users/me/notifications': { access: signedIn },
  // An invitation is answered by the holder of the invited address only (anybody else: 404).
  'query GET /api/users/me/invitations': { access: signedIn },
  'command POST /api/users/me/invitations/:invitationId/accept': { access: signedIn },
  'command POST /api/users/me/invitations/:invitationId/decline': { access: signedIn },
  'query GET /api/users/me/notification-preferences': { access: signedIn },
};

/** Routes the matrix does not judge: the OpenAPI documents and their UI (public, read-only, static). */
export const UNJUDGED = [/^(command|query) GET \/api\/docs/, /^(command|query) GET \*$/];
