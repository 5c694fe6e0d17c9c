import { Type } from 'typebox';
import { sql, rowSchema, type DatabaseTransactionConnection, type Queryable } from '../../core/adapters/db.ts';

// Password hashes: write-side rows beside the events, never in them (the log is public to audit
// consumers). This module is the one owner of `credentials`; writes take the command's
// transaction so the row commits with the events that explain it.

const HashRow = rowSchema(Type.Object({ password_hash: Type.String() }));

export async function passwordHashOf(db: Queryable, userId: string): Promise<string | null> {
  return (await db.maybeOne(sql.type(HashRow)`select password_hash from credentials where user_id = ${userId}`))?.password_hash ?? null;
}

export async function insertCredentials(tx: DatabaseTransactionConnection, userId: string, passwordHash: string): Promise<void> {
  await tx.query(sql.unsafe`insert into credentials (user_id, password_hash) values (${userId}, ${passwordHash})`);
}

export async function replacePassword(tx: DatabaseTransactionConnection, userId: string, passwordHash: string): Promise<void> {
  await tx.query(sql.unsafe`update credentials set password_hash = ${passwordHash}, updated_at = now() where user_id = ${userId}`);
}

export async function removeCredentials(tx: DatabaseTransactionConnection, userId: string): Promise<void> {
  await tx.query(sql.unsafe`delete from credentials where user_id = ${userId}`);
}
