import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { enforceDynamoDbLimits } from './dynamoDbLimits';
import { currentDeadline, DeadlineExceededError } from '../config/deadline';

export interface StorageClients {
  s3: S3Client;
  /** The low-level client, for table administration. */
  dynamodb: DynamoDBClient;
  /** The document client the engine uses (native JS values). */
  ddb: DynamoDBDocumentClient;
}

export interface ClientOptions {
  /** An S3/DynamoDB-compatible endpoint (embedded emulators, LocalStack). Unset on AWS. */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Attempts per SDK call, first included (SDK default 3). */
  maxAttempts?: number;
  /**
   * Refuse, before sending, DynamoDB requests that break a documented limit the service
   * enforces (src/storage/dynamoDbLimits.ts). Default: on with an endpoint, where an emulator
   * may not enforce them (dynalite does not); off on AWS, which enforces them itself.
   */
  enforceLimits?: boolean;
}

/**
 * Bounds on one HTTP attempt to S3 or DynamoDB. Without them a hung call waits
 * for the Lambda timeout; with them it fails, is retried by the SDK, and at
 * worst reaches the client as a retriable 503. Three attempts of 10 s outlast
 * every function's timeout, so the request's deadline (below) cuts them shorter.
 */
export const storageConnectTimeoutMs = 3_000;
export const storageRequestTimeoutMs = 10_000;

/**
 * The least time left before the request's deadline for a storage attempt to
 * start. With less it cannot finish (a DynamoDB round trip alone takes
 * milliseconds, an S3 PUT of 4 MiB far more) and would only eat the margin the
 * handler keeps to answer, so it is refused unsent.
 */
export const storageAttemptMsMin = 100;

/**
 * S3's flexible checksums only where an operation requires one (DeleteObjects),
 * on AWS as against emulators (which do not understand aws-chunked uploads).
 * The SDK's default (WHEN_SUPPORTED) computes a CRC32 of every PUT body and
 * checks one over every whole-object GET of an object uploaded with a checksum
 * (a direct upload's commit reads up to 64 MiB): a second checksum pass over
 * bytes that Strand checks itself. Every batch carries its CRC-32C, checked
 * before it is stored (validateBinaryBatches) and by every consumer or decode
 * after it is read; a direct upload's bytes are also bound to the SHA-256 its
 * presigned URL signs, which S3 checks on the PUT. The transfer itself is
 * under TLS on AWS.
 */
export const s3ChecksumOptions = { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } as const;

/**
 * Builds the SDK clients. With an endpoint (emulators, LocalStack) S3 uses
 * path-style addressing. Flexible checksums: s3ChecksumOptions.
 */
export function createClients(options: ClientOptions = {}): StorageClients {
  const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL;
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const common = {
    region,
    ...(endpoint ? { endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    // throwOnRequestTimeout: without it the SDK's HTTP handler only logs a warning
    // when requestTimeout passes and keeps waiting.
    requestHandler: { connectionTimeout: storageConnectTimeoutMs, requestTimeout: storageRequestTimeoutMs, throwOnRequestTimeout: true },
  };
  const s3 = new S3Client({
    ...common,
    ...s3ChecksumOptions,
    ...(endpoint ? { forcePathStyle: true } : {}),
  });
  const dynamodb = new DynamoDBClient(common);
  if (options.enforceLimits ?? Boolean(endpoint)) enforceDynamoDbLimits(dynamodb);
  stopAtDeadline(s3);
  stopAtDeadline(dynamodb);
  const ddb = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  return { s3, dynamodb, ddb };
}

/**
 * Ends every storage attempt by the deadline of the request it serves
 * (src/config/deadline.ts): an attempt that cannot start in time is refused
 * unsent, and one still running at the deadline is abandoned. Both fail with an
 * AbortError, which the SDK does not retry and storageErrors classifies as
 * transient, so the client gets 503/50301 with Retry-After before the function
 * times out. Work with no deadline (maintenance, tests calling the engine) is
 * untouched.
 *
 * The middleware sits in finalizeRequest after the SDK's retry middleware, so
 * it sees each attempt, and before anything added later (fault injection), so a
 * stall anywhere below it is cut too. An abandoned attempt's socket is closed by
 * storageRequestTimeoutMs at the latest.
 */
function stopAtDeadline(client: S3Client | DynamoDBClient): void {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (client.middlewareStack as any).add(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    (next: (args: any) => Promise<any>) => async (args: any) => {
      const deadline = currentDeadline();
      if (!deadline) return next(args);
      const leftMs = deadline.at - Date.now();
      if (leftMs < storageAttemptMsMin) {
        throw new DeadlineExceededError(`A storage attempt was not started: ${Math.max(0, leftMs)} ms were left before the request's deadline.`);
      }
      const attempt = next(args);
      let stop: () => void = () => {};
      const stopped = new Promise<never>((_, reject) => {
        const abort = () => reject(new DeadlineExceededError('A storage attempt was still running at the request\'s deadline.'));
        if (deadline.signal.aborted) return abort();
        deadline.signal.addEventListener('abort', abort, { once: true });
        stop = () => deadline.signal.removeEventListener('abort', abort);
      });
      // The abandoned attempt may still fail later: nothing waits for it then.
      attempt.catch(() => {});
      try {
        return await Promise.race([attempt, stopped]);
      } finally {
        stop();
      }
    },
    { step: 'finalizeRequest', name: 'strandDeadline' },
  );
}
