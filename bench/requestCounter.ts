/**
 * Counts S3 and DynamoDB requests with middleware on the SDK clients: counts,
 * not guesses. DynamoDB requests are also asked for their consumed capacity
 * (ReturnConsumedCapacity: TOTAL), so write and read units are measured too.
 */
import type { StorageClients } from '../src/storage/clients';

export interface RequestCounts {
  dynamodb: number;
  dynamodbWriteUnits: number;
  dynamodbReadUnits: number;
  s3Puts: number;
  s3Gets: number;
  s3Other: number;
  reset(): void;
}

const capacityCommands = new Set([
  'GetItemCommand', 'PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'QueryCommand', 'ScanCommand',
  'BatchWriteItemCommand', 'BatchGetItemCommand',
]);
const writeCommands = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand']);

type Capacity = { CapacityUnits?: number } | { CapacityUnits?: number }[] | undefined;

export function countRequests(clients: StorageClients): RequestCounts {
  const counts: RequestCounts = {
    dynamodb: 0,
    dynamodbWriteUnits: 0,
    dynamodbReadUnits: 0,
    s3Puts: 0,
    s3Gets: 0,
    s3Other: 0,
    reset() {
      this.dynamodb = this.dynamodbWriteUnits = this.dynamodbReadUnits = this.s3Puts = this.s3Gets = this.s3Other = 0;
    },
  };
  clients.dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      counts.dynamodb++;
      const command = context.commandName ?? '';
      const input = args.input as Record<string, unknown>;
      if (capacityCommands.has(command)) input.ReturnConsumedCapacity ??= 'TOTAL';
      const result = await next(args);
      const capacity = (result.output as { ConsumedCapacity?: Capacity }).ConsumedCapacity;
      const units = (Array.isArray(capacity) ? capacity : capacity ? [capacity] : []).reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
      if (writeCommands.has(command)) counts.dynamodbWriteUnits += units;
      else counts.dynamodbReadUnits += units;
      return result;
    },
    { step: 'initialize', name: 'strandCountDynamoDb' },
  );
  clients.s3.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      // Presigning runs the same stack but sends nothing: the client's request on the URL is what S3 bills.
      if ((result.output as { presigned?: unknown }).presigned !== undefined) return result;
      const command = context.commandName;
      if (command === 'PutObjectCommand') counts.s3Puts++;
      else if (command === 'GetObjectCommand') counts.s3Gets++;
      else counts.s3Other++;
      return result;
    },
    { step: 'initialize', name: 'strandCountS3' },
  );
  return counts;
}

export interface StorageTiming {
  s3Ms: number;
  dynamodbMs: number;
  reset(): void;
  snapshot(): { s3Ms: number; dynamodbMs: number };
}

/** Wall time spent inside S3 and DynamoDB calls (the emulators' share of a request). */
export function timeStorageCalls(clients: StorageClients): StorageTiming {
  const timing: StorageTiming = {
    s3Ms: 0,
    dynamodbMs: 0,
    reset() {
      this.s3Ms = this.dynamodbMs = 0;
    },
    snapshot() {
      return { s3Ms: this.s3Ms, dynamodbMs: this.dynamodbMs };
    },
  };
  const wrap = (add: (ms: number) => void) => (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
    const t0 = performance.now();
    try {
      return await next(args);
    } finally {
      add(performance.now() - t0);
    }
  };
  clients.s3.middlewareStack.add(wrap((ms) => (timing.s3Ms += ms)) as never, { step: 'initialize', name: 'strandTimeS3' });
  clients.dynamodb.middlewareStack.add(wrap((ms) => (timing.dynamodbMs += ms)) as never, { step: 'initialize', name: 'strandTimeDynamoDb' });
  return timing;
}
