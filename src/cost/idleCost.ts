/**
 * What a consumer costs while nothing arrives (issue 15, "Waiting costs
 * nothing"): billed work counted over a measured window, priced with the dated
 * table (prices.ts) and extrapolated to a month per consumer. Pure: the bench
 * (bench/idle.ts) supplies the counts.
 *
 * Billed lines: API Gateway HTTP requests, Lambda requests and GB-seconds,
 * DynamoDB read and write request units, S3 GETs, WebSocket messages and
 * connection-minutes. Reading the log table's stream costs nothing (GetRecords
 * made by a Lambda trigger is free), so it has no line.
 *
 * Work that recurs less often than a window can show (a keepalive ping every 5
 * minutes, a recheck every 15, a reconnect every 2 hours) is passed as
 * RecurringWork: one occurrence's counts, priced at its interval.
 */
import { hoursPerMonth, prices } from './prices';

/** A month of 730 hours, in ms. */
export const monthMs = hoursPerMonth * 3600 * 1000;

/** Lambda work of one function. */
export interface LambdaWork {
  invocations: number;
  /** Sum over invocations of each one's duration rounded up to the ms (Lambda bills per ms). */
  billedMs: number;
  memoryMiB: number;
}

/** Billed work, as counts of what AWS bills. Every field is optional: absent is none. */
export interface Work {
  /** HTTP API requests, each under 512 KB (one metered request each). */
  httpRequests?: number;
  /** Lambda work per function: the HTTP routes', the notice socket routes', the notifier's. */
  lambda?: LambdaWork[];
  dynamodbReadUnits?: number;
  dynamodbWriteUnits?: number;
  s3Gets?: number;
  /** WebSocket messages either way, as billed (a message over 32 KB counts once per 32 KB: webSocketBilledMessages). */
  webSocketMessages?: number;
  /** Time connections were open, in ms (billed per connection-minute). */
  webSocketConnectionMs?: number;
}

/** Dollars per billed line. */
export interface UsdByLine {
  apiGatewayHttp: number;
  lambdaRequests: number;
  lambdaGbSeconds: number;
  dynamodbReads: number;
  dynamodbWrites: number;
  s3Gets: number;
  webSocketMessages: number;
  webSocketConnectionMinutes: number;
}

export const usdLines = [
  'apiGatewayHttp',
  'lambdaRequests',
  'lambdaGbSeconds',
  'dynamodbReads',
  'dynamodbWrites',
  's3Gets',
  'webSocketMessages',
  'webSocketConnectionMinutes',
] as const satisfies readonly (keyof UsdByLine)[];

/** Billed messages for one WebSocket message of `bytes`: API Gateway meters them in 32 KB steps. */
export function webSocketBilledMessages(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / prices.apiGatewayWebSocket.meteringBytes));
}

export function usdOfWork(w: Work): UsdByLine {
  const lambda = w.lambda ?? [];
  return {
    apiGatewayHttp: (w.httpRequests ?? 0) * prices.apiGateway.perRequest,
    lambdaRequests: lambda.reduce((n, f) => n + f.invocations, 0) * prices.lambda.perRequest,
    lambdaGbSeconds: lambda.reduce((n, f) => n + (f.memoryMiB / 1024) * (f.billedMs / 1000), 0) * prices.lambda.perGbSecond,
    dynamodbReads: (w.dynamodbReadUnits ?? 0) * prices.dynamodb.perReadRequestUnit,
    dynamodbWrites: (w.dynamodbWriteUnits ?? 0) * prices.dynamodb.perWriteRequestUnit,
    s3Gets: (w.s3Gets ?? 0) * prices.s3.getPerRequest,
    webSocketMessages: (w.webSocketMessages ?? 0) * prices.apiGatewayWebSocket.perMessage,
    webSocketConnectionMinutes: ((w.webSocketConnectionMs ?? 0) / 60_000) * prices.apiGatewayWebSocket.perConnectionMinute,
  };
}

export function totalUsd(lines: UsdByLine): number {
  return usdLines.reduce((n, k) => n + lines[k], 0);
}

function scaled(lines: UsdByLine, factor: number): UsdByLine {
  return Object.fromEntries(usdLines.map((k) => [k, lines[k] * factor])) as unknown as UsdByLine;
}

function summed(all: UsdByLine[]): UsdByLine {
  return Object.fromEntries(usdLines.map((k) => [k, all.reduce((n, l) => n + l[k], 0)])) as unknown as UsdByLine;
}

/** Work counted over a measured window with no traffic, by what caused it. */
export interface IdleWindow {
  windowMs: number;
  /** Consumers whose waiting the window counted; the bill is split evenly between them. */
  consumers: number;
  /** By activity, e.g. 'group heartbeats', 'fetches', 'notice socket'. */
  activities: Record<string, Work>;
}

