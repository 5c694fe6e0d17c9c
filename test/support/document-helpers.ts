// Helpers for the documents tests: a running system with users and an active tenant, uploads over
// inject, S3 listings under the test's key prefix, and reads of a tenant's own database.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { ListObjectsV2Command, HeadObjectCommand } from '@aws-sdk/client-s3';
import { createTenantServers } from '../../core/adapters/tenant-servers.ts';
import { createTestContext, eventually, type TestContext } from './harness.ts';
import { startSystem, type System } from './system.ts';
import { identity, after, type Identity, type User } from './identity-helpers.ts';

type Teardown = { teardown: (fn: () => Promise<void> | void) => void };

export { after, eventually };
export const sha256 = (data: Buffer | Uint8Array) => createHash('sha256').update(data).digest('hex');
export const md5 = (data: Buffer | Uint8Array) => createHash('md5').update(data).digest('hex');
export const PDF = (text: string) => Buffer.from(`%PDF-1.4\n${text}\n%%EOF\n`);

export type DocSystem = { ctx: TestContext; system: System; id: Identity };

export async function startDocumentSystem(t: Teardown, overrides: Record<string, string> = {}): Promise<DocSystem> {
  const ctx = await createTestContext(t, overrides);
  const system = await startSystem(t, ctx);
  return { ctx, system, id: identity(system) };
}

/** An admin with an active tenant, plus members with the given roles. */
export async function tenantWith(s: DocSystem, slug: string, roles: ('admin' | 'user' | 'viewer')[] = []) {
  const admin = await s.id.registerAndLogin(`${slug}-admin@example.com`);
  const tenant = await s.id.createTenant(admin.token, slug);
  const members: User[] = [];
  let position = tenant.position;
  for (const [i, role] of roles.entries()) {
    const user = await s.id.registerAndLogin(`${slug}-${role}${i}@example.com`);
    position = (await s.id.addMember(admin.token, tenant.tenantId, user, role)).position;
    members.push(user);
  }
  // The membership must be readable before the members use the query API.
  await s.id.query('GET', `/api/tenants/${tenant.tenantId}/users`, { token: admin.token, headers: after(position) });
  return { admin, tenantId: tenant.tenantId, members, position };
}

export type UploadPart = { name: string; value: string } | { name: string; filename: string; contentType?: string; data: Buffer };

/** POST a multipart upload; `file` is shorthand for one `file` part plus optional fields. */
export async function upload(
  s: DocSystem,
  token: string,
  tenantId: string,
  options: {
    data?: Buffer;
    filename?: string;
    contentType?: string;
    fields?: Record<string, string>;
    parts?: UploadPart[];
    headers?: Record<string, string>;
  } = {},
) {
  const parts: UploadPart[] = options.parts ?? [
    ...Object.entries(options.fields ?? {}).map(([name, value]) => ({ name, value })),
    ...(options.data
      ? [{ name: 'file', filename: options.filename ?? 'file.bin', data: options.data, ...(options.contentType ? { contentType: options.contentType } : {}) }]
      : []),
  ];
  const mp = encodeMultipart(parts);
  const response = await s.system.command.inject({
    method: 'POST',
    url: `/api/tenants/${tenantId}/documents`,
    headers: { ...options.headers, authorization: `Bearer ${token}`, 'content-type': mp.contentType },
    payload: mp.body,
  });
  let body: any;
  try {
    body = JSON.parse(response.body);
  } catch {
    body = response.body;
  }
  return { status: response.statusCode, body };
}

/** Upload that must succeed (201); returns the answer body. */
export async function uploadOk(s: DocSystem, token: string, tenantId: string, options: Parameters<typeof upload>[3] = {}) {
  const answer = await upload(s, token, tenantId, options);
  if (answer.status !== 201) throw new Error(`upload: expected 201, got ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body as {
    id: string;
    fileId: string;
    position: number;
    version: number;
    md5: string;
    sha256: string;
    size: number;
    contentType: string;
    deduplicated: boolean;
  };
}

/** Every object key under the test's S3 prefix (optionally a sub-prefix after it). */
export async function listKeys(ctx: TestContext, sub = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await ctx.s3.internal.send(
      new ListObjectsV2Command({ Bucket: ctx.s3.bucket, Prefix: `${ctx.config.S3_KEY_PREFIX}${sub}`, ContinuationToken: token }),
    );
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

export async function objectExists(ctx: TestContext, key: string): Promise<boolean> {
  try {
    await ctx.s3.internal.send(new HeadObjectCommand({ Bucket: ctx.s3.bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

/** The tenant's own database name, from the main `tenants` table. */
export async function tenantDatabase(ctx: TestContext, tenantId: string): Promise<string> {
  return (await tenantPlacement(ctx, tenantId)).database;
}

/** Where the tenant's database is (the main projector's placement map). */
export async function tenantPlacement(ctx: TestContext, tenantId: string): Promise<{ server: string; database: string }> {
  const rows = await mainQuery(ctx, 'select database_name, server from tenants where tenant_id = $1', [tenantId]);
  return { server: String(rows[0].server), database: String(rows[0].database_name) };
}

/** Runs SQL in a tenant's own database, on the server it is placed on. */
export async function tenantQuery(ctx: TestContext, tenantId: string, text: string, values: unknown[] = []): Promise<any[]> {
  const { server, database } = await tenantPlacement(ctx, tenantId);
  const client = new pg.Client({ connectionString: createTenantServers(ctx.config).databaseUri(server, database) });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Events of a type in the main store (optionally with data->>field = value). */
export async function eventsOf(
  ctx: TestContext,
  type: string,
  field?: string,
  value?: string,
): Promise<{ global_position: number; stream_id: string; data: any; tenant_id: string }[]> {
  const where = field ? ` and data->>'${field}' = $2` : '';
  return mainQuery(
    ctx,
    `select global_position::int, stream_id, data, tenant_id from events where type = $1${where} order by global_position`,
    field ? [type, value] : [type],
  );
}

/** Runs SQL in the test's main database. */
export async function mainQuery(ctx: TestContext, text: string, values: unknown[] = []): Promise<any[]> {
  const client = new pg.Client({ connectionString: ctx.config.DATABASE_URL });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

/**
 * multipart/form-data built by hand. Filenames go in a quoted-string with `"` and `\` escaped and raw
 * UTF-8 bytes, which busboy decodes (it cannot carry CR/LF in a header, and ignores `filename*`).
 */
export function encodeMultipart(parts: UploadPart[]) {
  const boundary = `----ledgerline${createHash('md5').update(String(Math.random())).digest('hex').slice(0, 16)}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    if ('data' in part) {
      const filename = part.filename.replace(/["\\]/g, (ch) => `\\${ch}`);
      chunks.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${filename}"\r\nContent-Type: ${part.contentType ?? 'application/octet-stream'}\r\n\r\n`,
        ),
      );
      chunks.push(part.data, Buffer.from('\r\n'));
    } else {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`));
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}
