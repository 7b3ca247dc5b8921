/**
 * What each Lambda function may do, and how big it is. This file is the only
 * place a new function needs an edit: `functionAccess` is keyed by every
 * `FunctionName` of src/api/routes.ts, so adding a name there fails the type
 * check here until its grants are written down. Everything else (the function,
 * its routes, its alarms and dashboard row) follows from the route table.
 * The notice socket's two functions are keyed here too (`NoticeFunctionName`),
 * though no HTTP route names them.
 *
 * Grants are exact IAM actions, never wildcards, scoped to Strand's own bucket
 * and tables, so least privilege can be asserted on the synthesized template
 * (infra/strand.test.ts).
 */
import type { TableNames } from '../src/config/env';
import type { FunctionName } from '../src/api/routes';

/**
 * The notice socket's functions (src/notify/). They are not `FunctionName`s:
 * that type names what src/api/routes.ts routes and src/api/dispatch.ts
 * dispatches, and no HTTP route reaches these two. The WebSocket API invokes
 * `notices` (functions/notices.ts); the log table's stream invokes `notifier`
 * (functions/notifier.ts). They exist only where the construct creates the
 * notice socket (`StrandProps.noticeSocket`).
 */
export const noticeFunctionNames = ['notices', 'notifier'] as const;
export type NoticeFunctionName = (typeof noticeFunctionNames)[number];
/**
 * The trigger dispatcher (src/triggers/lambda.ts, functions/triggers.ts):
 * invoked by the log table's stream and an EventBridge schedule, never by a
 * route. It exists unless `StrandProps.triggers` is false.
 */
export const triggerFunctionNames = ['triggers'] as const;
export type TriggerFunctionName = (typeof triggerFunctionNames)[number];
/** Every function the construct can deploy. */
export type StrandFunctionName = FunctionName | NoticeFunctionName | TriggerFunctionName;

/** `read`: GetItem/BatchGetItem/Query/Scan. `readWrite`: also PutItem/UpdateItem/DeleteItem/BatchWriteItem. */
export type TableAccess = 'read' | 'readWrite';

export interface FunctionAccess {
  /** Object-level S3 actions on the data bucket. */
  objects: ReadonlyArray<'get' | 'put' | 'delete'>;
  /** s3:ListBucket on the data bucket (lists a prefix; also turns GetObject on a missing key into 404, not 403). */
  list?: boolean;
  /** DynamoDB access per table; a table not named here is not accessible at all. */
  tables: Partial<Record<keyof TableNames, TableAccess>>;
  /**
   * `execute-api:ManageConnections` on the notice socket's stage, for POST
   * (PostToConnection) only: sends notices down WebSocket connections.
   */
  postToConnections?: boolean;
  /**
   * `execute-api:Invoke` on the notice socket's $connect (IAM deployments): its
   * plain-HTTP long polls wait on a doorbell, a socket connection of their own
   * signed with the function's role (src/notify/doorbell.ts).
   */
  connectsToNoticeSocket?: boolean;
  /** Reads the log table's stream (DescribeStream, GetShardIterator, GetRecords, ListStreams), on that stream only: the function's event source. */
  logStream?: boolean;
}

/**
 * The grants each function needs (design.md, issue 3). Every function behind a
 * route reads the keys table: with API keys on (STRAND_AUTH=keys) each request's
 * key is looked up there (src/auth/); only admin writes it.
 *
 * - admin: the topic catalog, and on topic deletion the topic's index, leases
 *   and objects; the only API function that deletes data.
 * - produce: writes one new object per request (never overwrites or deletes),
 *   reads the topic, appends to the partition head and spills index entries
 *   under the partition lease. It reads objects only to validate a direct
 *   upload before committing it (src/api/uploads.ts); it signs the upload URLs,
 *   so they carry its PutObject permission.
 * - fetch: reads only. No S3 write or delete and no DynamoDB write, so a bug in
 *   the read path cannot change the log.
 */