/** Work one consumer does once every `everyMs`, too rarely for the window to show. */
export interface RecurringWork {
  activity: string;
  everyMs: number;
  /** One occurrence, for one consumer. */
  work: Work;
}

export interface IdleCost {
  usdPerConsumerMonth: number;
  byActivity: Record<string, { usd: number; lines: UsdByLine }>;
  byLine: UsdByLine;
}

/**
 * USD per consumer-month: each activity's window counts scaled from the window
 * to a month and split between the consumers, plus each recurring piece of work
 * priced at its interval. An activity may appear in both (a socket's
 * connection-minutes in the window, its keepalive pings as recurring work).
 */
export function idleConsumerCost(window: IdleWindow, recurring: readonly RecurringWork[] = []): IdleCost {
  if (!(window.windowMs > 0) || !(window.consumers > 0)) throw new Error('an idle window needs a positive length and at least one consumer');
  const perActivity = new Map<string, UsdByLine[]>();
  const add = (activity: string, lines: UsdByLine) => perActivity.set(activity, [...(perActivity.get(activity) ?? []), lines]);
  for (const [activity, work] of Object.entries(window.activities)) add(activity, scaled(usdOfWork(work), monthMs / window.windowMs / window.consumers));
  for (const r of recurring) {
    if (!(r.everyMs > 0)) throw new Error(`recurring work '${r.activity}' needs a positive interval`);
    add(r.activity, scaled(usdOfWork(r.work), monthMs / r.everyMs));
  }
  const byActivity: IdleCost['byActivity'] = {};
  for (const [activity, all] of perActivity) {
    const lines = summed(all);
    byActivity[activity] = { usd: totalUsd(lines), lines };
  }
  const byLine = summed(Object.values(byActivity).map((a) => a.lines));
  return { usdPerConsumerMonth: totalUsd(byLine), byActivity, byLine };
}

/** How often a thing done every `everyMs` happens in a month. */
export function timesPerMonth(everyMs: number): number {
  return monthMs / everyMs;
}

/** The long-poll design a waiting consumer used before the notice socket (src/log/readPartition.ts). */
export interface LongPollDesign {
  /** Memory of the fetch function that holds the poll (infra/access.ts functionSizing). */
  memoryMiB: number;
  /** How often the poll reads the partition head (longPollIntervalMs). */
  headReadIntervalMs: number;
  /** Read units of one head read: 1 for a strongly consistent read of an item up to 4 KB. */
  readUnitsPerHeadRead: number;
  /** One poll's wait (the consumer's maxWaitTimeInMs): a new request each time it ends empty. */
  maxWaitMs: number;
}

/**
 * One partition waited on by one consumer, for a month, by long poll: a fetch
 * execution held the whole time, a head read every interval, and a request per
 * wait. This is the figure the notice socket replaces (≈ $38 at 1 GiB, 100 ms).
 */
export function longPollPartitionCost(d: LongPollDesign): { usdPerMonth: number; lines: UsdByLine } {
  return longPollWaitCost(d, { heldRequests: 1, partitionsRead: 1 });
}

/**
 * A client waiting a month by long poll, in any of the HTTP API's shapes:
 * `heldRequests` executions held at once, reading `partitionsRead` heads every
 * interval between them. The SDK without notices and a plain v3 client holding
 * one `…/records?max_wait_ms=` per partition: P and P. One v3
 * `records:fetch` with `max_wait_ms`, or a REST Proxy v2 instance's
 * `records?timeout=` (src/log/waitForAnyData.ts): 1 and P.
 */
export function longPollWaitCost(d: LongPollDesign, shape: { heldRequests: number; partitionsRead: number }): { usdPerMonth: number; lines: UsdByLine } {
  const polls = (monthMs / d.maxWaitMs) * shape.heldRequests;
  const lines = usdOfWork({
    httpRequests: polls,
    lambda: [{ invocations: polls, billedMs: monthMs * shape.heldRequests, memoryMiB: d.memoryMiB }],
    dynamodbReadUnits: (monthMs / d.headReadIntervalMs) * d.readUnitsPerHeadRead * shape.partitionsRead,
  });
  return { usdPerMonth: totalUsd(lines), lines };
}

/** Kinesis Data Streams on-demand: one stream, a month, before any data (consumers reading with GetRecords add only per-GB retrieval). */
export function kinesisOnDemandStreamUsdPerMonth(): number {
  return prices.kinesisOnDemand.streamHour * hoursPerMonth;
}

/** MSK Serverless: the smallest cluster holding `partitions` partitions, a month, before any data. */
export function mskServerlessClusterUsdPerMonth(partitions: number): number {
  return (prices.mskServerless.clusterHour + partitions * prices.mskServerless.partitionHour) * hoursPerMonth;
}
