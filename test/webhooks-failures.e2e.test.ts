// Webhooks that keep failing, with a short retry window: addresses checked again at delivery time,
// a subscription disabled after a run of given-up deliveries, and one tenant's dead receivers not
// slowing another tenant's deliveries (measured).
import t from 'tap';
import { createTestContext, eventually } from './support/harness.ts';
import { startSystem } from './support/system.ts';
import { after, identity } from './support/identity-helpers.ts';
import { startReceiver, verify, type Receiver } from './support/webhook-receiver.ts';
import { loadConfig } from '../core/adapters/config.ts';
import { sql } from '../core/adapters/db.ts';

const ctx = await createTestContext(t, {
  WEBHOOK_ALLOW_PRIVATE: 'loopback',
  WEBHOOK_TIMEOUT_MS: '8000',
  WEBHOOK_POLL_INTERVAL_MS: '50',
  WEBHOOK_RETRY_FIRST_DELAY_MS: '100',
  WEBHOOK_RETRY_MAX_DELAY_MS: '400',
  WEBHOOK_RETRY_WINDOW_MS: '1500',
  WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES: '2',
  WEBHOOK_CONCURRENCY: '4',
  WEBHOOK_TENANT_CONCURRENCY: '2',
});
const system = await startSystem(t, ctx);
const id = identity(system);
const { command, query } = id;

async function adminWithTenant(slug: string) {
  const admin = await id.registerAndLogin(`${slug}@example.com`);
  const tenant = await id.createTenant(admin.token, slug);
  let renames = 0;
  const base = `/api/tenants/${tenant.tenantId}/webhooks`;
  return {
    admin,
    tenantId: tenant.tenantId,
    base,
    async subscribe(url: string) {
      const answer = await command('POST', base, { token: admin.token, body: { url, events: ['TenantRenamed'] } });
      if (answer.status !== 201) throw new Error(`subscribe: ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body as { id: string; secret: string; position: number };
    },
    async rename(): Promise<string> {
      renames += 1;
      const name = `${slug} ${renames}`;
      const answer = await command('PUT', `/api/tenants/${tenant.tenantId}`, { token: admin.token, body: { name } });
      if (answer.status !== 200) throw new Error(`rename: ${answer.status}`);
      return name;
    },
    attempts: async (webhookId: string) => (await query('GET', `${base}/${webhookId}/deliveries`, { token: admin.token })).body.items as any[],
  };
}

const acme = await adminWithTenant('acme');
let worker = system.webhookWorker;

t.test('addresses are checked again at delivery time (DNS can change)', async (t) => {
  await worker.stop();
  // This worker refuses loopback, though the command API allowed it when the webhooks were made.
  worker = system.deliver(loadConfig({ ...process.env, ...ctx.env, WEBHOOK_ALLOW_PRIVATE: '' }));
  const receiver = await startReceiver(t);
  const literal = await acme.subscribe(receiver.url);
  const named = await acme.subscribe(`http://localhost:${receiver.port}/hook`);
  await acme.rename();
  for (const hook of [literal, named]) {
    const attempts = await eventually(async () => {
      const items = await acme.attempts(hook.id);
      return items.length > 0 ? items : undefined;
    });
    t.match(attempts.at(-1), { attempt: 1, statusCode: null, error: /WEBHOOK_URL_NOT_ALLOWED|loopback address/ }, `${hook.id}: refused at delivery`);
  }
  t.equal(receiver.received.length, 0, 'no request reached the receiver');
  await worker.stop();
  for (const hook of [literal, named]) await command('DELETE', `${acme.base}/${hook.id}`, { token: acme.admin.token });
  worker = system.deliver();
});

t.test('after a run of given-up deliveries the subscription is disabled, visibly and on the log', async (t) => {
  const receiver = await startReceiver(t, () => 500);
  const hook = await acme.subscribe(receiver.url);
  const first = await acme.rename();
  const second = await acme.rename();
  const third = await acme.rename();
  const disabled = await eventually(
    async () => {
      const answer = await query('GET', `${acme.base}/${hook.id}`, { token: acme.admin.token });
      return answer.body.enabled === false ? answer.body : undefined;
    },
    { timeoutMs: 30_000 },
  );
  t.match(disabled, { enabled: false, disabledReason: 'failures' }, 'the admin sees why');
  const events = (await ctx.pool.any(sql.unsafe`
    select actor, data from events where type = 'WebhookDisabled' and data->>'webhookId' = ${hook.id}`)) as unknown as { actor: string; data: any }[];
  t.match(
    events,
    [{ actor: 'system:webhooks', data: { reason: 'failures', failedDeliveries: 2, tenantId: acme.tenantId } }],
    'one WebhookDisabled event, by the worker',
  );
  const attempts = (await acme.attempts(hook.id)).reverse();
  t.ok(attempts.filter((a) => a.outcome === 'retrying').length >= 2, `retried (${attempts.length} attempts)`);
  t.same(
    attempts.filter((a) => a.outcome === 'failed').map((a) => a.eventType),
    ['TenantRenamed', 'TenantRenamed'],
    'two deliveries given up',
  );
  const namesSeen = [...new Set(receiver.received.map((r) => r.json.data.name))];
  t.same(namesSeen, [first, second], 'the third event was never sent: it was cancelled with the subscription');
  t.notOk(namesSeen.includes(third));
  for (const request of receiver.received) t.doesNotThrow(() => verify(hook.secret, request));
  const count = receiver.received.length;
  await acme.rename();
  await new Promise((resolve) => setTimeout(resolve, 700));
  t.equal(receiver.received.length, count, 'a disabled subscription gets nothing');
  await command('DELETE', `${acme.base}/${hook.id}`, { token: acme.admin.token });
});

/** Latency from a command's answer to the receiver's receipt, one event at a time. */
async function latencies(tenant: Awaited<ReturnType<typeof adminWithTenant>>, receiver: Receiver, count: number): Promise<number[]> {
  const measured: number[] = [];
  for (let i = 0; i < count; i++) {
    const before = receiver.received.length;
    const name = await tenant.rename();
    const sent = performance.now();
    const request = await eventually(async () => receiver.received.slice(before).find((r) => r.json.data.name === name), { timeoutMs: 20_000, intervalMs: 5 });
    measured.push(request.at - sent);
  }
  return measured;
}
const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0), max: Math.round(sorted.at(-1) ?? 0) };
};