export const functionAccess: Record<StrandFunctionName, FunctionAccess> = {
  admin: {
    objects: ['get', 'put', 'delete'],
    list: true,
    // keys: read/write, it serves the api-keys endpoint (src/api/apiKeys.ts).
    // triggers and groups: read/write, it serves the triggers endpoint, whose create
    // commits the trigger's starting position to its group (src/api/triggers.ts).
    tables: { topics: 'readWrite', log: 'readWrite', leases: 'readWrite', keys: 'readWrite', triggers: 'readWrite', groups: 'readWrite' },
  },
  produce: {
    objects: ['get', 'put'],
    // schemas: read to resolve schema ids and versions and for broker-side validation (src/schemas/recordSchemas.ts);
    // write, because an inline schema in a produce request is registered under its subject, as REST Proxy does.
    tables: { topics: 'read', log: 'readWrite', leases: 'readWrite', schemas: 'readWrite', keys: 'read' },
  },
  fetch: {
    objects: ['get'],
    // schemas: read, to decode embedded_format=avro.
    tables: { topics: 'read', log: 'read', schemas: 'read', keys: 'read' },
    connectsToNoticeSocket: true,
  },
  // groups: the coordinator writes the groups and consumer-instance tables; it
  // reads topics, partition bounds and (for v2 consumer records) batches.
  // groups: a heartbeat that changes what other members must do nudges those
  // listening on the notice socket (src/groups/GroupService.ts), when there is one.
  groups: {
    objects: ['get'],
    // subscriptions: a heartbeat naming a notice connection records the member on it (so its closing ends the session).
    tables: { topics: 'read', log: 'read', groups: 'readWrite', consumers: 'readWrite', keys: 'read', subscriptions: 'readWrite' },
    postToConnections: true,
    // REST Proxy v2 records?timeout= waits on a doorbell, as fetch's long polls do.
    connectsToNoticeSocket: true,
  },
  // maintenance: retention, compaction and merging read and rewrite objects and
  // the index under partition leases, the sweep lists and deletes objects, and
  // expired group members are removed so their partitions move on.
  maintenance: {
    objects: ['get', 'put', 'delete'],
    list: true,
    tables: { topics: 'read', log: 'readWrite', leases: 'readWrite', groups: 'readWrite' },
  },
  // schemas: the schema registry (Confluent Schema Registry API); its own table only.
  schemas: {
    objects: [],
    tables: { schemas: 'readWrite', keys: 'read' },
  },
  // notices: the notice socket's routes. It records connections and watches
  // (subscriptions), resolves the watched topics (topics) and reads their
  // partition heads (log) so that a watch its partition already passed fires at
  // once, which is also why it posts to connections; with API keys it checks the
  // key at $connect and on each subscribe (keys). It never reads records: no S3.
  notices: {
    objects: [],
    // groups: $disconnect of a member's connection brings its session back to one timeout (src/notify/socketHandlers.ts).
    tables: { subscriptions: 'readWrite', topics: 'read', log: 'read', keys: 'read', groups: 'readWrite' },
    postToConnections: true,
  },
  // notifier: the stream hands it each moved head, so it reads neither the log
  // nor the topics table; it looks up the partition's watches, posts the
  // notices and disarms them (subscriptions). No S3.
  notifier: {
    objects: [],
    tables: { subscriptions: 'readWrite' },
    postToConnections: true,
    logStream: true,
  },
  // triggers: the dispatcher. It reads the trigger list (triggers), the topics
  // and partition heads (topics, log) and the batches it delivers (objects get),
  // commits each trigger's progress (groups), and holds a lease per (trigger,
  // partition) (leases). Dead letters are appended as produce appends: a new
  // object (objects put), the dead-letter partition's head and index entries
  // (log), spilled under the partition lease (leases). It never deletes. Its
  // event source is the log table's stream; lambda:InvokeFunction is granted
  // only on the functions attached to it (Strand.attachFunction).
  triggers: {
    objects: ['get', 'put'],
    tables: { triggers: 'read', topics: 'read', log: 'readWrite', leases: 'readWrite', groups: 'readWrite' },
    logStream: true,
  },
};

