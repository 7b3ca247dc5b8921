/**
 * API keys in DynamoDB (the `keys` table), and the lookup every request makes
 * when STRAND_AUTH=keys.
 *
 *   key   => "strand_" id "_" secret      id: 16 hex digits (public, the item's pk)
 *                                          secret: 32 base64url characters (192 random bits)
 *   item  => pk = id, hash = hex SHA-256 of the whole key, name, permissions (text form), createdAt, revokedAt?
 *
 * The secret is never stored: a stolen table gives no usable key. A fast hash is
 * enough (no bcrypt): the secret is 192 random bits, not a password to guess.
 * Hashes are compared in constant time.
 *
 * Lookups are cached per process for `keyCacheTtlMs` (one GetItem per key per
 * Lambda container every 10 s, not one per request). A revocation clears this
 * process's entry at once; other containers stop accepting the key within the TTL.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../clock';
import { ErrorCode, StrandError } from '../errors';
import { isConditionalCheckFailed } from '../storage/storageErrors';
import { formatPermission, parsePermission, type Permission } from './permissions';

export const apiKeyPrefix = 'strand';
const keyPattern = /^strand_([0-9a-f]{16})_([A-Za-z0-9_-]{32})$/;

/** How long a looked-up key (or its absence) is trusted by one process. */
export const keyCacheTtlMs = 10_000;
/** Cached keys per process; the cache is emptied when it would grow past this. */
export const keyCacheEntriesMax = 10_000;
/** Keys one list request returns (a Scan of the small keys table, bounded). */
export const keysListedMax = 10_000;
/** A bootstrap admin key shorter than this is ignored (and a warning logged). */
export const bootstrapKeyCharsMin = 16;

export interface ApiKey {
  id: string;
  name: string;
  permissions: Permission[];
  createdAt: number;
  revokedAt?: number;
}

interface KeyItem {
  pk: string;
  hash: string;
  name: string;
  permissions: string[];
  createdAt: number;
  revokedAt?: number;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The key id of a well-formed key, else undefined. */
export function apiKeyId(key: string): string | undefined {
  return keyPattern.exec(key)?.[1];
}

export function generateApiKey(): { id: string; key: string } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(24).toString('base64url');
  return { id, key: `${apiKeyPrefix}_${id}_${secret}` };
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

function fromItem(item: KeyItem): ApiKey {
  return {
    id: item.pk,
    name: item.name,
    permissions: item.permissions.map(parsePermission),
    createdAt: item.createdAt,
    ...(item.revokedAt !== undefined ? { revokedAt: item.revokedAt } : {}),
  };
}

export const unknownApiKey = (id: string) => new StrandError(ErrorCode.UnknownApiKey, `API key '${id}' not found.`);

/** What a presented key turned out to be. */
export type KeyLookup = { ok: true; key: ApiKey } | { ok: false; reason: 'invalid' | 'revoked'; id?: string };

export class ApiKeyStore {
  private readonly cache = new Map<string, { item: KeyItem | undefined; expiresAt: number }>();

  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly clock: Clock,
  ) {}

  async create(name: string, permissions: Permission[]): Promise<{ apiKey: ApiKey; key: string }> {
    const { id, key } = generateApiKey();
    const item: KeyItem = { pk: id, hash: hashApiKey(key), name, permissions: permissions.map(formatPermission), createdAt: this.clock.now() };
    // 64 random bits of id: a collision is not expected, but never overwrite a key.
    await this.ddb.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    this.cache.delete(id);
    return { apiKey: fromItem(item), key };
  }

  async list(): Promise<ApiKey[]> {
    const out: ApiKey[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.ddb.send(new ScanCommand({ TableName: this.table, ExclusiveStartKey: start, ConsistentRead: true }));
      for (const item of (page.Items ?? []) as KeyItem[]) out.push(fromItem(item));
      start = page.LastEvaluatedKey;
    } while (start && out.length < keysListedMax);
    return out.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id)).slice(0, keysListedMax);
  }

  async get(id: string): Promise<ApiKey> {
    const item = await this.read(id);
    if (!item) throw unknownApiKey(id);
    return fromItem(item);
  }

  /** Marks the key revoked (kept for audit, never accepted again). Revoking twice keeps the first time. */
  async revoke(id: string): Promise<ApiKey> {
    try {
      const out = await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: id },
          UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :now)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':now': this.clock.now() },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(out.Attributes as KeyItem);
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw unknownApiKey(id);
      throw err;
    } finally {
      this.cache.delete(id);
    }
  }

  /** Checks a presented key: well-formed, stored, same hash, not revoked. */
  async lookup(key: string): Promise<KeyLookup> {
    const id = apiKeyId(key);
    if (id === undefined) return { ok: false, reason: 'invalid' };
    const item = await this.cachedRead(id);
    if (!item || !sameHash(item.hash, hashApiKey(key))) return { ok: false, reason: 'invalid' };
    if (item.revokedAt !== undefined) return { ok: false, reason: 'revoked', id };
    return { ok: true, key: fromItem(item) };
  }

  /**
   * A stored key by id, through the same cache as lookup (a revocation takes
   * effect within keyCacheTtlMs, as for every request): the notice socket
   * checks each subscribe against the key its connection authenticated with.
   */
  async byIdCached(id: string): Promise<ApiKey | undefined> {
    const item = await this.cachedRead(id);
    return item ? fromItem(item) : undefined;
  }

  private async cachedRead(id: string): Promise<KeyItem | undefined> {
    const now = this.clock.now();
    const hit = this.cache.get(id);
    if (hit && hit.expiresAt > now) return hit.item;
    const item = await this.read(id);
    if (this.cache.size >= keyCacheEntriesMax) this.cache.clear();
    this.cache.set(id, { item, expiresAt: now + keyCacheTtlMs });
    return item;
  }

  private async read(id: string): Promise<KeyItem | undefined> {
    const out = await this.ddb.send(new GetCommand({ TableName: this.table, Key: { pk: id } }));
    return out.Item as KeyItem | undefined;
  }
}
