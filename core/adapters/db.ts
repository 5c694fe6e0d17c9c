import pg from 'pg';
import {
  createPool,
  createTypeParserPreset,
  SchemaValidationError,
  sql,
  type Interceptor,
  type DatabasePool,
  type DatabaseTransactionConnection,
  type CommonQueryMethods,
} from 'slonik';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { Compile } from 'typebox/compile';
import type { Static, TSchema } from 'typebox';

export { sql };
export type { DatabasePool, DatabaseTransactionConnection };
export type Queryable = CommonQueryMethods;

/**
 * `value` as a jsonb parameter, serialized once and cast by PostgreSQL. slonik's `sql.jsonb`
 * first walks every string in the value (two regular expressions and a path string each) to
 * refuse NUL and unpaired surrogates: 3 % of the command API's CPU on the append path (perf).
 * What reaches the statements that use this was refused at the edge already when it held such
 * text (`http.ts`, 400 INVALID_CHARACTERS) or was read back from jsonb, and PostgreSQL refuses
 * such a document itself.
 */
export function jsonbParameter(value: unknown): ReturnType<typeof sql.fragment> {
  return sql.fragment`${JSON.stringify(value)}::jsonb`;
}

/**
 * Validates every row of a `sql.type(schema)` query against its schema (slonik only records the
 * parser on the query; an interceptor has to run it). A row that does not match throws. The
 * hook is the synchronous one: our schemas (rowSchema below) validate synchronously, and the
 * asynchronous hook costs a queue and a promise per row (a tenth of a page read's CPU, profiled).
 */
const resultParser: Interceptor = {
  name: 'result-parser',
  transformRow: (context, query, row) => {
    const parser = context.resultParser;
    if (!parser) return row;
    const result = parser['~standard'].validate(row);
    if (result instanceof Promise) throw new Error('row schemas must validate synchronously (use rowSchema)');
    if (result.issues) throw new SchemaValidationError(query, row, result.issues as never);
    return result.value as typeof row;
  },
};

export async function createDatabasePool(connectionUri: string, options: { maxPoolSize?: number; name?: string } = {}): Promise<DatabasePool> {
  return createPool(connectionUri, {
    maxPoolSize: options.maxPoolSize ?? 10,
    ...(options.name === undefined ? {} : { poolName: options.name }),
    captureStackTrace: false,
    interceptors: [resultParser],
    // int8 as a JS number: positions, offsets and byte sizes stay far below 2^53, and numbers
    // serialize to JSON where BigInt does not.
    typeParsers: [...createTypeParserPreset().filter((p) => p.name !== 'int8'), { name: 'int8', parse: (value: string) => Number(value) }],
    // Projections read the event store (main pool) while holding a transaction on their target
    // database; slonik would otherwise refuse queries on another connection inside a transaction.
    dangerouslyAllowForeignConnections: true,
    // Transactions retried on serialization failures must not repeat side effects: our
    // transactions are short and idempotent, so slonik's retry is kept (default 5).
    statementTimeout: 60_000,
    idleTimeout: 10_000,
    // slonik's default runs DISCARD ALL on every release: a second round trip per query that also
    // throws away the server's cached plans. Nothing here leaves session state behind: settings are
    // `set local` inside transactions, and the one session-level advisory lock (purge) is unlocked
    // in a finally before its connection is released.
    resetConnection: async () => {},
  });
}

/** Adapts a TypeBox schema to the Standard Schema slonik's `sql.type` validates rows with. */
export function rowSchema<T extends TSchema>(schema: T): StandardSchemaV1<Static<T>, Static<T>> {
  const validator = Compile(schema);
  return {
    '~standard': {
      version: 1,
      vendor: 'typebox',
      validate: (value: unknown) => {
        if (validator.Check(value)) return { value: value as Static<T> };
        return { issues: validator.Errors(value).map((e) => ({ message: `${e.instancePath || '/'} ${e.message}` })) };
      },
    },
  };
}

/** One plain pg connection for `work` (DDL, LISTEN, advisory locks: what a pool must not do), always closed. */
export async function withClient<T>(connectionUri: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: connectionUri });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Replaces the database name of a postgres:// URL (tenant databases live beside the main one). */
export function withDatabase(connectionUri: string, database: string): string {
  const url = new URL(connectionUri);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A valid unquoted PostgreSQL identifier we generated ourselves; anything else is refused. */
export function assertSafeDatabaseName(name: string): string {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(name)) throw new Error(`unsafe database name: ${JSON.stringify(name)}`);
  return name;
}
