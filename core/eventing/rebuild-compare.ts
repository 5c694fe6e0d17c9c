import { Type } from 'typebox';
import { rowSchema, sql, type DatabaseTransactionConnection } from '../adapters/db.ts';

export type TableDifferences = {
  table: string;
  /** Rows live has and the rebuild does not, rows only the rebuild has, rows whose checksum differs. */
  missing: number;
  extra: number;
  changed: number;
  /** A few primary keys of each kind, for the operator to look at. */
  examples: { key: string; kind: 'missing' | 'extra' | 'changed' }[];
};

const Difference = rowSchema(
  Type.Object({ key: Type.String(), kind: Type.Union([Type.Literal('missing'), Type.Literal('extra'), Type.Literal('changed')]), n: Type.Number() }),
);

/**
 * Compares `public.table` with `scratch.table` row by row: each row's md5 over its whole text
 * form, matched by primary key. Both tables have the same shape (the scratch one is created
 * `like` the live one), so equal rows have equal checksums.
 */
export async function compareTables(tx: DatabaseTransactionConnection, table: string, scratch: string): Promise<TableDifferences> {
  const keyColumns = (
    await tx.anyFirst(sql.unsafe`
    select a.attname from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
    where i.indrelid = ${`public.${table}`}::regclass and i.indisprimary order by a.attnum`)
  ).map(String);
  const key = (alias: string) =>
    sql.join(
      keyColumns.map((c) => sql.identifier([alias, c])),
      sql.fragment`, `,
    );
  const rows = await tx.any(sql.type(Difference)`
    with live as (select row(${key('l')})::text as key, md5(l::text) as sum from ${sql.identifier(['public', table])} l),
         built as (select row(${key('b')})::text as key, md5(b::text) as sum from ${sql.identifier([scratch, table])} b),
         diff as (
           select coalesce(live.key, built.key) as key,
                  case when built.key is null then 'missing' when live.key is null then 'extra' else 'changed' end as kind
           from live full join built on live.key = built.key
           where live.sum is distinct from built.sum)
    select key, kind, (count(*) over (partition by kind))::int as n from diff order by kind, key`);
  const count = (kind: string) => rows.find((r) => r.kind === kind)?.n ?? 0;
  return {
    table,
    missing: count('missing'),
    extra: count('extra'),
    changed: count('changed'),
    examples: rows.slice(0, 10).map((r) => ({ key: r.key, kind: r.kind })),
  };
}
