import t from 'tap';
import { given } from '../../test/support/given-when-then.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../shared/errors.ts';
import type { Role } from '../shared/roles.ts';
import { tenantDatabaseName, tenantDecider, tenantStatusOf, tenantStreamId, type TenantCommand, type TenantEvent } from './index.ts';

const tenantId = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
const actorId = '6f1c2a9e-1b2c-4d3e-8f40-5a6b7c8d9e01';
const now = '2025-01-02T03:04:05.000Z';
const later = '2025-01-02T03:05:00.000Z';
const databaseName = 'tenant_acme_corp_3fa85f64';

type CreateData = {
  name: string;
  slug: string;
  databaseName: string;
  tenantsOfActor: number;
  tenantQuota: number;
  tenantsPerServer: Record<string, number>;
  server: string;
};
const create = (data: Partial<CreateData> = {}): TenantCommand => ({
  type: 'CreateTenant',
  data: {
    tenantId,
    name: ' Acme Corp ',
    slug: 'acme-corp',
    databaseName,
    actorId,
    now,
    tenantsOfActor: 0,
    tenantQuota: 10,
    tenantsPerServer: { main: 0 },
    ...data,
  },
});
const place = (server: string, database = databaseName): TenantCommand => ({ type: 'PlaceTenant', data: { server, database, servers: ['main', 'pg2'] } });
const createWithSlug = (slug: string): TenantCommand => create({ slug, databaseName: `tenant_${slug.replaceAll('-', '_')}_3fa85f64` });
const rename = (name: string, actorRole: Role = 'admin'): TenantCommand => ({ type: 'RenameTenant', data: { name, actorRole } });
const remove = (actorRole: Role = 'admin'): TenantCommand => ({ type: 'DeleteTenant', data: { actorId, actorRole, now: later } });
const markProvisioned = (name = databaseName): TenantCommand => ({ type: 'MarkTenantProvisioned', data: { databaseName: name, now: later } });
const markFailed = (reason = 'connection refused', attempt = 1): TenantCommand => ({
  type: 'MarkTenantProvisioningFailed',
  data: { reason, attempt, now: later },
});

const created: TenantEvent = {
  type: 'TenantCreated',
  data: { tenantId, name: 'Acme Corp', slug: 'acme-corp', databaseName, createdBy: actorId, createdAt: now },
};
const placedOn = (server: string): TenantEvent => ({ type: 'TenantPlaced', data: { tenantId, server, database: databaseName } });
const placed = placedOn('main');
const provisioned: TenantEvent = { type: 'TenantProvisioned', data: { tenantId, databaseName, provisionedAt: later } };
const failed: TenantEvent = {
  type: 'TenantProvisioningFailed',
  data: { tenantId, reason: 'connection refused', attempt: 1, failedAt: later },
};
const deleted: TenantEvent = { type: 'TenantDeleted', data: { tenantId, deletedBy: actorId, deletedAt: later } };

t.test('stream id and database name', async (t) => {
  t.equal(tenantStreamId(tenantId), `tenant-${tenantId}`);
  t.equal(tenantDatabaseName('acme-corp', tenantId), databaseName);
  t.equal(tenantDatabaseName('acme', tenantId.toUpperCase()), 'tenant_acme_3fa85f64');
  t.throws(() => tenantDatabaseName('acme', 'not-a-uuid'), { code: 'INVALID_TENANT_ID' });
  t.throws(() => tenantDatabaseName('Acme"; DROP DATABASE x; --', tenantId), { code: 'INVALID_DATABASE_NAME' });
  t.throws(() => tenantDatabaseName('a'.repeat(60), tenantId), { code: 'INVALID_DATABASE_NAME' });
});

