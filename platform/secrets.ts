import vault from 'node-vault';
import { SECRET_SETTINGS, type SettingName } from './config.ts';

/**
 * Reads the secret settings from Vault (or OpenBao): AppRole login, then one KV v2 read.
 * Only keys listed in SECRET_SETTINGS are taken; the rest of the configuration stays in the environment.
 */
export async function readVaultSecrets(env: Record<string, string | undefined>): Promise<Partial<Record<SettingName, string>>> {
  const missing = ['VAULT_ADDR', 'VAULT_ROLE_ID', 'VAULT_SECRET_ID'].filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`USE_VAULT=true needs ${missing.join(', ')}`);
  const client = vault({ apiVersion: 'v1', endpoint: env.VAULT_ADDR });
  await client.approleLogin({ role_id: env.VAULT_ROLE_ID, secret_id: env.VAULT_SECRET_ID });
  const mount = env.VAULT_KV_MOUNT || 'secret';
  const path = env.VAULT_KV_PATH || 'ledgerline';
  const response = await client.read(`${mount}/data/${path}`) as { data?: { data?: Record<string, unknown> } };
  const values = response.data?.data ?? {};
  const secrets: Partial<Record<SettingName, string>> = {};
  for (const name of SECRET_SETTINGS) {
    const value = values[name];
    if (typeof value === 'string' && value !== '') secrets[name] = value;
  }
  return secrets;
}
