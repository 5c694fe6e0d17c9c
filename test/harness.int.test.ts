// Proves the test harness and the local services are real: a row, a Kafka message, an S3
// object, a pre-signed URL the S3 server honours, and a tampered one it refuses.
import t from 'tap';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createTestContext } from './support/harness.ts';
import { sql } from '../core/adapters/db.ts';

const ctx = await createTestContext(t);

t.test('PostgreSQL: a row written is read back from the test database', async (t) => {
  await ctx.pool.query(sql.unsafe`create table harness_probe (id int primary key, note text)`);
  await ctx.pool.query(sql.unsafe`insert into harness_probe values (1, 'hello')`);
  t.equal(await ctx.pool.oneFirst(sql.unsafe`select note from harness_probe where id = 1`), 'hello');
  const name = await ctx.pool.oneFirst(sql.unsafe`select current_database()`);
  t.match(String(name), /^ll_t/, 'each test file has its own main database');
});

t.test('Kafka: a message produced is consumed from the prefixed topic', async (t) => {
  const producer = await ctx.eventLog.createProducer();
  const value = JSON.stringify({ probe: ctx.id });
  await producer.publish(ctx.topics.platform, [{ key: 'k', value, headers: { probe: 'yes' } }]);
  await producer.close();
  const received = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message within 20 s')), 20_000);
    void ctx.eventLog.subscribe({
      groupId: `${ctx.id}.probe`,
      topics: [ctx.topics.platform],
      onCrash: reject,
      onBatch: async (batch) => {
        const message = batch.messages[0];
        if (message?.value) {
          clearTimeout(timer);
          resolve(message.value);
        }
      },
    });
  });
  t.equal(received, value);
  t.match(ctx.topics.platform, new RegExp(`^${ctx.id}\\.`), 'topics carry the test prefix');
});

t.test('S3: an object written is read back; pre-signed URLs are checked by the server', async (t) => {
  const key = `${ctx.config.S3_KEY_PREFIX}probe.txt`;
  await ctx.s3.internal.send(new PutObjectCommand({ Bucket: ctx.s3.bucket, Key: key, Body: 'probe body' }));
  const got = await ctx.s3.internal.send(new GetObjectCommand({ Bucket: ctx.s3.bucket, Key: key }));
  t.equal(await got.Body?.transformToString(), 'probe body');

  const url = await getSignedUrl(ctx.s3.publicSigner, new GetObjectCommand({ Bucket: ctx.s3.bucket, Key: key }), { expiresIn: 60 });
  const ok = await fetch(url);
  t.equal(ok.status, 200, 'a pre-signed GET works without credentials');
  t.equal(await ok.text(), 'probe body');

  const tampered = new URL(url);
  const signature = tampered.searchParams.get('X-Amz-Signature') ?? '';
  tampered.searchParams.set(
    'X-Amz-Signature',
    signature.replace(/^./, (c) => (c === '0' ? '1' : '0')),
  );
  const refused = await fetch(tampered);
  t.equal(refused.status, 403, 'a tampered signature is refused by the S3 server');
  t.match(await refused.text(), /SignatureDoesNotMatch/);

  const unsigned = await fetch(`${ctx.config.S3_ENDPOINT}/${ctx.s3.bucket}/${key}`);
  t.equal(unsigned.status, 403, 'the bucket is private');
});
