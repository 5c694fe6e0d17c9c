// Uploads: 64 MiB through the command API (multipart, hashed while streamed to S3) against a
// multipart upload of the same bytes straight to MinIO; and the command API's RSS growth.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { tenantFor, type Stack } from './stack.ts';
import { multipart } from './documents.ts';
import type { BenchResult } from './result.ts';
import { measureCpu } from './cpu.ts';

const SIZE = 64 * 1024 * 1024;
const PART = 8 * 1024 * 1024;
const ROUNDS = 3;

function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

export async function benchUpload(stack: Stack): Promise<BenchResult[]> {
  const { token, tenantId } = await tenantFor(stack, 'bench-upload');
  const pid = stack.pids['command-api']!;
  let direct = 0;
  let api = 0;
  let undeclared = 0;
  let apiCpu: Record<string, number> = {};
  let directCpu: Record<string, number> = {};
  // Warm-up: the first uploads load and compile the code of both upload paths (tens of MiB of
  // RSS that stay whatever comes next); growth is measured from there.
  const warm = randomBytes(12 * 1024 * 1024);
  for (const headers of [{ 'x-content-md5': createHash('md5').update(warm).digest('hex') }, {}]) {
    const { body, contentType } = multipart({ title: 'warm-up' }, { filename: 'warm-up.bin', data: warm });
    const response = await fetch(`${stack.commandUrl}/api/tenants/${tenantId}/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType, ...headers },
      body,
    });
    if (response.status !== 201) throw new Error(`warm-up upload: ${response.status} ${await response.text()}`);
  }
  const rssBefore = rssMiB(pid);
  let rssPeak = rssBefore;
  for (let round = 0; round < ROUNDS; round++) {
    const data = randomBytes(SIZE);
    const directMeter = measureCpu(stack.pids);
    const directRate = await directMultipart(stack, data);
    if (directRate > direct) [direct, directCpu] = [directRate, directMeter.stop()];
    const declaredBody = multipart({ title: `big-${round}` }, { filename: `big-${round}.bin`, data });
    const plainBody = multipart({ title: `big-${round}b` }, { filename: `big-${round}b.bin`, data: randomBytes(SIZE) });
    // The client declares the file's MD5 (as S3 clients send Content-MD5): the parts stream
    // straight to the final key. Without it the API stages the parts and copies them once.
    const md5 = createHash('md5').update(data).digest('hex');
    for (const declared of [true, false]) {
      const sampler = setInterval(() => {
        rssPeak = Math.max(rssPeak, rssMiB(pid));
      }, 20);
      const { body, contentType } = declared ? declaredBody : plainBody;
      const meter = measureCpu(stack.pids);
      const started = performance.now();
      const response = await post(`${stack.commandUrl}/api/tenants/${tenantId}/documents`, body, {
        authorization: `Bearer ${token}`,
        'content-type': contentType,
        ...(declared ? { 'x-content-md5': md5 } : {}),
      });
      const seconds = (performance.now() - started) / 1000;
      clearInterval(sampler);
      if (response.status !== 201) throw new Error(`upload: ${response.status} ${response.text}`);
      const shares = meter.stop();
      if (declared && SIZE / 1e6 / seconds > api) [api, apiCpu] = [SIZE / 1e6 / seconds, shares];
      else undeclared = Math.max(undeclared, SIZE / 1e6 / seconds);
    }
  }
  return [
    {
      name: 'upload',
      what: '64 MiB upload through the command API, X-Content-MD5 declared (best of 3)',
      value: api,
      unit: 'MB/s',
      baseline: { what: 'multipart upload of the same bytes straight to MinIO (8 MiB parts, 4 at once)', value: direct, unit: 'MB/s' },
      ratio: api / direct,
      goal: '≥ 0.8, RSS growth < 64 MiB',
      details: {
        undeclaredMBps: Math.round(undeclared * 10) / 10,
        rssBeforeMiB: Math.round(rssBefore),
        rssPeakMiB: Math.round(rssPeak),
        rssGrowthMiB: Math.round(rssPeak - rssBefore),
      },
      cpu: apiCpu,
      baselineCpu: directCpu,
    },
  ];
}

/**
 * POSTs a body with node:http, as the AWS SDK sends the baseline's parts: the timing is the API's,
 * not a client library's (fetch spent 170-370 ms on a 64 MiB body before the API saw its headers).
 */
function post(url: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function directMultipart(stack: Stack, data: Buffer): Promise<number> {
  const { s3 } = stack;
  const key = `${stack.config.S3_KEY_PREFIX}bench/direct-${randomBytes(4).toString('hex')}`;
  const started = performance.now();
  const { UploadId } = await s3.internal.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: key }));
  try {
    const parts: { ETag: string; PartNumber: number }[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let index = next++; index * PART < data.length; index = next++) {
          const body = data.subarray(index * PART, Math.min(data.length, (index + 1) * PART));
          const answer = await s3.internal.send(
            new UploadPartCommand({ Bucket: s3.bucket, Key: key, UploadId, PartNumber: index + 1, Body: body, ContentLength: body.length }),
          );
          parts[index] = { ETag: answer.ETag ?? '', PartNumber: index + 1 };
        }
      }),
    );
    await s3.internal.send(new CompleteMultipartUploadCommand({ Bucket: s3.bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
  } catch (err) {
    await s3.internal.send(new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: key, UploadId })).catch(() => {});
    throw err;
  }
  const seconds = (performance.now() - started) / 1000;
  await s3.internal.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key }));
  return data.length / 1e6 / seconds;
}
