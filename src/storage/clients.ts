import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { enforceDynamoDbLimits } from './dynamoDbLimits';

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
 * worst reaches the client as a retriable 503.
 */
export const storageConnectTimeoutMs = 3_000;
export const storageRequestTimeoutMs = 10_000;

/**
 * Builds the SDK clients. With an endpoint (emulators, LocalStack) S3 uses path-style
 * addressing, and flexible checksums are only sent when an operation requires them,
 * because emulators do not understand aws-chunked uploads.
 */
export function createClients(options: ClientOptions = {}): StorageClients {
  const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL;
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const common = {
    region,
    ...(endpoint ? { endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    requestHandler: { connectionTimeout: storageConnectTimeoutMs, requestTimeout: storageRequestTimeoutMs },
  };
  const s3 = new S3Client({
    ...common,
    ...(endpoint
      ? { forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
      : {}),
  });
  const dynamodb = new DynamoDBClient(common);
  if (options.enforceLimits ?? Boolean(endpoint)) enforceDynamoDbLimits(dynamodb);
  const ddb = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  return { s3, dynamodb, ddb };
}
