import { withDatabase } from './db.ts';

/**
 * The PostgreSQL servers tenant databases may be placed on, by name (TENANT_SERVERS). A server's
 * URL names a database that exists on it (for CREATE/DROP DATABASE); a tenant database's URL is
 * that URL with the tenant's database name. `main` is always there: unset, it is the main
 * DATABASE_URL's cluster, and tenants created before placement existed live on it.
 */
export type TenantServers = {
  names: () => string[];
  has: (server: string) => boolean;
  /** A URL on the server for CREATE/DROP DATABASE; throws for a server not configured. */
  serverUri: (server: string) => string;
  /** The URL of one tenant database on a server. */
  databaseUri: (server: string, database: string) => string;
};

export const MAIN_SERVER = 'main';
const SERVER_NAME = /^[a-z][a-z0-9_-]{0,39}$/;

/**
 * Parses `name=url,name=url` or a JSON object `{"name": "url"}`; throws an Error saying what is
 * wrong without echoing URLs (they hold credentials).
 */
export function parseTenantServers(text: string, mainDatabaseUrl: string): Map<string, string> {
  const servers = new Map<string, string>();
  const trimmed = text.trim();
  let entries: [string, unknown][];
  if (trimmed === '') entries = [];
  else if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new Error('is not valid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('must be a JSON object of name → URL');
    entries = Object.entries(parsed);
  } else {
    entries = trimmed.split(',').map((part) => {
      const at = part.indexOf('=');
      if (at < 1) throw new Error('must be name=url pairs separated by commas, or a JSON object');
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()];
    });
  }
  for (const [name, url] of entries) {
    if (!SERVER_NAME.test(name)) throw new Error(`has a bad server name ${JSON.stringify(name.slice(0, 40))} (lower-case letters, digits, - and _)`);
    if (typeof url !== 'string' || !/^postgres(ql)?:\/\/./.test(url)) throw new Error(`server ${name}: the URL must start with postgres://`);
    try {
      new URL(url);
    } catch {
      throw new Error(`server ${name}: the URL is malformed`);
    }
    if (servers.has(name)) throw new Error(`names server ${name} twice`);
    servers.set(name, url);
  }
  if (!servers.has(MAIN_SERVER)) servers.set(MAIN_SERVER, mainDatabaseUrl);
  return servers;
}

export function createTenantServers(config: { TENANT_SERVERS: string; DATABASE_URL: string }): TenantServers {
  const servers = parseTenantServers(config.TENANT_SERVERS, config.DATABASE_URL);
  const serverUri = (server: string): string => {
    const uri = servers.get(server);
    if (uri === undefined) throw new Error(`no tenant server named ${JSON.stringify(server)} in TENANT_SERVERS`);
    return uri;
  };
  return {
    names: () => [...servers.keys()],
    has: (server) => servers.has(server),
    serverUri,
    databaseUri: (server, database) => withDatabase(serverUri(server), database),
  };
}

/** Only `main`, at a given URL: for tools and tests that know a single cluster. */
export const singleServer = (mainUri: string): TenantServers => createTenantServers({ TENANT_SERVERS: '', DATABASE_URL: mainUri });