t.test("one tenant's dead receivers do not slow another tenant's deliveries (measured)", async (t) => {
  const healthy = await adminWithTenant('healthy');
  const fast = await startReceiver(t);
  const hook = await healthy.subscribe(fast.url);
  await query('GET', `${healthy.base}/${hook.id}`, { token: healthy.admin.token, headers: after(hook.position) });
  await latencies(healthy, fast, 2); // warm-up
  const baseline = summary(await latencies(healthy, fast, 8));

  const dead = await startReceiver(t, () => 'hang');
  const deadbeat = await adminWithTenant('deadbeat');
  // More dead subscriptions than the worker has slots: only the per-tenant cap keeps a slot free.
  for (let i = 0; i < 5; i++) await deadbeat.subscribe(dead.url);
  for (let i = 0; i < 4; i++) await deadbeat.rename();
  await eventually(async () => (worker.inFlight() >= 2 ? true : undefined));
  const started = performance.now();
  const during = await latencies(healthy, fast, 8);
  const elapsed = performance.now() - started;
  const withDead = summary(during);
  t.comment(
    `healthy tenant, event to receipt: alone p50 ${baseline.p50} ms, max ${baseline.max} ms; beside a tenant with 5 hanging subscriptions (8 s timeout, 20 deliveries, 4 slots, 2 per tenant): p50 ${withDead.p50} ms, max ${withDead.max} ms`,
  );
  t.ok(dead.received.length >= 2, `the dead receivers were being tried meanwhile (${dead.received.length} requests hanging or timed out)`);
  // Queued behind the dead tenant, a delivery would wait out an 8 s timeout.
  t.ok(withDead.max < 8000, `no delivery waited for the dead tenant's timeouts (max ${withDead.max} ms over ${Math.round(elapsed)} ms)`);
});
