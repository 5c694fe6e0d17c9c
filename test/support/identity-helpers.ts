// Helpers for the identity and tenancy tests (auth, tenancy, provisioning, scripts): users that
// register and log in, tenants created and awaited until active, JWTs made by hand, and the pieces
// of the system started one by one when a test needs to leave one out (e.g. the provisioner).
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import pg from 'pg';
import { sql, withDatabase } from '../../core/adapters/db.ts';
import type { App } from '../../core/adapters/http.ts';
import { client, startParts } from './system.ts';
export { startParts };
import { eventually, type TestContext } from './harness.ts';

type Teardown = { teardown: (fn: () => Promise<void> | void) => void };
export type Call = ReturnType<typeof client>;
export type Answer = Awaited<ReturnType<Call>>;

export const DEFAULT_PASSWORD = 'correct horse battery staple';

export type User = { userId: string; email: string; password: string; token: string; refreshToken: string; position: number };
export type Tenant = { tenantId: string; slug: string; position: number; version: number; activeAfterMs: number };

/** `x-min-position` for the query API: the position of the caller's last command. */
export const after = (position: number) => ({ 'x-min-position': String(position) });

function expectStatus(answer: Answer, status: number, what: string): void {
  if (answer.status !== status) throw new Error(`${what}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body)}`);
}

/**
 * The identity flows of a running system, over inject: `command` and `query` are the two APIs.
 * Each helper checks its own answers and throws with the body when one is unexpected.
 */
export function identity(apps: { command: App; query: App }) {
  const command = client(apps.command);
  const query = client(apps.query);

  async function register(
    email: string,
    password = DEFAULT_PASSWORD,
    displayName = email.split('@')[0] ?? 'someone',
  ): Promise<{ userId: string; position: number }> {
    const answer = await command('POST', '/api/auth/register', { body: { email, password, displayName } });
    expectStatus(answer, 201, `register ${email}`);
    return { userId: answer.body.id as string, position: answer.body.position as number };
  }

  async function login(email: string, password = DEFAULT_PASSWORD): Promise<{ token: string; refreshToken: string }> {
    const answer = await command('POST', '/api/auth/login', { body: { email, password } });
    expectStatus(answer, 200, `login ${email}`);
    return { token: answer.body.access_token as string, refreshToken: answer.body.refresh_token as string };
  }

  /** Registers, logs in and waits (X-Min-Position, no sleep) until the query API knows the user. */
  async function registerAndLogin(email: string, password = DEFAULT_PASSWORD): Promise<User> {
    const { userId, position } = await register(email, password);
    const { token, refreshToken } = await login(email, password);
    const me = await query('GET', '/api/users/me', { token, headers: after(position) });
    expectStatus(me, 200, `users/me of ${email}`);
    return { userId, email, password, token, refreshToken, position };
  }

  /**
   * Creates a tenant and polls (bounded: provisioning is asynchronous) until the query API reads
   * it as active. The first read, with the command's position, must already show the tenant.
   */
  async function createTenant(token: string, slug: string, options: { name?: string; timeoutMs?: number } = {}): Promise<Tenant & { firstStatus: string }> {
    const started = performance.now();
    const created = await command('POST', '/api/tenants', { token, body: { name: options.name ?? `Tenant ${slug}`, slug } });
    expectStatus(created, 202, `create tenant ${slug}`);
    const tenantId = created.body.id as string;
    const first = await query('GET', `/api/tenants/${tenantId}`, { token, headers: after(created.body.position) });
    expectStatus(first, 200, `read tenant ${slug} after creating it`);
    const active = await waitUntilActive(token, tenantId, options.timeoutMs);
    return {
      tenantId,
      slug,
      position: created.body.position as number,
      version: active.version,
      activeAfterMs: performance.now() - started,
      firstStatus: first.body.status as string,
    };
  }

  async function waitUntilActive(token: string, tenantId: string, timeoutMs = 15_000): Promise<{ version: number }> {
    return eventually(
      async () => {
        const answer = await query('GET', `/api/tenants/${tenantId}`, { token });
        return answer.status === 200 && answer.body.status === 'active' ? { version: answer.body.version as number } : undefined;
      },
      { timeoutMs, intervalMs: 10 },
    );
  }

  /**
   * Adds a registered user to a tenant with a role, as a user would: the admin invites the
   * address, the invitee finds the invitation on the query API and accepts it. Returns the
   * answer of the acceptance (its position covers the membership).
   */
  async function addMember(
    adminToken: string,
    tenantId: string,
    invitee: Pick<User, 'email' | 'token'>,
    role: 'admin' | 'user' | 'viewer',
  ): Promise<{ position: number; version: number }> {
    const invited = await command('POST', `/api/tenants/${tenantId}/users`, { token: adminToken, body: { email: invitee.email, role } });
    expectStatus(invited, 202, `invite ${invitee.email} as ${role}`);
    const invitationId = invited.body.id as string;
    const mine = await query('GET', '/api/users/me/invitations', { token: invitee.token, headers: after(invited.body.position) });
    expectStatus(mine, 200, `invitations of ${invitee.email}`);
    if (!(mine.body.items as { id: string }[]).some((i) => i.id === invitationId))
      throw new Error(`invitation ${invitationId} not listed for ${invitee.email}: ${JSON.stringify(mine.body)}`);
    const accepted = await command('POST', `/api/users/me/invitations/${invitationId}/accept`, { token: invitee.token });
    expectStatus(accepted, 200, `${invitee.email} accepts`);
    return { position: accepted.body.position as number, version: accepted.body.version as number };
  }

  return { command, query, register, login, registerAndLogin, createTenant, waitUntilActive, addMember };
}

