/**
 * Key schemas of Strand's DynamoDB tables, shared by the CDK stack and the local
 * runtime so both create the same tables.
 */
import type { TableNames } from '../config/env';

export type KeyType = 'S' | 'N';
export interface KeyAttribute {
  name: string;
  type: KeyType;
}
export interface TableSchema {
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  /** An attribute holding an expiry time in epoch seconds, for DynamoDB TTL (AWS only; the emulator ignores it). */
  timeToLiveAttribute?: string;
}

export const tableSchemas: Record<keyof TableNames, TableSchema> = {
  // pk = topic name
  topics: { partitionKey: { name: 'pk', type: 'S' } },
  // pk = "<topicId>#<partition>"; sk = -1 for the partition head, else the base
  // offset of a spilled index chunk.
  // `ttl` is set only on a deleted topic's tombstone heads (PartitionIndex.deletePartition).
  log: { partitionKey: { name: 'pk', type: 'S' }, sortKey: { name: 'sk', type: 'N' }, timeToLiveAttribute: 'ttl' },
  // pk = "<topicId>#<partition>" for a partition's leader lease; trigger leases
  // (src/triggers/triggerLeases.ts) have keys of their own and a `ttl` a day past
  // their last write, so an item a dispatcher left behind is removed by DynamoDB.
  // Partition leases never set `ttl`.
  leases: { partitionKey: { name: 'pk', type: 'S' }, timeToLiveAttribute: 'ttl' },
  // pk = group id: members, target assignment and committed offsets in one item,
  // so fenced commits are refused by single-item conditions (src/groups/GroupStore.ts).
  groups: { partitionKey: { name: 'pk', type: 'S' } },
  // pk = group id; sk = v2 consumer instance name. `ttl`: an instance nobody calls
  // again is deleted a while after its idle timeout (src/groups/ConsumerInstances.ts).
  consumers: { partitionKey: { name: 'pk', type: 'S' }, sortKey: { name: 'sk', type: 'S' }, timeToLiveAttribute: 'ttl' },
  // Schema registry: pk/sk strings; the item layout is in src/schemas/SchemaStore.ts.
  schemas: { partitionKey: { name: 'pk', type: 'S' }, sortKey: { name: 'sk', type: 'S' } },
  // pk = API key id (the public part of `strand_<id>_<secret>`); the secret only as its SHA-256.
  keys: { partitionKey: { name: 'pk', type: 'S' } },
  // Waiting consumers (src/notify/SubscriptionStore.ts): pk = "<topicId>#<partition>"
  // with sk = connection id for an armed watch; pk = "connection#<id>" with sk = "-"
  // for a notice connection. Every item expires (`ttl`) after a connection's
  // longest life, so nothing outlives a socket that vanished without $disconnect.
  subscriptions: { partitionKey: { name: 'pk', type: 'S' }, sortKey: { name: 'sk', type: 'S' }, timeToLiveAttribute: 'ttl' },
  // pk = trigger name: its topic, target (with the webhook secret), delivery settings
  // and state (src/triggers/TriggerStore.ts). Progress is not here: it is the
  // consumer group `trigger-<name>`'s committed offsets.
  triggers: { partitionKey: { name: 'pk', type: 'S' } },
};
