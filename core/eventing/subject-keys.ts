import { createSecretKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { Type } from 'typebox';
import type { DataSubject } from '../../domain/shared/personal-data.ts';
import { sql, rowSchema, type Queryable } from '../adapters/db.ts';
import type { EmailKey } from './email-key.ts';
import type { Invalidations } from './invalidation.ts';

export type SubjectKey = { keyId: string; key: KeyObject };

const KeyRow = rowSchema(Type.Object({ key_id: Type.String(), key: Type.Unsafe<Buffer>({}) }));

/**
 * The per-process cache of subject keys. Keys are random and never reused, so a cached key
 * can only be wrong by having been deleted since: deletions notify every process
 * ('subject-key:<id>', migration 011) and readers of the log drop the cache when they meet an
 * erasure event; no entry lives longer than MAX_AGE_MS either way.
 */
const MAX_AGE_MS = 5 * 60_000;
const bySubject = new Map<string, { value: SubjectKey; at: number }>();
const byId = new Map<string, { value: KeyObject; at: number }>();
const fresh = (at: number) => Date.now() - at < MAX_AGE_MS;

export function dropKeyCache(): void {
  bySubject.clear();
  byId.clear();
}

/** Invalidations on key deletion (and a lost notification connection) drop the cache. */
export function followKeyDeletions(invalidations: Invalidations): void {
  invalidations.subscribe((subject) => {
    if (subject === '*' || subject.startsWith('subject-key:')) dropKeyCache();
  });
}

/** The row naming a subject's key, and the columns the erasures find it by. */
export function subjectRow(
  subject: DataSubject,
  emailKey: EmailKey,
): { subject: string; userId: string | null; tenantId: string | null; emailHash: string | null } {
  switch (subject.kind) {
    case 'user':
      return { subject: `user:${subject.userId}`, userId: subject.userId, tenantId: null, emailHash: null };
    case 'author':
      return { subject: `author:${subject.tenantId}:${subject.userId}`, userId: subject.userId, tenantId: subject.tenantId, emailHash: null };
    case 'tenant':
      return { subject: `tenant:${subject.tenantId}`, userId: null, tenantId: subject.tenantId, emailHash: null };
    case 'address': {
      const emailHash = subject.emailHash ?? emailKey(subject.email ?? '');
      return { subject: `address:${subject.tenantId ?? '-'}:${emailHash}`, userId: null, tenantId: subject.tenantId, emailHash };
    }
    default: {
      const _exhaustive: never = subject;
      return _exhaustive;
    }
  }
}

/** The key sealing a subject's fields, created on first use (a race creates one: the unique subject decides). */
export async function keyForSubject(db: Queryable, subject: DataSubject, emailKey: EmailKey): Promise<SubjectKey> {
  const row = subjectRow(subject, emailKey);
  const hit = bySubject.get(row.subject);
  if (hit && fresh(hit.at)) return hit.value;
  await db.query(sql.unsafe`
    insert into subject_keys (key_id, subject, user_id, tenant_id, email_hash, key)
    select ${randomUUID()}, ${row.subject}, ${row.userId}, ${row.tenantId}, ${row.emailHash}, ${sql.binary(randomBytes(32))}
    where not exists (select 1 from erased_users where user_id = ${row.userId})
    on conflict (subject) do nothing`);
  const found = await db.maybeOne(sql.type(KeyRow)`select key_id, key from subject_keys where subject = ${row.subject}`);
  // An erased user gets a key that is never stored: what is sealed under it is erased as it is written.
  const value = found ? { keyId: found.key_id, key: createSecretKey(found.key) } : { keyId: randomUUID(), key: createSecretKey(randomBytes(32)) };
  bySubject.set(row.subject, { value, at: Date.now() });
  byId.set(value.keyId, { value: value.key, at: Date.now() });
  return value;
}

/** Keys by id, read through `db` (null: erased). `cached: false` asks the database for every one. */
export async function keysById(db: Queryable, keyIds: Iterable<string>, options: { cached?: boolean } = {}): Promise<Map<string, KeyObject | null>> {
  const keys = new Map<string, KeyObject | null>();
  const missing: string[] = [];
  for (const keyId of new Set(keyIds)) {
    const hit = options.cached === false ? undefined : byId.get(keyId);
    if (hit && fresh(hit.at)) keys.set(keyId, hit.value);
    else missing.push(keyId);
  }
  if (missing.length === 0) return keys;
  const rows = await db.any(sql.type(KeyRow)`select key_id, key from subject_keys where key_id = any(${sql.array(missing, 'uuid')})`);
  for (const keyId of missing) keys.set(keyId, null);
  for (const row of rows) {
    const key = createSecretKey(row.key);
    keys.set(row.key_id, key);
    if (options.cached !== false) byId.set(row.key_id, { value: key, at: Date.now() });
  }
  return keys;
}

const Deleted = rowSchema(Type.Object({ n: Type.Number() }));

/** Deletes a whole account's keys: its own, what it wrote in every tenant, and its address's. */
export async function eraseUserKeys(db: Queryable, userId: string, emailHash: string | null): Promise<number> {
  dropKeyCache();
  await db.query(sql.unsafe`insert into erased_users (user_id) values (${userId}) on conflict do nothing`);
  return db.oneFirst(sql.type(Deleted)`
    with gone as (delete from subject_keys where user_id = ${userId} or (${emailHash}::text is not null and email_hash = ${emailHash}) returning 1)
    select count(*)::int as n from gone`);
}

/** Deletes what opens a user's data in one tenant: what they wrote there, and (member) the invitations to their address. */
export async function eraseUserKeysInTenant(db: Queryable, tenantId: string, userId: string, emailHash: string | null): Promise<number> {
  dropKeyCache();
  return db.oneFirst(sql.type(Deleted)`
    with gone as (delete from subject_keys where tenant_id = ${tenantId}
      and (user_id = ${userId} or (${emailHash}::text is not null and email_hash = ${emailHash})) returning 1)
    select count(*)::int as n from gone`);
}

/** Deletes every key of a tenant: its name, everything written in it, its invitations. */
export async function eraseTenantKeys(db: Queryable, tenantId: string): Promise<number> {
  dropKeyCache();
  return db.oneFirst(sql.type(Deleted)`
    with gone as (delete from subject_keys where tenant_id = ${tenantId} returning 1) select count(*)::int as n from gone`);
}

/** The tenants in which a user wrote something sealed (their content keys still exist). */
export async function tenantsWithContentBy(db: Queryable, userId: string): Promise<string[]> {
  const rows = await db.anyFirst(sql.unsafe`
    select distinct tenant_id from subject_keys where user_id = ${userId} and tenant_id is not null`);
  return rows.map(String);
}
