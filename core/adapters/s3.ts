import { S3Client, HeadBucketCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import type { Config } from './config.ts';
import type { S3Credentials } from './live-secrets.ts';

export type S3Clients = {
  /** Talks to S3 over the internal endpoint. */
  internal: S3Client;
  /** Signs URLs for the public endpoint: the host is part of a SigV4 signature, so it cannot be rewritten later. */
  publicSigner: S3Client;
  bucket: string;
  keyPrefix: string;
  /**
   * How an uploaded part's bytes are protected on their way to S3. `signed`: the part's SHA-256
   * is the signed payload hash (SigV4), so nobody on the network can change the bytes. `crc32`:
   * the payload is UNSIGNED-PAYLOAD and the part carries an x-amz-checksum-crc32 that S3
   * verifies (the header itself is signed): for endpoints where the transport already rules out
   * tampering, TLS or the loopback interface, as AWS's own SDKs do over HTTPS. It saves a
   * SHA-256 pass over every byte in this process and another in S3.
   */
  partIntegrity: 'signed' | 'crc32';
};

/** Plain HTTP to another host is the one transport where the body's own signature matters. */
export function partIntegrityFor(endpoint: string): S3Clients['partIntegrity'] {
  const { protocol, hostname } = new URL(endpoint);
  const loopback = hostname === 'localhost' || hostname === '[::1]' || /^127\./.test(hostname);
  return protocol === 'https:' || loopback ? 'crc32' : 'signed';
}

/**
 * `credentials` is asked again before every request (a near expiry tells the SDK not to cache it),
 * so a key rotated in Vault is used from the next request on.
 */
export function createS3Clients(
  config: Pick<Config, 'S3_ENDPOINT' | 'S3_PUBLIC_URL' | 'S3_REGION' | 'S3_ACCESS_KEY_ID' | 'S3_SECRET_ACCESS_KEY' | 'S3_BUCKET' | 'S3_KEY_PREFIX'>,
  credentials?: () => S3Credentials,
): S3Clients {
  const common = {
    region: config.S3_REGION,
    forcePathStyle: true,
    credentials: credentials
      ? async () => ({ ...credentials(), expiration: new Date(Date.now() + 1000) })
      : { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY },
    // MinIO and S3 both accept these; skip the SDK's optional CRC trailers on plain PUTs.
    requestChecksumCalculation: 'WHEN_REQUIRED' as const,
    responseChecksumValidation: 'WHEN_REQUIRED' as const,
  };
  return {
    internal: new S3Client({ ...common, endpoint: config.S3_ENDPOINT }),
    publicSigner: new S3Client({ ...common, endpoint: config.S3_PUBLIC_URL }),
    bucket: config.S3_BUCKET,
    keyPrefix: config.S3_KEY_PREFIX,
    partIntegrity: partIntegrityFor(config.S3_ENDPOINT),
  };
}

export async function checkBucket(s3: S3Clients): Promise<void> {
  await s3.internal.send(new HeadBucketCommand({ Bucket: s3.bucket }));
}

/** Creates the (private) bucket if it does not exist: used by dev set-up and tests. */
export async function ensureBucket(s3: S3Clients): Promise<void> {
  try {
    await checkBucket(s3);
  } catch {
    await s3.internal.send(new CreateBucketCommand({ Bucket: s3.bucket })).catch((err: Error) => {
      if (err.name !== 'BucketAlreadyOwnedByYou') throw err;
    });
  }
}