t.test('CreateTenant', async (t) => {
  t.test('creates the tenant with a trimmed name, in provisioning', async (t) => {
    given(tenantDecider, []).when(create()).then(t, [created, placed]);
  });
  t.test('refuses a user at the tenant quota, allows one below it', async (t) => {
    given(tenantDecider, [])
      .when(create({ tenantsOfActor: 10, tenantQuota: 10 }))
      .thenThrows(t, 'TENANT_QUOTA_EXCEEDED', ForbiddenError);
    given(tenantDecider, [])
      .when(create({ tenantsOfActor: 9, tenantQuota: 10 }))
      .then(t, [created, placed]);
  });
  t.test('refuses to create it twice', async (t) => {
    given(tenantDecider, [created]).when(create()).thenThrows(t, 'TENANT_EXISTS', ConflictError);
  });
  for (const slug of ['abc', 'a1-b2', 'x'.repeat(40), '123']) {
    t.test(`accepts the slug "${slug}"`, async (t) => {
      const [event] = tenantDecider.decide(createWithSlug(slug), tenantDecider.initialState());
      t.equal(event?.type === 'TenantCreated' && event.data.slug, slug);
    });
  }
  for (const slug of ['ab', 'x'.repeat(41), 'Acme', '-acme', 'acme-', 'ac--me', 'ac_me', 'ac me', 'acmé', 'api', 'admin', 'www']) {
    t.test(`refuses the slug "${slug}"`, async (t) => {
      given(tenantDecider, []).when(createWithSlug(slug)).thenThrows(t, 'INVALID_SLUG', ValidationError);
    });
  }
  t.test('refuses a blank or too long name, accepts 200 characters', async (t) => {
    given(tenantDecider, [])
      .when(create({ name: '  ' }))
      .thenThrows(t, 'INVALID_TENANT_NAME', ValidationError);
    given(tenantDecider, [])
      .when(create({ name: 'n'.repeat(201) }))
      .thenThrows(t, 'INVALID_TENANT_NAME', ValidationError);
    given(tenantDecider, [])
      .when(create({ name: 'n'.repeat(200) }))
      .then(t, [{ ...created, data: { ...created.data, name: 'n'.repeat(200) } }, placed]);
  });
  t.test('refuses a database name that is not tenantDatabaseName(slug, tenantId)', async (t) => {
    given(tenantDecider, [])
      .when(create({ databaseName: 'tenant_other_3fa85f64' }))
      .thenThrows(t, 'INVALID_DATABASE_NAME', ValidationError);
  });
  t.test('places it on the server with the fewest tenants, ties by name', async (t) => {
    given(tenantDecider, [])
      .when(create({ tenantsPerServer: { main: 5, pg2: 3 } }))
      .then(t, [created, placedOn('pg2')]);
    given(tenantDecider, [])
      .when(create({ tenantsPerServer: { pg2: 4, main: 4 } }))
      .then(t, [created, placedOn('main')]);
  });
  t.test('places it on the server the request names, if it is configured', async (t) => {
    given(tenantDecider, [])
      .when(create({ tenantsPerServer: { main: 0, pg2: 9 }, server: 'pg2' }))
      .then(t, [created, placedOn('pg2')]);
    given(tenantDecider, [])
      .when(create({ tenantsPerServer: { main: 0 }, server: 'elsewhere' }))
      .thenThrows(t, 'UNKNOWN_SERVER', ValidationError);
    given(tenantDecider, [])
      .when(create({ tenantsPerServer: { main: 0 }, server: 'toString' }))
      .thenThrows(t, 'UNKNOWN_SERVER', ValidationError);
  });
});

t.test('PlaceTenant (an operator moves the tenant)', async (t) => {
  t.test('moves a provisioned tenant to another configured server', async (t) => {
    given(tenantDecider, [created, placed, provisioned])
      .when(place('pg2'))
      .then(t, [placedOn('pg2')]);
    given(tenantDecider, [created, placed, provisioned, placedOn('pg2')])
      .when(place('main'))
      .then(t, [placed]);
  });
  t.test('the same place again changes nothing', async (t) => {
    given(tenantDecider, [created, placed, provisioned, placedOn('pg2')])
      .when(place('pg2'))
      .then(t, []);
  });
  t.test('refuses an unknown server, another database, an unprovisioned or deleted tenant', async (t) => {
    given(tenantDecider, [created, placed, provisioned]).when(place('elsewhere')).thenThrows(t, 'UNKNOWN_SERVER', ValidationError);
    given(tenantDecider, [created, placed, provisioned]).when(place('pg2', 'tenant_other_3fa85f64')).thenThrows(t, 'DATABASE_NAME_MISMATCH', ConflictError);
    given(tenantDecider, [created, placed]).when(place('pg2')).thenThrows(t, 'TENANT_NOT_READY', ConflictError);
    given(tenantDecider, [created, placed, provisioned, deleted]).when(place('pg2')).thenThrows(t, 'TENANT_DELETED', ConflictError);
    given(tenantDecider, []).when(place('pg2')).thenThrows(t, 'TENANT_NOT_FOUND', NotFoundError);
  });
});

t.test('RenameTenant', async (t) => {
  t.test('an admin renames', async (t) => {
    given(tenantDecider, [created, provisioned])
      .when(rename(' Acme Inc '))
      .then(t, [{ type: 'TenantRenamed', data: { tenantId, name: 'Acme Inc' } }]);
    given(tenantDecider, [created])
      .when(rename('Acme Inc'))
      .then(t, [{ type: 'TenantRenamed', data: { tenantId, name: 'Acme Inc' } }]);
  });
  t.test('the same name is a no-op', async (t) => {
    given(tenantDecider, [created]).when(rename('Acme Corp')).then(t, []);
  });
  t.test('users and viewers cannot rename', async (t) => {
    given(tenantDecider, [created]).when(rename('Acme Inc', 'user')).thenThrows(t, 'FORBIDDEN', ForbiddenError);
    given(tenantDecider, [created]).when(rename('Acme Inc', 'viewer')).thenThrows(t, 'FORBIDDEN', ForbiddenError);
  });
  t.test('refuses a blank name', async (t) => {
    given(tenantDecider, [created]).when(rename(' ')).thenThrows(t, 'INVALID_TENANT_NAME', ValidationError);
  });
  t.test('an unknown tenant is not found', async (t) => {
    given(tenantDecider, []).when(rename('Acme Inc')).thenThrows(t, 'TENANT_NOT_FOUND', NotFoundError);
  });
});

