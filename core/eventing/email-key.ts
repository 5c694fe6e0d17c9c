import { createHmac } from 'node:crypto';
import type { Config } from '../adapters/config.ts';
import { normaliseEmail } from '../../domain/user/email.ts';

/** HMAC-SHA-256 (hex) of a normalised address: how the log names an address without holding it. */
export type EmailKey = (email: string) => string;

/**
 * The keyed hash that stands for an address wherever equality is all that is needed: the
 * email-claim stream (uniqueness, login), failed logins for unknown addresses, the keys of
 * invited addresses. Its key must never change (AUDIT_PSEUDONYM_KEY; derived from JWT_SECRET
 * when empty, fine for development only): a new key would orphan every claim.
 */
export function emailKeyFrom(config: Pick<Config, 'AUDIT_PSEUDONYM_KEY' | 'JWT_SECRET'>): EmailKey {
  const key = config.AUDIT_PSEUDONYM_KEY || createHmac('sha256', config.JWT_SECRET).update('ledgerline.audit.email-pseudonym').digest();
  return (email) => createHmac('sha256', key).update(normaliseEmail(email)).digest('hex');
}
