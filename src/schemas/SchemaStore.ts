/**
 * The registry's items in its DynamoDB table (pk, sk: both strings). Every write
 * is one single-item atomic or conditional write (design.md: no transactions):
 *
 *   pk = "~ids"            sk = "~"            n            last schema id handed out (ADD 1: an atomic counter)
 *   pk = "id#<id>"         sk = "~"            schema, schemaType, fp, refs   the schema text of a global id (refs: its references, JSON)
 *   pk = "fp#<sha256>"     sk = "~"            id           which id a schema text has (put once, if absent)
 *   pk = "subjects"        sk = <subject>                   the subjects that have (or had) versions
 *   pk = "s#<subject>"     sk = "v#<version>"  id, fp, deleted   one version of a subject (put once, if absent)
 *   pk = "config"          sk = "~global" | "s#<subject>"   compatibility
 *   pk = "mode"            sk = "~global" | "s#<subject>"   mode (READWRITE, READONLY, READONLY_OVERRIDE)
 *   pk = "rb#<subject>"    sk = "v#<version>#v#<referrer version>#<referrer subject>"   id
 *                          a version that references version <version> of <subject> ("referenced by")
 *
 * Write order, so readers never follow a pointer to nothing: an id's schema item
 * is written before its fingerprint item points at it. A subject's entry in
 * "subjects" is written before its first version and again after every version
 * (addSubject is idempotent), so a version is never left unlisted by a permanent
 * delete racing the registration; readers skip a listed subject with no versions.
 * A "referenced by" item is written before the referring version, and readers
 * keep only those whose referring version exists, is live and has that id: an
 * item left by a registration that lost its version number is ignored.
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { conditionally } from '../storage/storageErrors';
import type { CompatibilityLevel } from './compatibility';
import type { SchemaReference } from './references';
import type { SchemaType } from './schemaTypes';

/** Versions one subject may have; Query pages are read up to this many items. */
export const versionsPerSubjectMax = 10_000;
/** Subjects the registry lists. */
export const subjectsMax = 100_000;
/** "Referenced by" items read for one version. */
export const referrersMax = 10_000;

const one = '~';
const versionKey = (v: number) => `v#${String(v).padStart(10, '0')}`;

export interface StoredSchema {
  id: number;
  schema: string;
  schemaType: SchemaType;
  fingerprint: string;
  references: SchemaReference[];
}

/** A version that references another: what a "referenced by" item records. */
export interface Referrer {
  subject: string;
  version: number;
  id: number;
}

export interface StoredVersion {
  subject: string;
  version: number;
  id: number;
  fingerprint: string;
  deleted: boolean;
}

