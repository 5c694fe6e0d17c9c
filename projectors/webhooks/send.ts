import http from 'node:http';
import https from 'node:https';
import { guardedLookup, hostOf, refusedLiteral, type AddressClass } from '../../core/adapters/outbound-address.ts';

export const MAX_STORED_RESPONSE_BYTES = 1024;

export type SendOutcome = {
  ok: boolean;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  /** The first 1 KiB of the response body, decoded as UTF-8 (what the deliveries list shows). */
  responseBody: string | null;
};

export type Sender = {
  post: (url: string, headers: Record<string, string>, body: string, signal?: AbortSignal) => Promise<SendOutcome>;
  close: () => void;
};

/**
 * POSTs one webhook: the host's addresses are checked again at the connect (DNS may have changed
 * since the subscription), redirects are not followed (a 3xx is a failure), the whole exchange is
 * bounded by `timeoutMs`, and at most 1 KiB of the answer is read.
 */
export function createSender(options: { timeoutMs: number; allowed: ReadonlySet<AddressClass>; userAgent?: string }): Sender {
  const lookup = guardedLookup(options.allowed);
  const agents = {
    'http:': new http.Agent({ keepAlive: true, lookup } as http.AgentOptions),
    'https:': new https.Agent({ keepAlive: true, lookup } as https.AgentOptions),
  };

  async function post(url: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<SendOutcome> {
    const started = performance.now();
    const done = (outcome: Omit<SendOutcome, 'durationMs'>): SendOutcome => ({ ...outcome, durationMs: Math.round(performance.now() - started) });
    const target = new URL(url);
    const refused = refusedLiteral(hostOf(target), options.allowed);
    if (refused) return done({ ok: false, statusCode: null, error: refused.message, responseBody: null });
    const agent = target.protocol === 'https:' ? agents['https:'] : target.protocol === 'http:' ? agents['http:'] : null;
    if (!agent) return done({ ok: false, statusCode: null, error: `unsupported protocol ${target.protocol}`, responseBody: null });
    const transport = target.protocol === 'https:' ? https : http;
    const payload = Buffer.from(body);
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const abort = signal ? AbortSignal.any([timeout, signal]) : timeout;

    return new Promise<SendOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: Omit<SendOutcome, 'durationMs'>) => {
        if (settled) return;
        settled = true;
        resolve(done(outcome));
      };
      const request = transport.request(
        target,
        {
          method: 'POST',
          agent,
          lookup,
          signal: abort,
          headers: {
            ...headers,
            'content-type': 'application/json',
            'content-length': String(payload.length),
            'user-agent': options.userAgent ?? 'Ledgerline-Webhooks/1',
          },
        },
        (response) => {
          const statusCode = response.statusCode ?? 0;
          const chunks: Buffer[] = [];
          let size = 0;
          const settle = () =>
            finish({
              ok: statusCode >= 200 && statusCode < 300,
              statusCode,
              error:
                statusCode >= 200 && statusCode < 300
                  ? null
                  : statusCode >= 300 && statusCode < 400
                    ? `redirect to ${response.headers.location ?? '?'} not followed`
                    : `HTTP ${statusCode}`,
              responseBody: Buffer.concat(chunks).subarray(0, MAX_STORED_RESPONSE_BYTES).toString('utf8'),
            });
          response.on('data', (chunk: Buffer) => {
            chunks.push(chunk);
            size += chunk.length;
            // Enough kept: the rest is not read (a receiver streaming forever cannot hold a slot).
            if (size >= MAX_STORED_RESPONSE_BYTES) {
              settle();
              response.destroy();
            }
          });
          response.on('end', settle);
          response.on('error', settle);
          response.on('close', settle);
        },
      );
      request.on('error', (err: NodeJS.ErrnoException) => {
        const error = timeout.aborted
          ? `timed out after ${options.timeoutMs} ms`
          : signal?.aborted
            ? 'stopped'
            : `${err.code ? `${err.code}: ` : ''}${err.message}`;
        finish({ ok: false, statusCode: null, error, responseBody: null });
      });
      request.end(payload);
    });
  }

  return {
    post,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
