/**
 * The local stand-in for DynamoDB Streams on the log table, which dynalite
 * does not have: after every write the engine makes to a partition head
 * (sk = -1), it reads the head and hands the notifier a stream record with
 * that NEW_IMAGE, as the event source mapping would (src/notify/notifier.ts).
 *
 * Like the real stream it is asynchronous (the write's caller never waits for
 * it), ordered per partition, and delivers every change at least once; unlike
 * it, a record carries the head as read when it is delivered, which may
 * already include later writes (the notifier coalesces per partition anyway,
 * so it would do the same with every intermediate image). Delivery is retried
 * with backoff, as Lambda retries a failed batch.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { headSortKey } from '../src/log/PartitionIndex';

/** Records one delivery carries at most (the event source mapping's batch size in infra/strand.ts). */
export const streamBatchSizeMax = 100;
/** Deliveries of one batch before it is dropped (the mapping's retry attempts). */
export const deliveryAttemptsMax = 4;

// The document client's commands reach the stack under the low-level names; both are listed to be safe.
const writeCommands = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'PutCommand', 'UpdateCommand', 'DeleteCommand']);

export interface LogStream {
  /** Resolves when every change seen so far was delivered (tests, shutdown). */
  drained(): Promise<void>;
  close(): Promise<void>;
  stats(): { deliveries: number; records: number };
}

/**
 * `writer` is the client the engine writes with (a middleware on it sees each
 * write); `reader` reads heads for the records, outside any request's deadline.
 */
export function attachLogStream(
  writer: DynamoDBClient,
  reader: DynamoDBClient,
  logTable: string,
  deliver: (records: DynamoDBRecord[]) => Promise<unknown>,
  onError: (err: unknown) => void,
): LogStream {
  const pending = new Set<string>();
  let wake: (() => void) | undefined;
  let closed = false;
  let idle: Promise<void> = Promise.resolve();
  let markIdle: (() => void) | undefined;
  const counts = { deliveries: 0, records: 0 };

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (writer.middlewareStack as any).add(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    (next: (args: any) => Promise<any>, context: { commandName?: string }) => async (args: any) => {
      const out = await next(args);
      const input = args.input as { TableName?: string; Key?: Record<string, { S?: string; N?: string }>; Item?: Record<string, { S?: string; N?: string }> };
      if (!closed && writeCommands.has(context.commandName ?? '') && input.TableName === logTable) {
        const key = input.Key ?? input.Item;
        if (key?.sk?.N === String(headSortKey) && key.pk?.S !== undefined) changed(key.pk.S);
      }
      return out;
    },
    // build: after the document client marshalled the input (as src/storage/dynamoDbLimits.ts), outside the retries.
    { step: 'build', name: 'strandLocalLogStream' },
  );

  const changed = (pk: string) => {
    if (pending.size === 0 && !markIdle) idle = new Promise<void>((r) => (markIdle = r));
    pending.add(pk);
    wake?.();
  };

  const pump = async () => {
    while (!closed) {
      if (pending.size === 0) {
        markIdle?.();
        markIdle = undefined;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
        continue;
      }
      const keys = [...pending].slice(0, streamBatchSizeMax);
      for (const k of keys) pending.delete(k);
      try {
        const records: DynamoDBRecord[] = [];
        for (const pk of keys) {
          const out = await reader.send(new GetItemCommand({ TableName: logTable, Key: { pk: { S: pk }, sk: { N: String(headSortKey) } }, ConsistentRead: true }));
          if (!out.Item) continue;
          records.push({ eventName: 'MODIFY', eventSource: 'aws:dynamodb', dynamodb: { Keys: { pk: { S: pk }, sk: { N: String(headSortKey) } }, NewImage: out.Item as never, StreamViewType: 'NEW_IMAGE' } });
        }
        if (records.length > 0) await deliverWithRetries(records);
      } catch (err) {
        onError(err);
      }
    }
    markIdle?.();
  };

  const deliverWithRetries = async (records: DynamoDBRecord[]) => {
    for (let attempt = 1; ; attempt++) {
      try {
        counts.deliveries++;
        counts.records += records.length;
        await deliver(records);
        return;
      } catch (err) {
        if (attempt >= deliveryAttemptsMax || closed) throw err;
        await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      }
    }
  };

  const running = pump();
  return {
    drained: () => idle,
    stats: () => ({ ...counts }),
    close: async () => {
      closed = true;
      wake?.();
      await running;
    },
  };
}
