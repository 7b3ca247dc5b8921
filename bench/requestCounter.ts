/**
 * Counts S3 and DynamoDB requests with middleware on the SDK clients: counts,
 * not guesses. DynamoDB requests are also asked for their consumed capacity
 * (ReturnConsumedCapacity: TOTAL), so write and read units are measured too.
 * Each DynamoDB request and S3 GET is also tallied by table and by *activity*:
 * the HTTP request it serves, when given a way to tell (attributeRequests,
 * below), so the idle bench can say what a heartbeat costs apart from a fetch.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import type { StorageClients } from '../src/storage/clients';

/** DynamoDB requests (reads and writes) and the units they consumed. */
export interface TableCounts {
  reads: number;
  writes: number;
  readUnits: number;
  writeUnits: number;
}

/** Storage work tallied under one activity (an HTTP request's kind, or none). */
export interface ActivityCounts {
  /** By table name. */
  tables: Map<string, TableCounts>;
  s3Gets: number;
}

export interface RequestCounts {
  dynamodb: number;
  dynamodbWriteUnits: number;
  dynamodbReadUnits: number;
  /** Read requests (GetItem, Query, Scan, BatchGetItem), and write requests. */
  dynamodbReads: number;
  dynamodbWrites: number;
  /** By activity; '' holds work done outside any classified HTTP request. */
  byActivity: Map<string, ActivityCounts>;
  s3Puts: number;
  s3Gets: number;
  s3Other: number;
  reset(): void;
}

/** A copy of the counts at this moment (the counters keep counting). */
export type RequestCountsSnapshot = Omit<RequestCounts, 'reset'>;

const zeroTable = (): TableCounts => ({ reads: 0, writes: 0, readUnits: 0, writeUnits: 0 });

export function snapshotCounts(c: RequestCountsSnapshot): RequestCountsSnapshot {
  return {
    dynamodb: c.dynamodb,
    dynamodbWriteUnits: c.dynamodbWriteUnits,
    dynamodbReadUnits: c.dynamodbReadUnits,
    dynamodbReads: c.dynamodbReads,
    dynamodbWrites: c.dynamodbWrites,
    byActivity: new Map([...c.byActivity].map(([a, v]) => [a, { s3Gets: v.s3Gets, tables: new Map([...v.tables].map(([t, n]) => [t, { ...n }])) }])),
    s3Puts: c.s3Puts,
    s3Gets: c.s3Gets,
    s3Other: c.s3Other,
  };
}

/** What was counted between two snapshots. */
export function countsBetween(before: RequestCountsSnapshot, after: RequestCountsSnapshot): RequestCountsSnapshot {
  const byActivity = new Map<string, ActivityCounts>();
  for (const [activity, a] of after.byActivity) {
    const b = before.byActivity.get(activity);
    const tables = new Map<string, TableCounts>();
    for (const [t, n] of a.tables) {
      const o = b?.tables.get(t) ?? zeroTable();
      tables.set(t, { reads: n.reads - o.reads, writes: n.writes - o.writes, readUnits: n.readUnits - o.readUnits, writeUnits: n.writeUnits - o.writeUnits });
    }
    byActivity.set(activity, { tables, s3Gets: a.s3Gets - (b?.s3Gets ?? 0) });
  }
  return {
    dynamodb: after.dynamodb - before.dynamodb,
    dynamodbWriteUnits: after.dynamodbWriteUnits - before.dynamodbWriteUnits,
    dynamodbReadUnits: after.dynamodbReadUnits - before.dynamodbReadUnits,
    dynamodbReads: after.dynamodbReads - before.dynamodbReads,
    dynamodbWrites: after.dynamodbWrites - before.dynamodbWrites,
    byActivity,
    s3Puts: after.s3Puts - before.s3Puts,
    s3Gets: after.s3Gets - before.s3Gets,
    s3Other: after.s3Other - before.s3Other,
  };
}

/** Counts of one table summed over every activity. */
export function tableTotals(c: RequestCountsSnapshot, table: string): TableCounts {
  const sum = zeroTable();
  for (const a of c.byActivity.values()) {
    const n = a.tables.get(table);
    if (!n) continue;
    sum.reads += n.reads;
    sum.writes += n.writes;
    sum.readUnits += n.readUnits;
    sum.writeUnits += n.writeUnits;
  }
  return sum;
}

