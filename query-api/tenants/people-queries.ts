import { Type } from 'typebox';
import { sql, rowSchema, type DatabasePool } from '../../core/adapters/db.ts';

const Role = Type.Union([Type.Literal('admin'), Type.Literal('user'), Type.Literal('viewer')]);
const UserRow = rowSchema(Type.Object({ user_id: Type.String(), email: Type.String(), display_name: Type.String(), registered_at: Type.String() }));
const MemberRow = rowSchema(Type.Object({ user_id: Type.String(), email: Type.String(), display_name: Type.String(), role: Role, added_at: Type.String() }));

/** The users and memberships read models (projectors/main writes them), as the query API reads them. */
export function createPeopleQueries(pool: DatabasePool) {
  return {
    findUser(userId: string) {
      return pool.maybeOne(sql.type(UserRow)`
        select user_id, email, display_name, to_json(registered_at)#>>'{}' as registered_at from users where user_id = ${userId}`);
    },
    /** A tenant's members in the order they joined. */
    listMembers(tenantId: string) {
      return pool.any(sql.type(MemberRow)`
        select m.user_id, u.email, u.display_name, m.role, to_json(m.added_at)#>>'{}' as added_at
        from memberships m join users u using (user_id) where m.tenant_id = ${tenantId} order by m.added_at, m.user_id`);
    },
  };
}
