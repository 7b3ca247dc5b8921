/**
 * Triggers in DynamoDB (the `triggers` table): one item per trigger, pk = name.
 *
 *   item => pk, topicName, target (the webhook secret included: the API never
 *           returns it), settings, state, createdAt, updatedAt
 *
 * A trigger's progress is not here but in its consumer group (`trigger-<name>`),
 * so a PATCH never races a delivery's commit.
 */
import { isDeepStrictEqual } from 'node:util';
import { DeleteCommand, GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ErrorCode, StrandError } from '../errors';
import { isConditionalCheckFailed } from '../storage/storageErrors';
import type { Trigger } from './triggerSpec';

/** Triggers a cluster may have: every list is one bounded Scan of this small table. */
export const triggersMax = 1_000;

export const unknownTrigger = (name: string) => new StrandError(ErrorCode.UnknownTrigger, `Trigger '${name}' not found.`);
export const triggerExists = (name: string) => new StrandError(ErrorCode.TriggerExists, `Trigger '${name}' already exists.`);

interface TriggerItem extends Omit<Trigger, 'name'> {
  pk: string;
}

const toItem = ({ name, ...rest }: Trigger): TriggerItem => ({ pk: name, ...rest });
const fromItem = ({ pk, ...rest }: TriggerItem): Trigger => ({ name: pk, ...rest });

export class TriggerStore {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Stores a new trigger; 40904 when the name is taken. */
  async create(trigger: Trigger): Promise<void> {
    if ((await this.list()).length >= triggersMax) {
      throw new StrandError(ErrorCode.InvalidValue, `A cluster may have at most ${triggersMax} triggers.`);
    }
    try {
      await this.ddb.send(new PutCommand({ TableName: this.table, Item: toItem(trigger), ConditionExpression: 'attribute_not_exists(pk)' }));
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      // The SDK retries a Put whose reply was lost: if the item is the one this call wrote, it applied.
      if (!(await this.holds(trigger))) throw triggerExists(trigger.name);
    }
  }

  /** Whether the stored trigger is exactly `trigger` (read consistently): a conditional write refused because it already applied. */
  private async holds(trigger: Trigger): Promise<boolean> {
    const stored = await this.find(trigger.name);
    return stored !== undefined && isDeepStrictEqual(toItem(stored), toItem(trigger));
  }

  async find(name: string): Promise<Trigger | undefined> {
    const out = await this.ddb.send(new GetCommand({ TableName: this.table, Key: { pk: name }, ConsistentRead: true }));
    return out.Item ? fromItem(out.Item as TriggerItem) : undefined;
  }

  async get(name: string): Promise<Trigger> {
    const t = await this.find(name);
    if (!t) throw unknownTrigger(name);
    return t;
  }

  /**
   * Replaces a trigger that still exists and was not changed since it was read
   * (`updatedAt` is the version): a PATCH racing a DELETE or another PATCH
   * never resurrects or overwrites.
   */
  async replace(previous: Trigger, next: Trigger): Promise<void> {
    try {
      await this.ddb.send(
        new PutCommand({
          TableName: this.table,
          Item: toItem(next),
          ConditionExpression: 'attribute_exists(pk) AND updatedAt = :u',
          ExpressionAttributeValues: { ':u': previous.updatedAt },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      // As in create: a retried Put that already applied finds its own item.
      if (!(await this.holds(next))) {
        throw new StrandError(ErrorCode.InvalidValue, `Trigger '${previous.name}' changed while this request ran; read it again and retry.`);
      }
    }
  }

  /** Every trigger, by name; at most triggersMax. */
  async list(): Promise<Trigger[]> {
    const out: Trigger[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.ddb.send(new ScanCommand({ TableName: this.table, ExclusiveStartKey: start, ConsistentRead: true }));
      for (const item of (page.Items ?? []) as TriggerItem[]) out.push(fromItem(item));
      start = page.LastEvaluatedKey;
    } while (start && out.length < triggersMax);
    return out.sort((a, b) => a.name.localeCompare(b.name)).slice(0, triggersMax);
  }

  /** Removes a trigger; 40407 when there is none. */
  async delete(name: string): Promise<void> {
    try {
      await this.ddb.send(new DeleteCommand({ TableName: this.table, Key: { pk: name }, ConditionExpression: 'attribute_exists(pk)' }));
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw unknownTrigger(name);
      throw err;
    }
  }
}
