/**
 * Record batch objects in S3. A produce request becomes one object under a fresh
 * unique key; offsets are assigned afterwards, at commit. Keys:
 *   topics/<topicId>/<objectId>
 * Object ids start with the write time in base 36, so a listing is in write order
 * and the orphan sweep (objects never committed) can tell their age from the key.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

export class ObjectTooLargeError extends Error {
  constructor(key: string, size: number, max: number) {
    super(`Object ${key} is ${size} bytes; at most ${max} are read.`);
  }
}

/** A body shorter than S3 said it was: a network fault, retriable (503 to clients, never a 4xx or 500). */
function shortRead(what: string): Error {
  return Object.assign(new Error(`Short read of ${what}.`), { name: 'ShortReadError', $retryable: {} });
}

/** S3 DeleteObjects takes at most 1000 keys. */
const deleteKeysPerRequestMax = 1000;

export { newObjectId, objectTime } from './objectId';

export const topicsPrefix = 'topics/';

export function topicPrefix(topicId: string): string {
  return `topics/${topicId}/`;
}

export function objectKey(topicId: string, objectId: string): string {
  return topicPrefix(topicId) + objectId;
}

/**
 * A Buffer over the same memory as `bytes`: Buffer.from(uint8Array) would copy
 * every GET body once more. The body is ours alone (the read path patches base
 * offsets into it in place).
 */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export class ObjectStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async put(key: string, body: Buffer): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.length, ContentType: 'application/vnd.kafka.record-batch.v2' }),
    );
  }

  /** Bytes [start, start + length) of an object: one ranged GET. */
  async getRange(key: string, start: number, length: number): Promise<Buffer> {
    const out = await this.s3.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${start}-${start + length - 1}` }),
    );
    const bytes = asBuffer(await out.Body!.transformToByteArray());
    if (bytes.length !== length) throw shortRead(`s3://${this.bucket}/${key}: wanted ${length} bytes at ${start}, got ${bytes.length}`);
    return bytes;
  }

  /** A whole object, refusing one larger than `bytesMax`; undefined when there is none. */
  async getWhole(key: string, bytesMax: number): Promise<Buffer | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if ((out.ContentLength ?? 0) > bytesMax) {
        out.Body?.transformToByteArray().catch(() => undefined);
        throw new ObjectTooLargeError(key, out.ContentLength ?? 0, bytesMax);
      }
      const bytes = asBuffer(await out.Body!.transformToByteArray());
      // A body cut short (a dropped connection) must not pass for a short object.
      if (out.ContentLength !== undefined && bytes.length !== out.ContentLength) {
        throw shortRead(`s3://${this.bucket}/${key}: ${out.ContentLength} bytes, got ${bytes.length}`);
      }
      return bytes;
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  /**
   * A URL that lets its holder PUT exactly this object: its length and SHA-256
   * are signed, so S3 refuses other bytes (the direct-to-S3 produce path).
   */
  presignPut(key: string, size: number, sha256Base64: string, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(
      this.s3,
      new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentLength: size, ChecksumSHA256: sha256Base64, ContentType: 'application/vnd.kafka.record-batch.v2' }),
      { expiresIn: expiresInSeconds, unhoistableHeaders: new Set(['x-amz-checksum-sha256']), signableHeaders: new Set(['content-length', 'content-type']) },
    );
  }

  /** A URL to GET an object (any byte range of it, with a Range header) for a while. */
  presignGet(key: string, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: expiresInSeconds });
  }

  /** Keys under a prefix, in key order, up to `keysMax`. */
  async list(prefix: string, keysMax = 100_000): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: deleteKeysPerRequestMax }),
      );
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token && keys.length < keysMax);
    return keys;
  }

  /** The "folders" directly under a prefix (e.g. topic ids under topics/). */
  async listPrefixes(prefix: string): Promise<string[]> {
    const prefixes: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }),
      );
      prefixes.push(...(page.CommonPrefixes ?? []).map((p) => p.Prefix!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return prefixes;
  }

  async deleteKeys(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += deleteKeysPerRequestMax) {
      const slice = keys.slice(i, i + deleteKeysPerRequestMax).map((Key) => ({ Key }));
      await this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: slice, Quiet: true } }));
    }
  }

  /** Deletes every object under a prefix (topic deletion). */
  async deletePrefix(prefix: string): Promise<number> {
    let deleted = 0;
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: deleteKeysPerRequestMax }),
      );
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length > 0) {
        await this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }));
        deleted += keys.length;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return deleted;
  }
}
