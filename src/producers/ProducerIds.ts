/**
 * Producer ids and epochs (Kafka's InitProducerId), kept in the log table under
 * pk "~producers" — a key no partition ("<topicId>#<partition>") can have, so
 * the produce function needs no grant beyond the table it already writes:
 *
 *   sk = -1            n      the last id handed out (ADD 1: an atomic counter)
 *   sk = <producerId>  epoch  its current epoch
 *
 * A fresh id is one ADD on the counter (no read, no retry under contention) and
 * one Put of its epoch. Re-initializing an id bumps its epoch (KIP-360), which
 * fences every batch of the older epoch at every partition; at the INT16 ceiling
 * a fresh id is handed out instead, as Kafka does.
 */
import { randomBytes } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ErrorCode, StrandError } from '../errors';
import { isConditionalCheckFailed } from '../storage/storageErrors';
import { producerEpochMax } from './producerState';

export const producersPartitionKey = '~producers';
const counterSortKey = -1;

export interface ProducerIdAndEpoch {
  producerId: number;
  producerEpoch: number;
}

export class ProducerIds {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async allocate(now: number): Promise<ProducerIdAndEpoch> {
    const out = await this.ddb.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: producersPartitionKey, sk: counterSortKey },
        UpdateExpression: 'ADD n :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    // Ids start at 0, as Kafka's do.
    const producerId = Number(out.Attributes?.n) - 1;
    if (!Number.isSafeInteger(producerId) || producerId < 0) throw new Error(`Producer id counter returned ${String(out.Attributes?.n)}.`);
    await this.ddb.send(
      new PutCommand({ TableName: this.table, Item: { pk: producersPartitionKey, sk: producerId, epoch: 0, createdAt: now } }),
    );
    return { producerId, producerEpoch: 0 };
  }

  /**
   * Bumps the epoch of an existing id. With `expectedEpoch`, only if that is still
   * its epoch (a zombie re-initializing is fenced: 40926). Unknown ids are 40002.
   */
  async bumpEpoch(producerId: number, expectedEpoch: number | undefined, now: number): Promise<ProducerIdAndEpoch> {
    // `ADD epoch` is not idempotent: when the SDK retries a bump whose reply was
    // lost, the retry fails the `epoch = :expected` its own first attempt made
    // false. Each bump writes a token of its own, and a refused bump that finds
    // its token won (the current epoch is the one it made).
    const token = randomBytes(8).toString('hex');
    try {
      const out = await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: producersPartitionKey, sk: producerId },
          UpdateExpression: 'ADD epoch :one SET bumpedAt = :now, bumpToken = :token',
          ConditionExpression: `attribute_exists(epoch) AND epoch < :max${expectedEpoch === undefined ? '' : ' AND epoch = :expected'}`,
          ExpressionAttributeValues: {
            ':one': 1,
            ':now': now,
            ':max': producerEpochMax,
            ':token': token,
            ...(expectedEpoch === undefined ? {} : { ':expected': expectedEpoch }),
          },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { producerId, producerEpoch: Number(out.Attributes?.epoch) + 1 };
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
    // Refused: find out why with a consistent read (dynalite returns no ALL_OLD).
    const item = await this.readItem(producerId);
    if (item?.bumpToken === token) return { producerId, producerEpoch: Number(item.epoch) };
    const current = item ? Number(item.epoch) : undefined;
    if (current === undefined) throw new StrandError(ErrorCode.InvalidValue, `Producer id ${producerId} was never handed out; omit it to get a fresh one.`);
    if (current >= producerEpochMax) return this.allocate(now);
    throw new StrandError(ErrorCode.ProducerFenced, `Producer ${producerId} is at epoch ${current}, not ${String(expectedEpoch)}; it was initialized again elsewhere.`);
  }

  private async readItem(producerId: number): Promise<Record<string, unknown> | undefined> {
    const out = await this.ddb.send(
      new GetCommand({ TableName: this.table, Key: { pk: producersPartitionKey, sk: producerId }, ConsistentRead: true }),
    );
    return out.Item;
  }
}