export class SchemaStore {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async allocateId(): Promise<number> {
    const out = await this.ddb.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: '~ids', sk: one },
        UpdateExpression: 'ADD n :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const id = Number(out.Attributes?.n);
    if (!Number.isSafeInteger(id) || id < 1) throw new Error(`Schema id counter returned ${String(out.Attributes?.n)}.`);
    return id;
  }

  async putSchema(s: StoredSchema, now: number): Promise<void> {
    await this.ddb.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: `id#${s.id}`,
          sk: one,
          schema: s.schema,
          schemaType: s.schemaType,
          fp: s.fingerprint,
          ...(s.references.length > 0 ? { refs: JSON.stringify(s.references) } : {}),
          createdAt: now,
        },
      }),
    );
  }

  async getSchema(id: number): Promise<StoredSchema | undefined> {
    const out = await this.ddb.send(new GetCommand({ TableName: this.table, Key: { pk: `id#${id}`, sk: one } }));
    const item = out.Item;
    if (!item) return undefined;
    const references = typeof item.refs === 'string' ? (JSON.parse(item.refs) as SchemaReference[]) : [];
    return { id, schema: String(item.schema), schemaType: (item.schemaType ?? 'AVRO') as SchemaType, fingerprint: String(item.fp), references };
  }

  async idOfFingerprint(fingerprint: string): Promise<number | undefined> {
    const out = await this.ddb.send(
      new GetCommand({ TableName: this.table, Key: { pk: `fp#${fingerprint}`, sk: one }, ConsistentRead: true }),
    );
    return out.Item ? Number(out.Item.id) : undefined;
  }

  /**
   * Points a fingerprint at `id` unless it already points somewhere; returns the
   * id it points at afterwards. Two registrations of one new schema race here:
   * both allocated an id, one put wins, and the loser adopts the winner's id (its
   * own id stays unused, as ids need not be dense).
   */
  async claimFingerprint(fingerprint: string, id: number): Promise<number> {
    const claimed = await conditionally(
      this.ddb.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `fp#${fingerprint}`, sk: one, id },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    if (claimed) return id;
    const winner = await this.idOfFingerprint(fingerprint);
    if (winner === undefined) throw new Error(`Fingerprint ${fingerprint} was claimed but cannot be read.`);
    return winner;
  }

  /** Every version of a subject, soft-deleted ones included, oldest first. */
  async versions(subject: string): Promise<StoredVersion[]> {
    const out: StoredVersion[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.ddb.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `s#${subject}` },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        out.push({ subject, version: Number(item.version), id: Number(item.id), fingerprint: String(item.fp), deleted: item.deleted === true });
      }
      start = page.LastEvaluatedKey;
    } while (start && out.length < versionsPerSubjectMax);
    return out.sort((a, b) => a.version - b.version);
  }

  /** Adds a version if that number is still free; false when another registration took it first. */
  async putVersion(v: StoredVersion, now: number): Promise<boolean> {
    return conditionally(
      this.ddb.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `s#${v.subject}`, sk: versionKey(v.version), version: v.version, id: v.id, fp: v.fingerprint, deleted: false, createdAt: now },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  /** Soft delete; false when the version is gone or already soft-deleted. */
  async markDeleted(subject: string, version: number, now: number): Promise<boolean> {
    return conditionally(
      this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `s#${subject}`, sk: versionKey(version) },
          UpdateExpression: 'SET deleted = :t, deletedAt = :now',
          ConditionExpression: 'attribute_exists(pk) AND deleted = :f',
          ExpressionAttributeValues: { ':t': true, ':f': false, ':now': now },
        }),
      ),
    );
  }

  /** Permanent delete, only of a soft-deleted version. */
  async removeVersion(subject: string, version: number): Promise<boolean> {
    return conditionally(
      this.ddb.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: `s#${subject}`, sk: versionKey(version) },
          ConditionExpression: 'deleted = :t',
          ExpressionAttributeValues: { ':t': true },
        }),
      ),
    );
  }

  async addSubject(subject: string, now: number): Promise<void> {
    await this.ddb.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: 'subjects', sk: subject },
        UpdateExpression: 'SET createdAt = if_not_exists(createdAt, :now)',
        ExpressionAttributeValues: { ':now': now },
      }),
    );
  }

  async removeSubject(subject: string): Promise<void> {
    await this.ddb.send(new DeleteCommand({ TableName: this.table, Key: { pk: 'subjects', sk: subject } }));
  }

  async subjectNames(): Promise<string[]> {
    const out: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.ddb.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': 'subjects' },
          ProjectionExpression: 'sk',
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) out.push(String(item.sk));
      start = page.LastEvaluatedKey;
    } while (start && out.length < subjectsMax);
    return out;
  }

  /** Records that `referrer` references version `version` of `subject` (idempotent). */
  async putReferrer(subject: string, version: number, referrer: Referrer, now: number): Promise<void> {
    await this.ddb.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: `rb#${subject}`, sk: `${versionKey(version)}#${versionKey(referrer.version)}#${referrer.subject}`, subject: referrer.subject, version: referrer.version, id: referrer.id, createdAt: now },
      }),
    );
  }

  /** Every recorded referrer of one version (the caller checks each still exists). */
  async referrers(subject: string, version: number): Promise<Referrer[]> {
    const out: Referrer[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.ddb.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :v)',
          ExpressionAttributeValues: { ':pk': `rb#${subject}`, ':v': `${versionKey(version)}#` },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) out.push({ subject: String(item.subject), version: Number(item.version), id: Number(item.id) });
      start = page.LastEvaluatedKey;
    } while (start && out.length < referrersMax);
    return out;
  }

  /** The mode set for a subject, or globally (subject undefined). */
  async getMode(subject: string | undefined): Promise<string | undefined> {
    const out = await this.ddb.send(new GetCommand({ TableName: this.table, Key: { pk: 'mode', sk: subject === undefined ? '~global' : `s#${subject}` }, ConsistentRead: true }));
    return out.Item?.mode as string | undefined;
  }

  async setMode(subject: string | undefined, mode: string, now: number): Promise<void> {
    await this.ddb.send(new PutCommand({ TableName: this.table, Item: { pk: 'mode', sk: subject === undefined ? '~global' : `s#${subject}`, mode, updatedAt: now } }));
  }

  /** Removes a mode; returns the one it had. */
  async deleteMode(subject: string | undefined): Promise<string | undefined> {
    const out = await this.ddb.send(
      new DeleteCommand({ TableName: this.table, Key: { pk: 'mode', sk: subject === undefined ? '~global' : `s#${subject}` }, ReturnValues: 'ALL_OLD' }),
    );
    return out.Attributes?.mode as string | undefined;
  }

  /** The compatibility level set for a subject, or globally (subject undefined). */
  async getCompatibility(subject: string | undefined): Promise<CompatibilityLevel | undefined> {
    const out = await this.ddb.send(
      new GetCommand({ TableName: this.table, Key: { pk: 'config', sk: subject === undefined ? '~global' : `s#${subject}` }, ConsistentRead: true }),
    );
    return out.Item?.compatibility as CompatibilityLevel | undefined;
  }

  async setCompatibility(subject: string | undefined, level: CompatibilityLevel, now: number): Promise<void> {
    await this.ddb.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: 'config', sk: subject === undefined ? '~global' : `s#${subject}`, compatibility: level, updatedAt: now },
      }),
    );
  }

  /** Removes a level; returns the one it had. */
  async deleteCompatibility(subject: string | undefined): Promise<CompatibilityLevel | undefined> {
    const out = await this.ddb.send(
      new DeleteCommand({
        TableName: this.table,
        Key: { pk: 'config', sk: subject === undefined ? '~global' : `s#${subject}` },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return out.Attributes?.compatibility as CompatibilityLevel | undefined;
  }
}
