/**
 * BatchWriteItem for any number of writes: 25 per request (DynamoDB's limit),
 * unprocessed items sent again with backoff, a bounded number of times. Every
 * write in a batch is a plain put or delete of a whole item, so sending one
 * again after it applied changes nothing.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** DynamoDB's BatchWriteItem limit. */
export const writesPerBatchMax = 25;
/** Rounds one batch's unprocessed items get before the call fails (backoff 100 ms … 6.4 s). */
export const unprocessedRoundsMax = 8;

export type BatchWrite = { PutRequest: { Item: Record<string, unknown> } } | { DeleteRequest: { Key: Record<string, unknown> } };

export async function batchWriteAll(ddb: DynamoDBDocumentClient, table: string, writes: readonly BatchWrite[]): Promise<void> {
  for (let i = 0; i < writes.length; i += writesPerBatchMax) {
    let requests = writes.slice(i, i + writesPerBatchMax);
    for (let round = 0; requests.length > 0; round++) {
      if (round >= unprocessedRoundsMax) throw new Error(`BatchWriteItem left ${requests.length} writes unprocessed in ${table}.`);
      if (round > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** round));
      const out = await ddb.send(new BatchWriteCommand({ RequestItems: { [table]: [...requests] } }));
      requests = (out.UnprocessedItems?.[table] ?? []) as BatchWrite[];
    }
  }
}