/**
 * Tells which HTTP request a storage call serves. Node's HTTP server publishes
 * 'http.server.request.start' (diagnostics_channel) synchronously before it
 * emits the request, so a store entered there is the async context the
 * gateway's handler runs in, and every storage call it makes sees it. Work
 * outside an HTTP request (the notice socket's routes over a WebSocket, whose
 * upgrade publishes nothing; the notifier fed by the log stream) sees none.
 * Only in this process: the gateway must run here.
 */
export function attributeRequests(classify: (method: string, path: string) => string): { activity(): string | undefined; stop(): void } {
  const storage = new AsyncLocalStorage<string>();
  const onStart = (message: unknown) => {
    const request = (message as { request: IncomingMessage }).request;
    storage.enterWith(classify((request.method ?? 'GET').toUpperCase(), new URL(request.url ?? '/', 'http://localhost').pathname));
  };
  subscribe('http.server.request.start', onStart);
  return { activity: () => storage.getStore(), stop: () => void unsubscribe('http.server.request.start', onStart) };
}

const capacityCommands = new Set([
  'GetItemCommand', 'PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'QueryCommand', 'ScanCommand',
  'BatchWriteItemCommand', 'BatchGetItemCommand',
]);
const writeCommands = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand']);

type Capacity = { CapacityUnits?: number; TableName?: string } | { CapacityUnits?: number; TableName?: string }[] | undefined;

/** Counters attached so far: each adds middleware under a name of its own. */
let countersAttached = 0;

export function countRequests(clients: StorageClients, options: { activity?: () => string | undefined } = {}): RequestCounts {
  const id = countersAttached++;
  const counts: RequestCounts = {
    dynamodb: 0,
    dynamodbWriteUnits: 0,
    dynamodbReadUnits: 0,
    dynamodbReads: 0,
    dynamodbWrites: 0,
    byActivity: new Map(),
    s3Puts: 0,
    s3Gets: 0,
    s3Other: 0,
    reset() {
      this.dynamodb = this.dynamodbWriteUnits = this.dynamodbReadUnits = this.dynamodbReads = this.dynamodbWrites = this.s3Puts = this.s3Gets = this.s3Other = 0;
      this.byActivity.clear();
    },
  };
  const activityCounts = (): ActivityCounts => {
    const key = options.activity?.() ?? '';
    let a = counts.byActivity.get(key);
    if (!a) counts.byActivity.set(key, (a = { tables: new Map(), s3Gets: 0 }));
    return a;
  };
  clients.dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      counts.dynamodb++;
      const command = context.commandName ?? '';
      const input = args.input as Record<string, unknown>;
      if (capacityCommands.has(command)) input.ReturnConsumedCapacity ??= 'TOTAL';
      const write = writeCommands.has(command);
      const tables = activityCounts().tables;
      const table = (name: string): TableCounts => {
        let t = tables.get(name);
        if (!t) tables.set(name, (t = zeroTable()));
        return t;
      };
      // The request's own table (a batch names its tables in RequestItems; its units say which consumed what).
      const requestTable = typeof input.TableName === 'string' ? input.TableName : Object.keys((input.RequestItems as object | undefined) ?? {})[0] ?? '?';
      // Control-plane calls (DescribeTable and the like) are counted in `dynamodb` only.
      if (write) {
        counts.dynamodbWrites++;
        table(requestTable).writes++;
      } else if (capacityCommands.has(command)) {
        counts.dynamodbReads++;
        table(requestTable).reads++;
      }
      const result = await next(args);
      const capacity = (result.output as { ConsumedCapacity?: Capacity }).ConsumedCapacity;
      for (const c of Array.isArray(capacity) ? capacity : capacity ? [capacity] : []) {
        const units = c.CapacityUnits ?? 0;
        const t = table(c.TableName ?? requestTable);
        if (write) {
          counts.dynamodbWriteUnits += units;
          t.writeUnits += units;
        } else {
          counts.dynamodbReadUnits += units;
          t.readUnits += units;
        }
      }
      return result;
    },
    { step: 'initialize', name: `strandCountDynamoDb${id}` },
  );
  clients.s3.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      // Presigning runs the same stack but sends nothing: the client's request on the URL is what S3 bills.
      if ((result.output as { presigned?: unknown }).presigned !== undefined) return result;
      const command = context.commandName;
      if (command === 'PutObjectCommand') counts.s3Puts++;
      else if (command === 'GetObjectCommand') {
        counts.s3Gets++;
        activityCounts().s3Gets++;
      } else counts.s3Other++;
      return result;
    },
    { step: 'initialize', name: `strandCountS3${id}` },
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
