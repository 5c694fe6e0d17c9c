// Invitations instead of silent adds (issue 11, finding 8): adding a member by email invites the
// address; the holder of the address sees the invitation and accepts or declines it. The add
// answers the same whether or not the address has an account, nobody else can see or answer an
// invitation, and a deleted tenant's invitations go away.
import t from 'tap';
import { createTestContext } from './support/harness.ts';
import { startSystem } from './support/system.ts';
import { after, identity } from './support/identity-helpers.ts';
import { sql } from '../core/adapters/db.ts';

const ctx = await createTestContext(t);
const system = await startSystem(t, ctx);
const id = identity(system);
const { command, query } = id;

const admin = await id.registerAndLogin('inv-admin@example.com');
const bob = await id.registerAndLogin('inv-bob@example.com');
const mallory = await id.registerAndLogin('inv-mallory@example.com');
const tenant = await id.createTenant(admin.token, 'inviting-co', { name: 'Inviting Co' });
const members = `/api/tenants/${tenant.tenantId}/users`;
const eventCount = async () => Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from events`));

t.test('inviting answers the same for a registered and an unknown address, and adds nobody', async (t) => {
  const known = await command('POST', members, { token: admin.token, body: { email: bob.email, role: 'user' } });
  const unknown = await command('POST', members, { token: admin.token, body: { email: 'nobody-yet@example.com', role: 'user' } });
  t.equal(known.status, 202);
  t.equal(unknown.status, 202, 'an address without an account: the same status');
  t.same(Object.keys(unknown.body).sort(), Object.keys(known.body).sort(), 'the same answer shape');
  t.equal(unknown.body.version, known.body.version, 'and the same version');
  const list = await query('GET', members, { token: admin.token, headers: after(unknown.body.position) });
  t.same(
    list.body.items.map((m: { email: string }) => m.email),
    [admin.email],
    'nobody joined without consent',
  );
});

t.test('the invitee sees the invitation and accepts it; nobody else can', async (t) => {
  const invited = await command('POST', members, { token: admin.token, body: { email: 'INV-BOB@example.com', role: 'viewer' } });
  const mine = await query('GET', '/api/users/me/invitations', { token: bob.token, headers: after(invited.body.position) });
  t.equal(mine.status, 200);
  const invitation = mine.body.items.find((i: { id: string }) => i.id === invited.body.id);
  t.match(
    invitation,
    { tenantId: tenant.tenantId, tenantName: 'Inviting Co', role: 'viewer', invitedBy: { id: admin.userId } },
    'with the tenant and who invited',
  );
  const theirs = await query('GET', '/api/users/me/invitations', { token: mallory.token, headers: after(invited.body.position) });
  t.same(theirs.body.items, [], 'another user sees none of them');

  const before = await eventCount();
  for (const answer of ['accept', 'decline']) {
    const stolen = await command('POST', `/api/users/me/invitations/${invited.body.id}/${answer}`, { token: mallory.token });
    t.equal(stolen.status, 404, `another user cannot ${answer} it`);
    t.equal(stolen.body.error.code, 'INVITATION_NOT_FOUND');
  }
  const unknownId = await command('POST', '/api/users/me/invitations/00000000-0000-4000-8000-000000000000/accept', { token: bob.token });
  t.equal(unknownId.status, 404, 'an unknown id: the same 404');
  t.equal(await eventCount(), before, 'nothing was appended');

  const accepted = await command('POST', `/api/users/me/invitations/${invited.body.id}/accept`, { token: bob.token });
  t.equal(accepted.status, 200);
  const tenants = await query('GET', '/api/tenants', { token: bob.token, headers: after(accepted.body.position) });
  t.same(
    tenants.body.items.map((x: { id: string; role: string }) => [x.id, x.role]),
    [[tenant.tenantId, 'viewer']],
    'bob is a viewer now',
  );
  const again = await command('POST', `/api/users/me/invitations/${invited.body.id}/accept`, { token: bob.token });
  t.equal(again.status, 200, 'accepting twice is harmless');
  const left = await query('GET', '/api/users/me/invitations', { token: bob.token, headers: after(accepted.body.position) });
  t.same(left.body.items, [], 'no pending invitation is left (the earlier one is to a tenant he joined)');
  const declineAfter = await command('POST', `/api/users/me/invitations/${invited.body.id}/decline`, { token: bob.token });
  t.equal(declineAfter.status, 409, 'an accepted invitation cannot be declined');
  t.equal(declineAfter.body.error.code, 'INVITATION_ANSWERED');
});

t.test('an address registered after the invitation finds it; declining leaves the tenant alone', async (t) => {
  const invited = await command('POST', members, { token: admin.token, body: { email: 'late@example.com', role: 'user' } });
  const late = await id.registerAndLogin('late@example.com');
  const mine = await query('GET', '/api/users/me/invitations', { token: late.token, headers: after(invited.body.position) });
  t.ok(
    mine.body.items.some((i: { id: string }) => i.id === invited.body.id),
    'the invitation waits for the account',
  );
  const declined = await command('POST', `/api/users/me/invitations/${invited.body.id}/decline`, { token: late.token });
  t.equal(declined.status, 200);
  const after1 = await query('GET', '/api/users/me/invitations', { token: late.token, headers: after(declined.body.position) });
  t.notOk(
    after1.body.items.some((i: { id: string }) => i.id === invited.body.id),
    'a declined invitation is no longer listed',
  );
  const tenants = await query('GET', '/api/tenants', { token: late.token });
  t.same(tenants.body.items, [], 'and the decliner is no member');
  const acceptLater = await command('POST', `/api/users/me/invitations/${invited.body.id}/accept`, { token: late.token });
  t.equal(acceptLater.status, 409);
});

t.test("outsiders and non-admins cannot invite; a deleted tenant's invitations go away", async (t) => {
  const other = await id.createTenant(mallory.token, 'other-co');
  const outsider = await command('POST', members, { token: mallory.token, body: { email: mallory.email, role: 'admin' } });
  t.equal(outsider.status, 404, 'an admin of another tenant: 404');
  const viewer = await command('POST', members, { token: bob.token, body: { email: mallory.email, role: 'admin' } });
  t.equal(viewer.status, 403, 'a viewer: 403');
  const invited = await command('POST', `/api/tenants/${other.tenantId}/users`, { token: mallory.token, body: { email: bob.email, role: 'user' } });
  const deleted = await command('DELETE', `/api/tenants/${other.tenantId}`, { token: mallory.token });
  t.equal(deleted.status, 202);
  const mine = await query('GET', '/api/users/me/invitations', { token: bob.token, headers: after(deleted.body.position) });
  t.notOk(
    mine.body.items.some((i: { id: string }) => i.id === invited.body.id),
    'not listed once the tenant is deleted',
  );
  const accept = await command('POST', `/api/users/me/invitations/${invited.body.id}/accept`, { token: bob.token });
  t.equal(accept.status, 409);
  t.equal(accept.body.error.code, 'TENANT_DELETED');
});