t.test('DeleteTenant', async (t) => {
  t.test('an admin deletes, provisioned or not', async (t) => {
    given(tenantDecider, [created, provisioned]).when(remove()).then(t, [deleted]);
    given(tenantDecider, [created]).when(remove()).then(t, [deleted]);
  });
  t.test('users and viewers cannot delete', async (t) => {
    given(tenantDecider, [created, provisioned]).when(remove('user')).thenThrows(t, 'FORBIDDEN', ForbiddenError);
    given(tenantDecider, [created, provisioned]).when(remove('viewer')).thenThrows(t, 'FORBIDDEN', ForbiddenError);
  });
  t.test('an unknown tenant is not found', async (t) => {
    given(tenantDecider, []).when(remove()).thenThrows(t, 'TENANT_NOT_FOUND', NotFoundError);
  });
});

t.test('a deleted tenant accepts no command', async (t) => {
  for (const command of [create(), rename('New'), remove(), markProvisioned(), markFailed()]) {
    const code = command.type === 'CreateTenant' ? 'TENANT_EXISTS' : 'TENANT_DELETED';
    given(tenantDecider, [created, provisioned, deleted]).when(command).thenThrows(t, code, ConflictError);
  }
});

t.test('MarkTenantProvisioned', async (t) => {
  t.test('marks a provisioning tenant active, also after failures', async (t) => {
    given(tenantDecider, [created]).when(markProvisioned()).then(t, [provisioned]);
    given(tenantDecider, [created, failed]).when(markProvisioned()).then(t, [provisioned]);
  });
  t.test('twice is a no-op', async (t) => {
    given(tenantDecider, [created, provisioned]).when(markProvisioned()).then(t, []);
  });
  t.test('refuses another database name', async (t) => {
    given(tenantDecider, [created]).when(markProvisioned('tenant_other_3fa85f64')).thenThrows(t, 'DATABASE_NAME_MISMATCH', ConflictError);
  });
  t.test('an unknown tenant is not found', async (t) => {
    given(tenantDecider, []).when(markProvisioned()).thenThrows(t, 'TENANT_NOT_FOUND', NotFoundError);
  });
});

t.test('MarkTenantProvisioningFailed', async (t) => {
  t.test('records the failure while provisioning', async (t) => {
    given(tenantDecider, [created]).when(markFailed(' connection refused ')).then(t, [failed]);
  });
  t.test('after provisioned it is a no-op', async (t) => {
    given(tenantDecider, [created, provisioned]).when(markFailed()).then(t, []);
  });
  t.test('truncates a long reason to 1000 characters', async (t) => {
    const [event] = tenantDecider.decide(markFailed('x'.repeat(5000)), tenantDecider.evolve(tenantDecider.initialState(), created));
    t.equal(event?.type === 'TenantProvisioningFailed' && event.data.reason.length, 1000);
  });
  t.test('refuses an empty reason or an attempt below 1', async (t) => {
    given(tenantDecider, [created]).when(markFailed(' ')).thenThrows(t, 'INVALID_REASON', ValidationError);
    given(tenantDecider, [created]).when(markFailed('boom', 0)).thenThrows(t, 'INVALID_ATTEMPT', ValidationError);
  });
});

t.test('evolve', async (t) => {
  const details = { tenantId, name: 'Acme Corp', slug: 'acme-corp', databaseName, server: 'main', createdBy: actorId, createdAt: now };
  t.test('initial', async (t) => {
    given(tenantDecider, []).thenState(t, { status: 'initial' });
    t.equal(tenantStatusOf(tenantDecider.initialState()), null);
  });
  t.test('created → provisioning, counting failures', async (t) => {
    given(tenantDecider, [created, failed, failed]).thenState(t, {
      status: 'provisioning',
      ...details,
      failedAttempts: 2,
      lastFailure: 'connection refused',
    });
  });
  t.test('provisioned → active, renamed', async (t) => {
    given(tenantDecider, [created, failed, provisioned, { type: 'TenantRenamed', data: { tenantId, name: 'Acme Inc' } }]).thenState(t, {
      status: 'active',
      ...details,
      name: 'Acme Inc',
      provisionedAt: later,
    });
  });
  t.test('placed: the state follows the latest placement (tenants older than placement are on main)', async (t) => {
    given(tenantDecider, [created, placedOn('pg2'), provisioned]).thenState(t, { status: 'active', ...details, server: 'pg2', provisionedAt: later });
  });
  t.test('deleted, remembering whether it was provisioned', async (t) => {
    given(tenantDecider, [created, provisioned, deleted]).thenState(t, {
      status: 'deleted',
      ...details,
      provisionedAt: later,
      deletedBy: actorId,
      deletedAt: later,
    });
    given(tenantDecider, [created, deleted]).thenState(t, {
      status: 'deleted',
      ...details,
      provisionedAt: null,
      deletedBy: actorId,
      deletedAt: later,
    });
  });
});
