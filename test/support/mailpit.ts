// Reads the mail the system sent through Mailpit's own HTTP API (scripts/infra.sh runs Mailpit:
// SMTP 127.0.0.1:51025, API 127.0.0.1:58025). Tests use unique recipient addresses, so searching
// by recipient isolates a test from the mail every other test sends to the same Mailpit.
import { eventually } from './harness.ts';

export const MAILPIT_URL = process.env.MAILPIT_URL ?? 'http://127.0.0.1:58025';

export type MailSummary = { ID: string; MessageID: string; Subject: string; To: { Address: string; Name: string }[]; From: { Address: string } };
export type MailMessage = MailSummary & { Text: string; HTML: string };

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(`${MAILPIT_URL}${path}`);
  if (!response.ok) throw new Error(`Mailpit ${path}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** Every message Mailpit holds for this recipient (newest first). */
export async function mailTo(address: string): Promise<MailSummary[]> {
  const answer = await getJson<{ messages: MailSummary[] }>(`/api/v1/search?limit=200&query=${encodeURIComponent(`to:"${address}"`)}`);
  return answer.messages.filter((m) => m.To.some((to) => to.Address.toLowerCase() === address.toLowerCase()));
}

/** One whole message: headers, plain text and HTML. */
export async function readMail(id: string): Promise<MailMessage> {
  return getJson<MailMessage>(`/api/v1/message/${encodeURIComponent(id)}`);
}

/** Waits until `count` messages (at least) reached `address`, and returns them in full. */
export async function waitForMail(address: string, count = 1, timeoutMs = 30_000): Promise<MailMessage[]> {
  const found = await eventually(
    async () => {
      const messages = await mailTo(address);
      return messages.length >= count ? messages : undefined;
    },
    { timeoutMs, intervalMs: 200 },
  );
  return Promise.all(found.map((m) => readMail(m.ID)));
}