export type Identity = ReturnType<typeof identity>;

/** The decoded header and claims of a JWT (no verification). */
export function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [header, claims] = token.split('.');
  const decode = (part: string | undefined) => JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: decode(header), claims: decode(claims) };
}

/** A JWT built by hand: HS256 with `secret`, or an unsigned `alg: none` token when secret is null. */
export function forgeJwt(claims: Record<string, unknown>, secret: string | null, header: Record<string, unknown> = {}): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const head = encode({ alg: secret === null ? 'none' : 'HS256', typ: 'JWT', ...header });
  const body = encode(claims);
  if (secret === null) return `${head}.${body}.`;
  const signature = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${signature}`;
}

/** Every value a test must never find in events, read models or logs. */
export function secretsOf(user: Pick<User, 'password' | 'token' | 'refreshToken'>): string[] {
  return [user.password, user.token, user.refreshToken];
}

/** Events whose envelope or data contain `needle` (the whole row as text). */
export async function eventsContaining(ctx: Pick<TestContext, 'pool'>, needle: string): Promise<{ type: string; global_position: number }[]> {
  const rows = await ctx.pool.any(sql.unsafe`
    select type, global_position from events e where strpos(to_jsonb(e)::text, ${needle}) > 0 order by global_position`);
  return rows as unknown as { type: string; global_position: number }[];
}

export type Child = {
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
  /** SIGTERM, then the exit. */
  stop: () => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

/** Runs a TypeScript entry point (path from the repository root) in a child node; killed at teardown if still running. */
export function spawnNode(t: Teardown, entry: string, args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, [new URL(`../../${entry}`, import.meta.url).pathname, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
  });
  t.teardown(async () => {
    if (running) child.kill('SIGKILL');
    await exited;
  });
  return {
    pid: child.pid ?? 0,
    exited,
    output: () => output,
    stop: async () => {
      if (running) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs an entry point to its end (bounded) and returns its exit and output. */
export async function runNode(
  t: Teardown,
  entry: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const child = spawnNode(t, entry, args, env);
  const timer = setTimeout(() => {
    void child.stop();
  }, timeoutMs);
  const exit = await child.exited;
  clearTimeout(timer);
  return { ...exit, output: child.output() };
}

/** Runs one query in another database of the test server (e.g. a tenant database). */
export async function queryDatabase(ctx: Pick<TestContext, 'config'>, database: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const db = new pg.Client({ connectionString: withDatabase(ctx.config.DATABASE_URL, database) });
  await db.connect();
  try {
    return await db.query(text, values);
  } finally {
    await db.end();
  }
}

export async function databaseExists(ctx: Pick<TestContext, 'admin'>, name: string): Promise<boolean> {
  return ((await ctx.admin('select 1 from pg_database where datname = $1', [name])).rowCount ?? 0) > 0;
}

/** The public tables of a database, sorted. */
export async function tablesOf(ctx: Pick<TestContext, 'config'>, database: string): Promise<string[]> {
  const result = await queryDatabase(ctx, database, `select table_name from information_schema.tables where table_schema = 'public' order by 1`);
  return result.rows.map((r: { table_name: string }) => r.table_name);
}
