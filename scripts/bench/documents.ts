// Documents for the benchmarks, uploaded through the command API as a client would.
import { randomBytes } from 'node:crypto';
import type { Stack } from './stack.ts';

export function multipart(
  fields: Record<string, string>,
  file: { filename: string; data: Buffer; contentType?: string },
): { body: Buffer; contentType: string } {
  const boundary = `----bench${randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  parts.push(
    Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${file.filename}"\r\ncontent-type: ${file.contentType ?? 'application/octet-stream'}\r\n\r\n`,
    ),
  );
  parts.push(file.data, Buffer.from(`\r\n--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

export async function uploadDocument(
  stack: Stack,
  token: string,
  tenantId: string,
  fields: Record<string, string>,
  file: { filename: string; data: Buffer; contentType?: string },
): Promise<{ id: string; position: number }> {
  const { body, contentType } = multipart(fields, file);
  const response = await fetch(`${stack.commandUrl}/api/tenants/${tenantId}/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body,
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`upload: ${response.status} ${text}`);
  return JSON.parse(text) as { id: string; position: number };
}

export function uploadSmall(stack: Stack, token: string, tenantId: string, title: string): Promise<{ id: string; position: number }> {
  return uploadDocument(
    stack,
    token,
    tenantId,
    { title, tags: 'bench,q3' },
    { filename: `${title}.pdf`, data: Buffer.from(`%PDF-1.4\n${title} ${randomBytes(8).toString('hex')}\n%%EOF\n`) },
  );
}