export const s3ObjectActions = {
  get: ['s3:GetObject'],
  put: ['s3:PutObject'],
  // DeleteObjects (the batch API) is authorized by s3:DeleteObject per key.
  delete: ['s3:DeleteObject'],
} as const;

export const dynamoActions: Record<TableAccess, readonly string[]> = {
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan'],
  // No TransactWriteItems: correctness relies on single-item atomic writes only (design.md).
  readWrite: [
    'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan',
    'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem',
  ],
};

/** Every DynamoDB action that changes data, for the read-only assertions in tests. */
export const dynamoWriteActions = dynamoActions.readWrite.filter((a) => !dynamoActions.read.includes(a));

export interface FunctionSizing {
  memoryMiB: number;
}

/**
 * Memory. Lambda gives CPU in proportion to memory (1,769 MiB is one vCPU), and
 * the hot paths are CPU-bound on up to 4 MiB per request (CRC-32C, RecordBatch
 * encode/decode, base64 and JSON), so produce and fetch get 1 GiB: roughly 0.6
 * vCPU, where a 4 MiB request still takes well under a second of compute.
 * Admin is mostly small DynamoDB calls. Timeouts are in one table that the
 * local gateway enforces too: src/config/functionTimeouts.ts.
 */
export const functionSizing: Partial<Record<StrandFunctionName, FunctionSizing>> = {
  admin: { memoryMiB: 512 },
  produce: { memoryMiB: 1024 },
  fetch: { memoryMiB: 1024 },
  // notices: a few small DynamoDB calls per message; nothing CPU-bound.
  notices: { memoryMiB: 256 },
  // notifier: one query and up to thousands of small posts per moved partition,
  // many in flight; more CPU than notices keeps a burst of notices quick.
  notifier: { memoryMiB: 512 },
  // triggers: mostly waiting on targets and storage; 512 MiB still builds a
  // 6 MB event (base64 and JSON) in well under a second.
  triggers: { memoryMiB: 512 },
};

/**
 * Lambda timeouts of the notice socket's functions, in seconds. (The other
 * functions' are in src/config/functionTimeouts.ts, keyed by the route table's
 * FunctionName, which these two are not.)
 * - notices: a subscribe of at most 100 watches (protocol.ts) reads their
 *   heads 16 at a time, well under a second; 10 s leaves room for the SDK's
 *   retries and stays far inside API Gateway's 29 s WebSocket integration timeout.
 * - notifier: one stream batch (at most 100 records) posts to every watcher of
 *   each moved partition, up to 10,000 per partition; a batch that times out is
 *   retried (notices are at least once), so the timeout bounds the work of one try.
 */
export const noticeFunctionTimeoutSeconds: Readonly<Record<NoticeFunctionName, number>> = {
  notices: 10,
  notifier: 60,
};

/**
 * The dispatcher's Lambda timeout, in seconds. A run ends 10 s before it
 * (src/triggers/lambda.ts) and starts no batch in its last 5 s, so one
 * delivery may take up to about 100 s (a target slower than that always fails:
 * delivery timeouts are min(60 s, what is left)). A stream batch holds its
 * shard while it runs, so the dispatcher drains for at most this long and the
 * next batch (or the minute's rescan) carries on.
 */
export const triggerFunctionTimeoutSeconds = 120;

/** Sizing for a function this table does not name yet. */
export const defaultSizing = {
  routed: { memoryMiB: 1024 },
  /** Not behind API Gateway (scheduled work such as maintenance). */
  unrouted: { memoryMiB: 1024 },
} as const satisfies Record<string, FunctionSizing>;
