import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { DatabasePool } from '../../core/adapters/db.ts';
import { ErrorResponse, httpError, type App } from '../../core/adapters/http.ts';
import { isDomainEventType } from '../../domain/events.ts';
import type { Freshness } from '../freshness.ts';
import type { MembershipQueries } from '../tenants/access.ts';
import { AuditEntryView, createAuditQueries, type AuditFilter, type AuditQueries } from './queries.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 504: ErrorResponse };
const secured = { security: [{ bearer: [] }] };
const NDJSON = 'application/x-ndjson';

const Filters = {
  actor: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'only entries by this actor (a user id, or system:...)' })),
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: 'only these event types, comma-separated' })),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'occurred at or after (ISO 8601)' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'occurred before (ISO 8601)' })),
};
const Paging = {
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor of the previous page' })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
};
const PageQuery = Type.Object({ ...Filters, ...Paging });
const RangeQuery = Type.Object(Filters);
const Page = Type.Object({ items: Type.Array(AuditEntryView), nextCursor: Type.Union([Type.String(), Type.Null()]) });
const TenantParams = Type.Object({ tenantId: Type.String({ format: 'uuid' }) });

/** The cursor is opaque to clients: the position the next page starts below. */
const encodeCursor = (before: number) => Buffer.from(JSON.stringify({ before })).toString('base64url');
function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return Number.MAX_SAFE_INTEGER;
  try {
    const { before } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { before?: unknown };
    if (Number.isSafeInteger(before) && (before as number) > 0) return before as number;
  } catch {
    /* answered below */
  }
  throw httpError(400, 'INVALID_CURSOR', 'cursor must be the nextCursor of a previous page');
}

function filterOf(query: Static<typeof RangeQuery>, scope: Pick<AuditFilter, 'tenantId' | 'userId'>): AuditFilter {
  const types = query.type
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const unknown = types?.find((t) => !isDomainEventType(t));
  if (unknown !== undefined) throw httpError(400, 'UNKNOWN_EVENT_TYPE', `no event type ${JSON.stringify(unknown.slice(0, 100))} (see docs/events/)`);
  if (query.from && query.to && Date.parse(query.from) > Date.parse(query.to)) throw httpError(400, 'INVALID_RANGE', 'from must not be after to');
  return {
    ...scope,
    ...(query.actor ? { actor: query.actor } : {}),
    ...(types?.length ? { types } : {}),
    ...(query.from ? { from: query.from } : {}),
    ...(query.to ? { to: query.to } : {}),
  };
}

async function page(audit: AuditQueries, filter: AuditFilter, query: Static<typeof PageQuery>) {
  const items = await audit.page(filter, decodeCursor(query.cursor), query.limit);
  const last = items.at(-1);
  return { items, nextCursor: items.length === query.limit && last ? encodeCursor(last.position) : null };
}

/** NDJSON, oldest first, streamed page by page from the read model. */
function exportRange(reply: FastifyReply, audit: AuditQueries, filter: AuditFilter, filename: string): FastifyReply {
  const lines = Readable.from(
    (async function* () {
      for await (const entry of audit.stream(filter)) yield `${JSON.stringify(entry)}\n`;
    })(),
  );
  return reply.type(NDJSON).header('content-disposition', `attachment; filename="${filename}"`).send(lines);
}

const wantsNdjson = (request: FastifyRequest) => String(request.headers.accept ?? '').includes(NDJSON);

/** The audit trail: a tenant's (admins), and each user's own. */
export async function auditRoutes(app: App, options: { pool: DatabasePool; freshness: Freshness; memberships: MembershipQueries }): Promise<void> {
  const { pool, freshness, memberships } = options;
  const audit = createAuditQueries(pool);
  app.addHook('onRequest', app.authenticate);

  async function tenantAdmin(request: FastifyRequest, tenantId: string): Promise<void> {
    const membership = await memberships.memberOf(tenantId, request.actor.userId, { fresh: request.headers['x-min-position'] !== undefined });
    if (membership.role !== 'admin') throw httpError(403, 'FORBIDDEN', 'the audit trail is for tenant admins');
    await freshness.projection(request, 'audit', tenantId);
  }

  app.get(
    '/api/tenants/:tenantId/audit',
    {
      schema: {
        tags: ['audit'],
        summary: "The tenant's audit trail, newest first (admin); Accept: application/x-ndjson exports the range instead",
        ...secured,
        params: TenantParams,
        querystring: PageQuery,
        response: { 200: Page, ...errors },
      },
    },
    async (request, reply) => {
      const { tenantId } = request.params;
      await tenantAdmin(request, tenantId);
      const filter = filterOf(request.query, { tenantId });
      if (wantsNdjson(request)) return exportRange(reply, audit, filter, `audit-${tenantId}.ndjson`);
      return page(audit, filter, request.query);
    },
  );

  app.get(
    '/api/tenants/:tenantId/audit/export',
    {
      schema: {
        tags: ['audit'],
        summary: "The tenant's audit trail as NDJSON, oldest first, one entry per line (admin)",
        ...secured,
        params: TenantParams,
        querystring: RangeQuery,
        produces: [NDJSON],
        response: { 200: Type.String({ description: 'NDJSON: one audit entry per line' }), ...errors },
      },
    },
    async (request, reply) => {
      const { tenantId } = request.params;
      await tenantAdmin(request, tenantId);
      return exportRange(reply, audit, filterOf(request.query, { tenantId }), `audit-${tenantId}.ndjson`);
    },
  );

  app.get(
    '/api/users/me/audit',
    {
      schema: {
        tags: ['audit'],
        summary: "The caller's own audit trail (logins, failed logins, logouts, password and membership changes), newest first",
        ...secured,
        querystring: PageQuery,
        response: { 200: Page, ...errors },
      },
    },
    async (request, reply) => {
      const { userId } = request.actor;
      await freshness.userAudit(request, userId);
      const filter = filterOf(request.query, { userId });
      if (wantsNdjson(request)) return exportRange(reply, audit, filter, 'audit-me.ndjson');
      return page(audit, filter, request.query);
    },
  );
}
