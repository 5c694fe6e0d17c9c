// A real HTTP receiver on 127.0.0.1 for the webhook tests: records every request and answers as
// the test says (a status, a hang until the sender gives up, or nothing at all while closed).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

type Teardown = { teardown: (fn: () => Promise<void> | void) => void };

export type Received = { id: string; timestamp: string; signature: string; body: string; json: any; at: number; headers: http.IncomingHttpHeaders };
/** A status to answer with, or 'hang': accept the request and never answer. */
export type Behaviour = (request: Received, index: number) => number | 'hang';

export type Receiver = {
  url: string;
  port: number;
  received: Received[];
  behave: (behaviour: Behaviour) => void;
  /** Stops listening (connections are refused) until `open` is called again on the same port. */
  close: () => Promise<void>;
  open: () => Promise<void>;
};

export async function startReceiver(t: Teardown, behaviour: Behaviour = () => 200, path = '/hook'): Promise<Receiver> {
  const received: Received[] = [];
  let current = behaviour;
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const entry: Received = {
        id: String(request.headers['webhook-id']),
        timestamp: String(request.headers['webhook-timestamp']),
        signature: String(request.headers['webhook-signature']),
        body,
        json: JSON.parse(body),
        at: performance.now(),
        headers: request.headers,
      };
      received.push(entry);
      const answer = current(entry, received.length - 1);
      if (answer === 'hang') {
        hanging.add(response);
        return;
      }
      response.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'thanks' : `nope ${'x'.repeat(3000)}`);
    });
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  const close = async () => {
    for (const response of hanging) response.destroy();
    hanging.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  t.teardown(async () => {
    if (server.listening) await close();
  });
  return {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    received,
    behave: (b) => {
      current = b;
    },
    close,
    open: () => listen(port),
  };
}

/** Verifies one request from the receiver's side with the standardwebhooks library (throws if it does not). */
export function verify(secret: string, request: Received): unknown {
  return new Webhook(secret).verify(request.body, {
    'webhook-id': request.id,
    'webhook-timestamp': request.timestamp,
    'webhook-signature': request.signature,
  });
}
