// The HTTP side of the soak and load runs: one request helper over fetch that never throws (a
// refused connection is status 0), and the set-up both runs share: tenants with an admin, a
// member and a first document, created through the public API.
import { randomUUID } from 'node:crypto';
import { multipartBody } from '../support/multipart.ts';

export type Answer = { status: number; body: any; ms: number; error?: string };
export type RequestOptions = {
  token?: string;
  json?: unknown;
  file?: { name: string; data: Buffer; title?: string };
  headers?: Record<string, string>;
  idempotencyKey?: string;
};

export async function request(base: string, method: string, path: string, options: RequestOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  let body: string | Buffer | undefined;
  if (options.file) {
    const mp = multipartBody([
      ...(options.file.title ? [{ name: 'title', value: options.file.title }] : []),
      { name: 'file', filename: options.file.name, contentType: 'application/pdf', data: options.file.data },
    ]);
    headers['content-type'] = mp.contentType;
    body = mp.body;
  } else if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  const started = performance.now();
  try {
    const response = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON (a download) */
    }
    return { status: response.status, body: parsed, ms: performance.now() - started };
  } catch (err) {
    return { status: 0, body: undefined, ms: performance.now() - started, error: (err as Error).message };
  }
}

/** Sends a command until it gets an answer that is not "try again" (503, a refused connection), with the same Idempotency-Key. */
export async function commandWithRetry(
  base: string,
  method: string,
  path: string,
  options: RequestOptions,
  onAttempt: (answer: Answer) => void,
  maxAttempts = 60,
): Promise<Answer> {
  const idempotencyKey = options.idempotencyKey ?? randomUUID();
  let answer: Answer = { status: 0, body: undefined, ms: 0 };
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    answer = await request(base, method, path, { ...options, idempotencyKey });
    onAttempt(answer);
    // 503 (a dependency down) and 429 (too many uploads at a time) both say "retry later".
    if (answer.status !== 0 && answer.status !== 503 && answer.status !== 429) return answer;
    await new Promise((r) => setTimeout(r, Math.min(250 * attempt, 2000)));
  }
  return answer;
}

export const pdf = (text: string) => Buffer.from(`%PDF-1.4\n${text}\n%%EOF\n`);

export type SeededTenant = {
  tenantId: string;
  admin: { token: string; userId: string };
  member: { token: string; userId: string; email: string };
  documents: string[];
};

/** Seeding retries what a loaded machine may answer 503 (a pool that could not connect in time). */
async function ok(answer: () => Promise<Answer>, what: string): Promise<any> {
  let a = await answer();
  for (let attempt = 1; (a.status === 503 || a.status === 0) && attempt < 20; attempt++) {
    await new Promise((r) => setTimeout(r, 500 * attempt));
    a = await answer();
  }
  if (a.status < 200 || a.status >= 300) throw new Error(`${what}: ${a.status} ${JSON.stringify(a.body) ?? a.error}`);
  return a.body;
}

async function user(commandUrl: string, email: string): Promise<{ token: string; userId: string }> {
  const password = 'correct horse battery staple';
  const registered = await ok(
    () => request(commandUrl, 'POST', '/api/auth/register', { json: { email, password, displayName: email.split('@')[0] } }),
    `register ${email}`,
  );
  const login = await ok(() => request(commandUrl, 'POST', '/api/auth/login', { json: { email, password } }), `login ${email}`);
  return { token: login.access_token, userId: registered.id };
}

/** `count` tenants, `parallel` at a time, each active with an admin, a `user` member and one document. */
export async function seedTenants(urls: { command: string; query: string }, count: number, run: string, parallel = 5): Promise<SeededTenant[]> {
  const tenants: SeededTenant[] = [];
  let next = 0;
  async function worker(): Promise<void> {
    while (next < count) {
      const i = next++;
      const admin = await user(urls.command, `admin${i}-${run}@example.com`);
      const memberEmail = `member${i}-${run}@example.com`;
      const member = await user(urls.command, memberEmail);
      const created = await ok(
        () => request(urls.command, 'POST', '/api/tenants', { token: admin.token, json: { name: `Tenant ${i}`, slug: `t${i}-${run}` } }),
        `tenant ${i}`,
      );
      const deadline = Date.now() + 60_000;
      for (;;) {
        const read = await request(urls.query, 'GET', `/api/tenants/${created.id}`, { token: admin.token });
        if (read.status === 200 && read.body.status === 'active') break;
        if (Date.now() > deadline) throw new Error(`tenant ${i} not active after 60 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
      // Members join by invitation: the admin invites the address, its owner accepts.
      const invitation = await ok(
        () => request(urls.command, 'POST', `/api/tenants/${created.id}/users`, { token: admin.token, json: { email: memberEmail, role: 'user' } }),
        `invite a member of ${i}`,
      );
      await ok(() => request(urls.command, 'POST', `/api/users/me/invitations/${invitation.id}/accept`, { token: member.token }), `member of ${i} accepts`);
      const doc = await ok(
        () =>
          request(urls.command, 'POST', `/api/tenants/${created.id}/documents`, {
            token: admin.token,
            file: { name: 'first.pdf', data: pdf(`first ${i} ${run}`), title: 'First' },
          }),
        `document of ${i}`,
      );
      tenants.push({ tenantId: created.id, admin, member: { ...member, email: memberEmail }, documents: [doc.id] });
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
  return tenants;
}

/** Waits until the outbox is empty and every projection has applied every event it owns. */
export async function waitUntilProjected(
  query: (text: string) => Promise<any[]>,
  tenantDbQuery: (db: string, text: string) => Promise<any[]>,
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const [{ pending }] = await query(`select count(*)::int as pending from outbox where published_at is null`);
    const [{ platform, scoped }] = await query(
      `select coalesce(max(global_position) filter (where category = 'platform'), 0)::int as platform, coalesce(max(global_position) filter (where tenant_id is not null), 0)::int as scoped from events`,
    );
    const checkpoints = Object.fromEntries(
      (await query(`select projection, position::int from projection_checkpoints`)).map((r) => [r.projection, r.position]),
    );
    let behind = pending > 0 || (checkpoints.main ?? 0) < platform || (checkpoints.audit ?? 0) < scoped;
    if (!behind) {
      for (const t of await query(
        `select t.database_name, coalesce((select max(global_position) from events e where e.tenant_id = t.tenant_id and e.category = 'documents'), 0)::int as head from tenants t where status = 'active'`,
      )) {
        const [row] = await tenantDbQuery(
          t.database_name,
          `select coalesce((select position::int from projection_checkpoints where projection = 'tenant'), 0) as position`,
        );
        if ((row?.position ?? 0) < t.head) {
          behind = true;
          break;
        }
      }
    }
    if (!behind) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`projections still behind after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
