// Gives each test file its own corner of the real OpenBao dev server that scripts/infra.sh runs
// (127.0.0.1:58200, same API as HashiCorp Vault): an AppRole role and policy named after the test
// file's id that can read only the KV v2 secret under its own path prefix. Removed at teardown.
import vault from 'node-vault';
import { uniqueId } from './harness.ts';
import type { SecretValues } from '../../core/adapters/secrets.ts';

type Teardown = { teardown: (fn: () => Promise<void> | void) => void };

export const VAULT_ADDR = process.env.VAULT_ADDR || 'http://127.0.0.1:58200';
const ROOT_TOKEN = process.env.VAULT_DEV_ROOT_TOKEN || 'ledgerline-dev-root-token';
const MOUNT = 'secret';

export type TestVault = {
  id: string;
  path: string;
  roleId: string;
  secretId: string;
  /** What a process needs to log in and read this test's secret. */
  env: Record<string, string>;
  /** Writes a new version of the secret (every key given: KV v2 replaces the whole secret). */
  write(values: SecretValues): Promise<number>;
};

/** An admin client with the dev root token: only tests and infra use it, never the application. */
export function rootClient(): vault.client {
  return vault({ apiVersion: 'v1', endpoint: VAULT_ADDR, token: ROOT_TOKEN });
}

async function ignoreAlreadyEnabled(enable: () => Promise<unknown>): Promise<void> {
  // Test files run in parallel: another one may have enabled it a moment ago.
  await enable().catch((err: Error) => {
    if (!/already in use|existing mount/i.test(err.message)) throw err;
  });
}

export async function createTestVault(t: Teardown, options: { secret: SecretValues; tokenTtl?: string; tokenMaxTtl?: string }): Promise<TestVault> {
  const root = rootClient();
  const auths = (await root.auths()) as { data?: Record<string, unknown> } & Record<string, unknown>;
  if (!('approle/' in (auths.data ?? auths))) await ignoreAlreadyEnabled(() => root.enableAuth({ mount_point: 'approle', type: 'approle' }));
  const mounts = (await root.mounts()) as { data?: Record<string, unknown> } & Record<string, unknown>;
  if (!(`${MOUNT}/` in (mounts.data ?? mounts))) await ignoreAlreadyEnabled(() => root.mount({ mount_point: MOUNT, type: 'kv', options: { version: '2' } }));

  const id = uniqueId('vault');
  const path = `ledgerline-tests/${id}/app`;
  await root.addPolicy({
    name: id,
    rules: `path "${MOUNT}/data/ledgerline-tests/${id}/*" { capabilities = ["read"] }\npath "${MOUNT}/metadata/ledgerline-tests/${id}/*" { capabilities = ["read"] }`,
  });
  await root.write(`auth/approle/role/${id}`, {
    token_policies: id,
    token_ttl: options.tokenTtl ?? '1h',
    token_max_ttl: options.tokenMaxTtl ?? '4h',
    secret_id_ttl: 0,
    secret_id_num_uses: 0,
  });
  const roleId = ((await root.read(`auth/approle/role/${id}/role-id`)) as { data: { role_id: string } }).data.role_id;
  const secretId = ((await root.write(`auth/approle/role/${id}/secret-id`, {})) as { data: { secret_id: string } }).data.secret_id;
  const write = async (values: SecretValues) => ((await root.write(`${MOUNT}/data/${path}`, { data: values })) as { data: { version: number } }).data.version;
  await write(options.secret);

  t.teardown(async () => {
    await root.delete(`${MOUNT}/metadata/${path}`).catch(() => undefined);
    await root.delete(`auth/approle/role/${id}`).catch(() => undefined);
    await root.removePolicy({ name: id }).catch(() => undefined);
  });
  return {
    id,
    path,
    roleId,
    secretId,
    write,
    env: { USE_VAULT: 'true', VAULT_ADDR, VAULT_ROLE_ID: roleId, VAULT_SECRET_ID: secretId, VAULT_KV_MOUNT: MOUNT, VAULT_KV_PATH: path },
  };
}
