// The pure parts of webhook delivery: which addresses a webhook may reach, and the retry schedule.
import t from 'tap';
import { allowedClasses, classifyAddress, guardedLookup, refusedLiteral } from '../core/adapters/outbound-address.ts';
import { retryDelayMs } from '../projectors/webhooks/delivery-worker.ts';

t.test('address classes', async (t) => {
  const cases: [string, ReturnType<typeof classifyAddress>][] = [
    ['8.8.8.8', null],
    ['93.184.216.34', null],
    ['2606:4700::1111', null],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['224.0.0.1', 'multicast'],
    ['239.1.2.3', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['64:ff9b::a00:1', 'reserved'],
  ];
  for (const [address, expected] of cases) t.equal(classifyAddress(address), expected, `${address}: ${expected ?? 'public'}`);
  t.equal(classifyAddress('172.32.0.1'), null, 'just outside 172.16/12');
  t.throws(() => classifyAddress('example.com'));
});

t.test('WEBHOOK_ALLOW_PRIVATE', async (t) => {
  t.same([...allowedClasses('')], []);
  t.same([...allowedClasses('loopback')], ['loopback']);
  t.same([...allowedClasses(' loopback , private ')], ['loopback', 'private']);
  t.equal(allowedClasses('all').size, 6);
  t.throws(() => allowedClasses('loopback,intranet'), /unknown address classes intranet/);
  t.equal(refusedLiteral('127.0.0.1', allowedClasses('loopback')), null);
  t.match(refusedLiteral('127.0.0.1', allowedClasses('')), { code: 'WEBHOOK_URL_NOT_ALLOWED', statusCode: 422 });
  t.match(refusedLiteral('::1', allowedClasses('private')), { code: 'WEBHOOK_URL_NOT_ALLOWED' });
  t.equal(refusedLiteral('example.com', allowedClasses('')), null, 'names are checked when they resolve');
});

t.test('the guarded lookup refuses a name that resolves to a refused address', async (t) => {
  const resolve = (allowed: string) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown }>((done) => {
      guardedLookup(allowedClasses(allowed))('localhost', { all: true }, (err, address) => done({ err, address }));
    });
  const refused = await resolve('');
  t.match(refused.err, { code: 'WEBHOOK_URL_NOT_ALLOWED', message: /localhost resolves to .*loopback/ });
  const allowed = await resolve('loopback');
  t.equal(allowed.err, null);
  t.ok(Array.isArray(allowed.address) && allowed.address.length > 0, 'the addresses come back for the connection');
});

t.test('retry delays: exponential, capped, jittered between half and all of the step', async (t) => {
  const policy = { firstDelayMs: 5000, maxDelayMs: 4 * 3600 * 1000, windowMs: 24 * 3600 * 1000 };
  t.same(
    [1, 2, 3, 4].map((n) => retryDelayMs(policy, n, () => 1)),
    [5000, 10000, 20000, 40000],
  );
  t.same(
    [1, 2, 3].map((n) => retryDelayMs(policy, n, () => 0)),
    [2500, 5000, 10000],
  );
  t.equal(
    retryDelayMs(policy, 30, () => 1),
    policy.maxDelayMs,
    'capped',
  );
  t.equal(
    retryDelayMs(policy, 10_000, () => 1),
    policy.maxDelayMs,
    'no overflow however many attempts',
  );
  let elapsed = 0;
  let attempts = 1;
  while (elapsed + retryDelayMs(policy, attempts, () => 1) <= policy.windowMs) elapsed += retryDelayMs(policy, attempts++, () => 1);
  t.comment(`default schedule: ${attempts} attempts within 24 h at the slowest jitter`);
  t.ok(attempts >= 10 && attempts <= 20, `${attempts} attempts in the window`);
});
