// Baseline for the read benchmarks: bare Fastify in a process of its own, answering one path with
// a JSON body given on stdin, from memory (what the query API would cost with no work at all).
import Fastify from 'fastify';

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const body = JSON.parse(Buffer.concat(chunks).toString()) as unknown;
const app = Fastify();
app.get('/*', async () => body);
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.stdout.write(`${(app.server.address() as { port: number }).port}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
