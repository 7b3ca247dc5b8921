/**
 * The idle phase of `npm run bench` (alone: `npm run bench -- --only idle
 * [--quick] [--idle-seconds S] [--wakeups N]`): what a consumer costs while
 * nothing arrives, and how soon it wakes when something does (issue 15,
 * "Waiting costs nothing").
 *
 * A local Strand (emulators in a child process, the gateway, the notice socket
 * and the log-stream stand-in in this process) and SDK consumers in this
 * process, in groups of 2 with the default configuration. Each scenario waits
 * until both members are assigned and caught up, then counts a window with no
 * traffic: every HTTP request through the gateway (handler ms clipped to the
 * window), every DynamoDB request with its units and every S3 GET, each
 * attributed to the HTTP request it served (bench/requestCounter.ts), and the
 * notice socket's messages, route invocations and connection time. The counts
 * are priced per consumer-month by src/cost/idleCost.ts.
 *
 *   notices, 12 partitions     the default: fetch with max_wait_ms=0, then wait on the socket
 *   notices, 100 partitions    the same, 50 partitions per member
 *   long poll, 12 partitions   notifications: false, the default maxWaitTimeInMs: a long poll
 *                              per partition, as a plain v3 client's (the server's wait
 *                              may itself use the notice socket: its work shows there)
 *   socket down, 12 partitions the socket refuses connections: the SDK's fallback polling
 *
 * What recurs less often than a window can show is measured and priced at its
 * interval, read from the code at run time: group heartbeats (one heartbeat's
 * cost, averaged over those of the scenario's steady state, at the cadence the
 * members keep), the keepalive ping (a probe socket's ping), the recheck of
 * every partition (a consumer of a member's partitions with noticeRecheckMs
 * shortened, so a few cycles fit in seconds), and the reconnect when API
 * Gateway ends a connection at 2 hours (a probe socket's $connect, hello ping
 * and $disconnect, plus a recheck cycle's fetches and re-arms).
 *
 * Then the wake-up: single records produced to the waiting group, timed from
 * the produce's acknowledgement to the eachMessage handler, and the hops of
 * each wake-up counted, from which bench/wakeupModel.ts models AWS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startLocalStrand, type LocalStrand } from '../local/startLocalStrand';
import type { HandledRequest } from '../local/gateway';
import type { NoticeSocketStats } from '../local/noticeSocket';
import { StrandClient, type Consumer, type ConsumerConfig } from '../client';
import { noticeRecheckMsDefault } from '../client/consumer';
import { defaultSizing, functionSizing, type StrandFunctionName } from '../infra/access';
import { connectionLifetimeMsMax, watchesPerMessageMax } from '../src/notify/protocol';
import { longPollIntervalMs } from '../src/log/readPartition';
import {
  idleConsumerCost,
  kinesisOnDemandStreamUsdPerMonth,
  longPollPartitionCost,
  longPollWaitCost,
  mskServerlessClusterUsdPerMonth,
  usdLines,
  type IdleCost,
  type LambdaWork,
  type RecurringWork,
  type Work,
} from '../src/cost/idleCost';
import { pricesAsOf } from '../src/cost/prices';
import { attributeRequests, countRequests, countsBetween, snapshotCounts, type RequestCounts, type RequestCountsSnapshot } from './requestCounter';
import { percentile } from './benchUtil';
import { modelledWakeupMs, type CountedHops, type ModelledWakeup } from './wakeupModel';

export interface IdleBenchOptions {
  quick: boolean;
  /** Length of each measured window, in s. @default 20 with quick, else 60 */
  windowSeconds?: number;
  /** Wake-up samples. @default 30 with quick, else 50 */
  wakeups?: number;
}

/** Activities the breakdown is by. */
const A = {
  heartbeats: 'group heartbeats',
  fetches: 'fetches',
  socket: 'notice socket (connections, messages, routes)',
  keepalive: 'keepalive pings',
  rechecks: 'rechecks',
  reconnects: 'reconnects',
  other: 'other HTTP',
} as const;

/** The consumer group of every scenario: the issue's 2 members. */
const membersPerGroup = 2;
/** The SDK consumer's default long-poll wait (client/consumer.ts maxWaitTimeInMs). */
const sdkMaxWaitMsDefault = 5_000;

/** What an HTTP request was for, from its method and path (or route template). */
function activityOfPath(method: string, path: string): string {
  if (path.endsWith('/heartbeat')) return A.heartbeats;
  if ((method === 'GET' && /\/partitions\/[^/]+\/records$/.test(path)) || path.endsWith('/records:fetch')) return A.fetches;
  if (path.endsWith('/notifications')) return A.socket;
  return A.other;
}

const memoryOf = (fn: StrandFunctionName): number => functionSizing[fn]?.memoryMiB ?? defaultSizing.routed.memoryMiB;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `predicate` holds, checking every 50 ms; throws after `timeoutMs` saying what it waited for. */
async function until(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`idle bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

interface Handled extends HandledRequest {
  startedAt: number;
  endedAt: number;
}

interface Bench {
  strand: LocalStrand;
  handled: Handled[];
  counts: RequestCounts;
  /** Told of every record a consumer's handler receives. */
  onMessage: (value: string, at: number) => void;
}

const socketDelta = (a: NoticeSocketStats, b: NoticeSocketStats) => ({
  messagesIn: b.messagesIn - a.messagesIn,
  messagesOut: b.messagesOut - a.messagesOut,
  notices: b.notices - a.notices,
  connectionMs: b.connectionMs - a.connectionMs,
  invocations: b.invocations - a.invocations,
  invocationMs: b.invocationMs - a.invocationMs,
});
type SocketDelta = ReturnType<typeof socketDelta>;

/** The notice socket's route invocations as Lambda work: each bills at least 1 ms. */
const noticesLambda = (d: Pick<SocketDelta, 'invocations' | 'invocationMs'>): LambdaWork => ({
  invocations: d.invocations,
  billedMs: Math.max(d.invocationMs, d.invocations),
  memoryMiB: memoryOf('notices'),
});

/**
 * Storage work by activity, as billed work. Work outside any HTTP request is
 * the notice socket's: its routes and the notifier are the only storage
 * callers here not serving one (maintenance is off; the log-stream stand-in
 * reads with a client of its own, as the free stream reads on AWS).
 */
function storageWork(c: RequestCountsSnapshot): Map<string, Work> {
  const out = new Map<string, Work>();
  for (const [activity, a] of c.byActivity) {
    const owner = activity !== '' ? activity : A.socket;
    const o = out.get(owner) ?? {};
    let readUnits = o.dynamodbReadUnits ?? 0;
    let writeUnits = o.dynamodbWriteUnits ?? 0;
    for (const n of a.tables.values()) {
      readUnits += n.readUnits;
      writeUnits += n.writeUnits;
    }
    out.set(owner, { dynamodbReadUnits: readUnits, dynamodbWriteUnits: writeUnits, s3Gets: (o.s3Gets ?? 0) + a.s3Gets });
  }
  return out;
}

function mergeWork(a: Work, b: Work): Work {
  return {
    httpRequests: (a.httpRequests ?? 0) + (b.httpRequests ?? 0),
    lambda: [...(a.lambda ?? []), ...(b.lambda ?? [])],
    dynamodbReadUnits: (a.dynamodbReadUnits ?? 0) + (b.dynamodbReadUnits ?? 0),
    dynamodbWriteUnits: (a.dynamodbWriteUnits ?? 0) + (b.dynamodbWriteUnits ?? 0),
    s3Gets: (a.s3Gets ?? 0) + (b.s3Gets ?? 0),
    webSocketMessages: (a.webSocketMessages ?? 0) + (b.webSocketMessages ?? 0),
    webSocketConnectionMs: (a.webSocketConnectionMs ?? 0) + (b.webSocketConnectionMs ?? 0),
  };
}

function scaleWork(w: Work, k: number): Work {
  return {
    httpRequests: (w.httpRequests ?? 0) * k,
    lambda: (w.lambda ?? []).map((l) => ({ ...l, invocations: l.invocations * k, billedMs: l.billedMs * k })),
    dynamodbReadUnits: (w.dynamodbReadUnits ?? 0) * k,
    dynamodbWriteUnits: (w.dynamodbWriteUnits ?? 0) * k,
    s3Gets: (w.s3Gets ?? 0) * k,
    webSocketMessages: (w.webSocketMessages ?? 0) * k,
    webSocketConnectionMs: (w.webSocketConnectionMs ?? 0) * k,
  };
}

// -----------------------------------------------------------------------------
// Consumer groups

interface Group {
  consumers: Consumer[];
  partitionsPerMember: number[];
  /** When each member's heartbeats answered (the consumer's 'heartbeat' event), by member. */
  heartbeatsAt: number[][];
  stop(): Promise<void>;
}

async function startGroup(bench: Bench, topic: string, partitions: number, groupId: string, config: ConsumerConfig): Promise<Group> {
  const consumers: Consumer[] = [];
  const heartbeatsAt: number[][] = [];
  for (let m = 0; m < membersPerGroup; m++) {
    // A client each, as two processes would have (each its own notice socket).
    const client = new StrandClient({ url: bench.strand.url, logger: { warn: () => {} } });
    const consumer = client.consumer({ groupId, ...config });
    const times: number[] = [];
    heartbeatsAt.push(times);
    consumer.on('heartbeat', () => times.push(performance.now()));
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({ eachMessage: async ({ message }) => bench.onMessage(message.value?.toString() ?? '', performance.now()) });
    consumers.push(consumer);
  }
  // KIP-848 reconciliation moves partitions on heartbeats (or nudges): a few intervals at most.
  await until(
    `group ${groupId} to assign all ${partitions} partitions to both members`,
    () => consumers.every((c) => c.assignment().length > 0) && consumers.reduce((n, c) => n + c.assignment().length, 0) === partitions,
    90_000,
  );
  return {
    consumers,
    partitionsPerMember: consumers.map((c) => c.assignment().length),
    heartbeatsAt,
    stop: async () => void (await Promise.all(consumers.map((c) => c.disconnect()))),
  };
}

/**
 * Waits until the consumers are caught up and waiting: for `quietMs` no request
 * but heartbeats and no message into the notice socket (bounded by `timeoutMs`).
 */
async function settle(bench: Bench, quietMs: number, timeoutMs: number): Promise<void> {
  let lastActivity = performance.now();
  let seenHandled = bench.handled.length;
  let seenIn = bench.strand.notices.socket.stats().messagesIn;
  await until(
    'the consumers to go quiet (caught up and waiting)',
    () => {
      const now = performance.now();
      const fresh = bench.handled.slice(seenHandled).filter((h) => activityOf(h) !== A.heartbeats);
      seenHandled = bench.handled.length;
      const messagesIn = bench.strand.notices.socket.stats().messagesIn;
      if (fresh.length > 0 || messagesIn !== seenIn) lastActivity = now;
      seenIn = messagesIn;
      return now - lastActivity >= quietMs;
    },
    timeoutMs,
  );
}

/** DynamoDB read requests and S3 GETs made under one activity. */
function readsOf(c: RequestCountsSnapshot, activity: string): number {
  const a = c.byActivity.get(activity);
  return a ? [...a.tables.values()].reduce((n, t) => n + t.reads, 0) + a.s3Gets : 0;
}

function activityOf(h: HandledRequest): string {
  const space = h.routeKey.indexOf(' ');
  return activityOfPath(h.routeKey.slice(0, space), h.routeKey.slice(space + 1));
}

/** The HTTP requests of one activity between two moments as billed work, each clipped to them. */
function httpWork(bench: Bench, activity: string, t0: number, t1: number): { work: Work; requests: number } {
  const byFn = new Map<StrandFunctionName, LambdaWork>();
  let requests = 0;
  for (const h of bench.handled) {
    if (h.endedAt <= t0 || h.startedAt >= t1 || activityOf(h) !== activity) continue;
    // A request counts where it started; its handler time bills where it ran.
    const startsInside = h.startedAt >= t0;
    if (startsInside) requests++;
    const fn = byFn.get(h.fn) ?? { invocations: 0, billedMs: 0, memoryMiB: memoryOf(h.fn) };
    fn.invocations += startsInside ? 1 : 0;
    fn.billedMs += Math.max(1, Math.ceil(Math.min(h.endedAt, t1) - Math.max(h.startedAt, t0)));
    byFn.set(h.fn, fn);
  }
  return { work: { httpRequests: requests, lambda: [...byFn.values()] }, requests };
}

// -----------------------------------------------------------------------------
// A measured window

interface WindowResult {
  label: string;
  partitions: number;
  partitionsPerMember: number[];
  windowMs: number;
  /** HTTP requests that started in the window, by activity (heartbeats included). */
  requestsByActivity: Record<string, number>;
  socket: SocketDelta;
  streamDeliveries: number;
  storage: RequestCountsSnapshot;
  /** DynamoDB read requests and S3 GETs per second per consumer in the window, heartbeats' left out (priced at their cadence: Scenario). */
  readsPerSecondPerConsumerBesideHeartbeats: number;
  /** Billed work by activity, for the cost model: heartbeats are priced apart (observeHeartbeats). */
  activities: Record<string, Work>;
}

/**
 * Counts a window of `windowMs`. Requests running across its end (long polls)
 * are waited for up to `drainMs` and clipped to it: a request bills in the
 * window the part of its handler time inside the window.
 */
async function measureWindow(bench: Bench, label: string, partitions: number, group: Group, windowMs: number, drainMs: number): Promise<WindowResult> {
  const socketBefore = bench.strand.notices.socket.stats();
  const streamBefore = bench.strand.notices.stream.stats().deliveries;
  const before = snapshotCounts(bench.counts);
  const t0 = performance.now();
  await sleep(windowMs);
  const t1 = performance.now();
  const storage = countsBetween(before, snapshotCounts(bench.counts));
  const socket = socketDelta(socketBefore, bench.strand.notices.socket.stats());
  const streamDeliveries = bench.strand.notices.stream.stats().deliveries - streamBefore;
  await sleep(drainMs);

  const activities: Record<string, Work> = {};
  const add = (activity: string, w: Work) => (activities[activity] = mergeWork(activities[activity] ?? {}, w));
  const requestsByActivity: Record<string, number> = {};
  for (const activity of new Set(bench.handled.filter((h) => h.endedAt > t0 && h.startedAt < t1).map(activityOf))) {
    const { work, requests } = httpWork(bench, activity, t0, t1);
    if (requests > 0) requestsByActivity[activity] = requests;
    if (activity !== A.heartbeats) add(activity, work);
  }
  for (const [activity, w] of storageWork(storage)) if (activity !== A.heartbeats) add(activity, w);
  add(A.socket, { webSocketMessages: socket.messagesIn + socket.messagesOut, webSocketConnectionMs: socket.connectionMs, lambda: [noticesLambda(socket)] });

  return {
    label,
    partitions,
    partitionsPerMember: group.partitionsPerMember,
    windowMs: t1 - t0,
    requestsByActivity,
    socket,
    streamDeliveries,
    storage,
    readsPerSecondPerConsumerBesideHeartbeats: (storage.dynamodbReads + storage.s3Gets - readsOf(storage, A.heartbeats)) / ((t1 - t0) / 1000) / membersPerGroup,
    activities,
  };
}

interface HeartbeatCadence {
  /** The interval priced: the median gap between a member's heartbeats in the steady state, or the scheduled one when too few were seen. */
  everyMs: number;
  /** What the consumers had scheduled (the server's heartbeat_interval_ms, capped by heartbeatInterval). */
  scheduledMs: number;
  gapsSeen: number;
  /** Heartbeats whose cost was averaged. */
  heartbeats: number;
  /** One heartbeat, averaged: the request, its Lambda time and its storage. */
  perHeartbeat: Work;
  /** Storage read requests of one heartbeat, averaged. */
  readsPerHeartbeat: number;
}

/** Heartbeats from `since` (steady state) to now: what one costs, and how often each member sends one. */
function observeHeartbeats(bench: Bench, group: Group, since: { at: number; counts: RequestCountsSnapshot }): HeartbeatCadence {
  const now = performance.now();
  const { work, requests } = httpWork(bench, A.heartbeats, since.at, now);
  const counted = countsBetween(since.counts, snapshotCounts(bench.counts));
  const storage = storageWork(counted).get(A.heartbeats) ?? {};
  const gaps = group.heartbeatsAt.flatMap((times) => {
    const steady = times.filter((t) => t >= since.at);
    return steady.slice(1).map((t, i) => t - steady[i]!);
  });
  // The consumer's own schedule (private to it; read, not changed): what it will do next.
  const scheduledMs = Math.max(...group.consumers.map((c) => (c as unknown as { member: { intervalMs: number } }).member.intervalMs));
  return {
    everyMs: gaps.length >= 2 ? percentile(gaps, 50) : scheduledMs,
    scheduledMs,
    gapsSeen: gaps.length,
    heartbeats: requests,
    perHeartbeat: scaleWork(mergeWork(work, storage), 1 / Math.max(1, requests)),
    readsPerHeartbeat: readsOf(counted, A.heartbeats) / Math.max(1, requests),
  };
}

// -----------------------------------------------------------------------------
// Probes: what recurs too rarely for a window

interface SocketProbe {
  /** One keepalive ping and its pong. */
  ping: Work;
  /** $connect and the SDK's hello ping (its pong names the connection). */
  connect: Work;
  /** $disconnect of a connection holding a member's watches. */
  disconnect: Work;
  keepaliveIntervalMs: number;
}

/** A raw client of the notice socket, speaking the SDK's protocol (client/noticeWaiter.ts). */
async function openProbeSocket(url: string): Promise<{ ask(message: object): Promise<void>; close(): void }> {
  const ws = await new Promise<WebSocket>((resolve, reject) => {
    const socket = new WebSocket(url, { handshakeTimeout: 10_000 });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
  let answered: (() => void) | undefined;
  ws.on('message', () => answered?.());
  return {
    // Every probe message gets exactly one answer (pong, subscribed); nothing fires (offsets at the high watermark).
    ask: (message) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('idle bench: the notice socket did not answer a probe in 10 s')), 10_000);
        answered = () => {
          clearTimeout(timer);
          answered = undefined;
          resolve();
        };
        ws.send(JSON.stringify(message));
      }),
    close: () => ws.close(),
  };
}

/** Work on the socket and its routes while `step` runs (HTTP requests made meanwhile are not in it). */
async function socketWork<T>(bench: Bench, step: () => Promise<T>): Promise<{ work: Work; result: T }> {
  const s0 = bench.strand.notices.socket.stats();
  const c0 = snapshotCounts(bench.counts);
  const result = await step();
  const d = socketDelta(s0, bench.strand.notices.socket.stats());
  const storage = storageWork(countsBetween(c0, snapshotCounts(bench.counts))).get(A.socket) ?? {};
  return { work: mergeWork(storage, { webSocketMessages: d.messagesIn + d.messagesOut, lambda: [noticesLambda(d)] }), result };
}

/** $connect, pings and $disconnect of a connection holding `watches` watches on `topic` (empty: none fires). */
async function probeSocket(bench: Bench, topic: string, watches: number): Promise<SocketProbe> {
  const { strand } = bench;
  const discovery = (await (await fetch(`${strand.url}/v3/clusters/local/notifications`)).json()) as { url: string; keepalive_interval_ms: number };
  const opened = await socketWork(bench, async () => {
    const socket = await openProbeSocket(discovery.url);
    await socket.ask({ action: 'ping' });
    return socket;
  });
  const socket = opened.result;
  const pings = 3;
  let ping: Work = {};
  for (let i = 0; i < pings; i++) ping = mergeWork(ping, (await socketWork(bench, () => socket.ask({ action: 'ping' }))).work);
  // Arm a member's watches, so the disconnect deletes what a consumer's connection holds.
  for (let from = 0; from < watches; from += watchesPerMessageMax) {
    const ids = Array.from({ length: Math.min(watchesPerMessageMax, watches - from) }, (_, i) => from + i);
    await socket.ask({ action: 'subscribe', request_id: `probe${from}`, watches: ids.map((p) => ({ topic_name: topic, partition_id: p, offset: 0 })) });
  }
  const { work: disconnect } = await socketWork(bench, async () => {
    const invoked = strand.notices.socket.stats().invocations;
    socket.close();
    await until('$disconnect to be invoked', () => strand.notices.socket.stats().invocations > invoked, 10_000);
    // $disconnect runs on its own after the close; its few storage calls end well within this locally.
    await sleep(300);
  });
  return { ping: scaleWork(ping, 1 / pings), connect: opened.work, disconnect, keepaliveIntervalMs: discovery.keepalive_interval_ms };
}

interface RecheckProbe {
  /** Recheck cycles counted (fetches / partitions). */
  cycles: number;
  /** One cycle of all the consumer's partitions: their fetches and re-arms. */
  perCycle: Work;
  /** Subscribe messages per cycle: between 1 (all re-arms gathered) and the partitions. */
  subscribesPerCycle: number;
  /** Storage read requests per cycle: the fetches' and the re-arms' (a re-arm reads the head it arms on). */
  readsPerCycle: number;
}

/** Rechecks shortened to this in the probe, so that cycles fit in seconds. */
const probeRecheckMs = 3_000;

/**
 * An SDK consumer assigned `partitions` partitions of the waiting topic, as a
 * member holds them, with only noticeRecheckMs changed: the fetches and
 * re-arms of its rechecks, counted over about three cycles.
 */
async function probeRechecks(bench: Bench, topic: string, partitions: number): Promise<RecheckProbe> {
  const client = new StrandClient({ url: bench.strand.url, logger: { warn: () => {} } });
  const consumer = client.consumer({ noticeRecheckMs: probeRecheckMs });
  consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
  await consumer.run({ partitionsConsumedConcurrently: partitions, eachMessage: async () => {} });
  try {
    await settle(bench, probeRecheckMs / 3, 30_000);
    const c0 = snapshotCounts(bench.counts);
    const t0 = performance.now();
    const { work: socket } = await socketWork(bench, () => sleep(probeRecheckMs * 3 + probeRecheckMs / 6));
    const t1 = performance.now();
    const fetched = httpWork(bench, A.fetches, t0, t1);
    const counted = countsBetween(c0, snapshotCounts(bench.counts));
    const fetchStorage = storageWork(counted).get(A.fetches) ?? {};
    const cycles = fetched.requests / partitions;
    const subscribes = (socket.webSocketMessages ?? 0) / 2;
    return {
      cycles,
      perCycle: scaleWork(mergeWork(mergeWork(socket, fetched.work), fetchStorage), 1 / Math.max(1, cycles)),
      subscribesPerCycle: subscribes / Math.max(1, cycles),
      readsPerCycle: (readsOf(counted, A.fetches) + readsOf(counted, '')) / Math.max(1, cycles),
    };
  } finally {
    await consumer.disconnect();
  }
}

/** The recurring work of one waiting SDK consumer: keepalives, rechecks, reconnects, heartbeats. */
function recurringWork(socket: SocketProbe, rechecks: RecheckProbe, heartbeats: HeartbeatCadence): RecurringWork[] {
  return [
    { activity: A.heartbeats, everyMs: heartbeats.everyMs, work: heartbeats.perHeartbeat },
    { activity: A.keepalive, everyMs: socket.keepaliveIntervalMs, work: socket.ping },
    { activity: A.rechecks, everyMs: noticeRecheckMsDefault, work: rechecks.perCycle },
    // API Gateway ends the connection: $disconnect, a fallback poll per partition, $connect and its hello, the re-arms (as a recheck's).
    { activity: A.reconnects, everyMs: connectionLifetimeMsMax, work: mergeWork(mergeWork(socket.connect, socket.disconnect), rechecks.perCycle) },
  ];
}

// -----------------------------------------------------------------------------
// Wake-up

interface WakeupResult {
  samples: number;
  p50Ms: number;
  p90Ms: number;
  /** Samples whose handler ran before the produce's answer reached the producer (counted as 0 ms). */
  deliveredBeforeAck: number;
  counted: CountedHops;
  modelled: ModelledWakeup;
}

async function measureWakeups(bench: Bench, topic: string, partitions: number, samples: number): Promise<WakeupResult> {
  const received = new Map<string, number>();
  bench.onMessage = (value, at) => void (received.has(value) ? undefined : received.set(value, at));
  const producerClient = new StrandClient({ url: bench.strand.url, logger: { warn: () => {} } });
  const producer = producerClient.producer({ lingerMs: 0 });
  const producerAdmin = producerClient.admin();
  const latencies: number[] = [];
  let deliveredBeforeAck = 0;
  let notices = 0;
  let fetchesBeforeHandler = 0;
  for (let i = 0; i < samples; i++) {
    const value = `wake-${i}`;
    const noticesBefore = bench.strand.notices.socket.stats().notices;
    const sendStart = performance.now();
    await producer.send({ topic, messages: [{ value, partition: i % partitions }] });
    const ackAt = performance.now();
    await until(`the handler to receive ${value}`, () => received.has(value), 10_000);
    const at = received.get(value)!;
    if (at < ackAt) deliveredBeforeAck++;
    latencies.push(Math.max(0, at - ackAt));
    notices += bench.strand.notices.socket.stats().notices - noticesBefore;
    fetchesBeforeHandler += bench.handled.filter((h) => h.startedAt >= sendStart && h.endedAt <= at && activityOf(h) === A.fetches).length;
    // Spaced, so the partition has fetched ahead, found nothing and armed again before the next one.
    await sleep(300);
  }
  await producer.close();

  // A fetch of the last record produced, alone, counts what a wake-up's fetch reads (DynamoDB, S3).
  const last = (samples - 1) % partitions;
  const { high } = (await producerAdmin.fetchTopicOffsets(topic)).find((o) => o.partition === last)!;
  const c0 = snapshotCounts(bench.counts);
  const res = await fetch(`${bench.strand.url}/v3/clusters/local/topics/${topic}/partitions/${last}/records?offset=${high - 1}&max_bytes=1048576&max_wait_ms=0`, {
    headers: { accept: 'application/vnd.kafka.recordbatch.v2' },
  });
  await res.arrayBuffer();
  const oneFetch = countsBetween(c0, snapshotCounts(bench.counts)).byActivity.get(A.fetches);
  const counted: CountedHops = {
    notices: notices / samples,
    fetches: fetchesBeforeHandler / samples,
    dynamodbReadsPerFetch: [...(oneFetch?.tables.values() ?? [])].reduce((n, t) => n + t.reads, 0),
    s3GetsPerFetch: oneFetch?.s3Gets ?? 0,
  };
  return { samples, p50Ms: percentile(latencies, 50), p90Ms: percentile(latencies, 90), deliveredBeforeAck, counted, modelled: modelledWakeupMs(counted) };
}

// -----------------------------------------------------------------------------

interface Scenario {
  window: WindowResult;
  heartbeats: HeartbeatCadence;
  cost: IdleCost;
  /** Storage read requests per second per consumer, sustained: the window's, heartbeats' at their cadence, rechecks' at theirs. */
  readsPerSecondPerConsumer: number;
  socket?: SocketProbe;
  rechecks?: RecheckProbe;
}

export interface IdleBenchResult {
  windowSeconds: number;
  notices: Scenario;
  notices100: Scenario;
  longPoll: Scenario;
  socketDown: Scenario;
  wakeup: WakeupResult;
  /** The design the notice socket replaced (a held fetch reading the head every 100 ms), per partition-month: modelled. */
  longPollModelledPerPartition: number;
  plainHttp: {
    /** A plain client long-polling one partition per request (v3 max_wait_ms), per partition-month: the long-poll scenario, measured, without its heartbeats. */
    perPartitionMeasured: number;
    /** The floor of one held long poll, whatever it covers (v3 records:fetch, REST Proxy v2 records?timeout=): the 1 GiB execution and its requests, a month. */
    heldRequestFloor: number;
  };
  kinesisStreamMonth: number;
  mskServerlessMonth: number;
  mskServerlessMonth100: number;
}

export async function runIdleBench(options: IdleBenchOptions): Promise<IdleBenchResult> {
  const windowSeconds = options.windowSeconds ?? (options.quick ? 20 : 60);
  const windowMs = windowSeconds * 1000;
  // Recurring work is priced at its interval, not counted in the window: a window must be too short to see it.
  if (windowMs >= Math.min(noticeRecheckMsDefault, 5 * 60_000)) throw new Error('idle bench: a window must be shorter than the keepalive and recheck intervals');
  const wakeups = options.wakeups ?? (options.quick ? 30 : 50);
  const dataDir = mkdtempSync(join(tmpdir(), 'strand-bench-idle-'));
  const handled: Handled[] = [];
  const attribution = attributeRequests(activityOfPath);
  const strand = await startLocalStrand({
    dataDir,
    port: 0,
    maintenanceIntervalMs: 0,
    emulatorsInChildProcess: true,
    onRequest: (r) => {
      const endedAt = performance.now();
      handled.push({ ...r, startedAt: endedAt - r.ms, endedAt });
    },
  });
  const bench: Bench = { strand, handled, counts: countRequests(strand.runtime.clients, { activity: attribution.activity }), onMessage: () => {} };
  const admin = new StrandClient({ url: strand.url, logger: { warn: () => {} } }).admin();
  const running = new Set<Group>();
  const log = (line: string) => console.log(`idle bench: ${line}`);

  /** A group of 2 on a new topic: assigned, settled, then a window, then `extra` while it still waits. */
  const scenario = async (
    label: string,
    topic: string,
    partitions: number,
    config: ConsumerConfig,
    how: { windowMs: number; settle: () => Promise<void>; drainMs: number; probes: boolean; extra?: (g: Group) => Promise<void> },
  ): Promise<Scenario> => {
    log(`${label} (${Math.round(how.windowMs / 1000)} s window)`);
    await admin.createTopic(topic, { partitions });
    const group = await startGroup(bench, topic, partitions, `${topic}-group`, config);
    running.add(group);
    try {
      await how.settle();
      const steady = { at: performance.now(), counts: snapshotCounts(bench.counts) };
      const window = await measureWindow(bench, label, partitions, group, how.windowMs, how.drainMs);
      let socket: SocketProbe | undefined;
      let rechecks: RecheckProbe | undefined;
      if (how.probes) {
        const perMember = Math.max(...group.partitionsPerMember);
        socket = await probeSocket(bench, topic, perMember);
        rechecks = await probeRechecks(bench, topic, perMember);
      }
      await how.extra?.(group);
      const heartbeats = observeHeartbeats(bench, group, steady);
      const recurring = socket && rechecks ? recurringWork(socket, rechecks, heartbeats) : [{ activity: A.heartbeats, everyMs: heartbeats.everyMs, work: heartbeats.perHeartbeat }];
      const cost = idleConsumerCost({ windowMs: window.windowMs, consumers: membersPerGroup, activities: window.activities }, recurring);
      const readsPerSecondPerConsumer =
        window.readsPerSecondPerConsumerBesideHeartbeats + heartbeats.readsPerHeartbeat / (heartbeats.everyMs / 1000) + (rechecks ? rechecks.readsPerCycle / (noticeRecheckMsDefault / 1000) : 0);
      return { window, heartbeats, cost, readsPerSecondPerConsumer, ...(socket ? { socket } : {}), ...(rechecks ? { rechecks } : {}) };
    } finally {
      await group.stop();
      running.delete(group);
    }
  };

  try {
    let wakeup: WakeupResult | undefined;
    const notices = await scenario('notices, 12 partitions', 'idle-12', 12, {}, {
      windowMs,
      settle: () => settle(bench, 2_000, 60_000),
      drainMs: 0,
      probes: true,
      extra: async () => {
        log(`wake-up, ${wakeups} samples`);
        await settle(bench, 1_000, 30_000);
        wakeup = await measureWakeups(bench, 'idle-12', 12, wakeups);
      },
    });
    const notices100 = await scenario('notices, 100 partitions', 'idle-100', 100, {}, { windowMs, settle: () => settle(bench, 2_000, 90_000), drainMs: 0, probes: true });
    const longPoll = await scenario('long poll, 12 partitions', 'idle-long-poll', 12, { notifications: false }, {
      windowMs,
      // Every partition's worker is long-polling by one wait after the assignment.
      settle: async () => void (await sleep(sdkMaxWaitMsDefault + 1_000)),
      drainMs: sdkMaxWaitMsDefault + 1_000,
      probes: false,
    });
    await sleep(sdkMaxWaitMsDefault + 1_000); // the server ends the polls the stopped consumers abandoned
    const downMs = Math.max(10_000, windowMs / 2);
    const socketDown = await scenario('socket down, 12 partitions', 'idle-socket-down', 12, {}, {
      windowMs: downMs,
      settle: async () => {
        await settle(bench, 2_000, 60_000);
        // The socket stops taking connections (as if API Gateway refused them): the consumers fall back to polling.
        await strand.notices.socket.close();
        await sleep(5_000);
      },
      drainMs: 1_000,
      probes: false,
    });

    const design = { memoryMiB: memoryOf('fetch'), headReadIntervalMs: longPollIntervalMs, readUnitsPerHeadRead: 1, maxWaitMs: sdkMaxWaitMsDefault };
    const perMember = 12 / membersPerGroup;
    return {
      windowSeconds,
      notices,
      notices100,
      longPoll,
      socketDown,
      wakeup: wakeup!,
      longPollModelledPerPartition: longPollPartitionCost(design).usdPerMonth,
      plainHttp: {
        // The SDK with notifications: false sends what a plain v3 client sends: GET …/records?max_wait_ms= per partition.
        perPartitionMeasured: (longPoll.cost.usdPerConsumerMonth - (longPoll.cost.byActivity[A.heartbeats]?.usd ?? 0)) / perMember,
        // fetch and groups (v2) are both 1 GiB; reading nothing while it waits (the doorbell) is the best a held request can do.
        heldRequestFloor: longPollWaitCost(design, { heldRequests: 1, partitionsRead: 0 }).usdPerMonth,
      },
      kinesisStreamMonth: kinesisOnDemandStreamUsdPerMonth(),
      mskServerlessMonth: mskServerlessClusterUsdPerMonth(12),
      mskServerlessMonth100: mskServerlessClusterUsdPerMonth(100),
    };
  } finally {
    await Promise.allSettled([...running].map((g) => g.stop()));
    attribution.stop();
    await strand.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const round = (n: number, digits = 2) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : 0);

/** The fields the bench's JSON line carries. */
export function idleSummary(r: IdleBenchResult): Record<string, number> {
  return {
    idle_consumer_usd_per_month: round(r.notices.cost.usdPerConsumerMonth, 4),
    idle_consumer_usd_per_month_100_partitions: round(r.notices100.cost.usdPerConsumerMonth, 4),
    idle_consumer_usd_per_month_long_poll: round(r.longPoll.cost.usdPerConsumerMonth, 2),
    idle_consumer_usd_per_month_socket_down: round(r.socketDown.cost.usdPerConsumerMonth, 2),
    idle_heartbeats_usd_per_month: round(r.notices.cost.byActivity[A.heartbeats]?.usd ?? 0, 4),
    idle_heartbeat_interval_ms: round(r.notices.heartbeats.everyMs, 0),
    long_poll_usd_per_partition_month_modelled: round(r.longPollModelledPerPartition, 2),
    plain_http_long_poll_usd_per_partition_month: round(r.plainHttp.perPartitionMeasured, 2),
    plain_http_held_request_usd_per_month: round(r.plainHttp.heldRequestFloor, 2),
    kinesis_stream_usd_per_month: round(r.kinesisStreamMonth, 2),
    msk_serverless_usd_per_month: round(r.mskServerlessMonth, 2),
    wakeup_p50_ms: round(r.wakeup.p50Ms, 1),
    wakeup_p90_ms: round(r.wakeup.p90Ms, 1),
    wakeup_p50_ms_modelled_aws: round(r.wakeup.modelled.ms, 0),
    idle_storage_reads_per_s_per_consumer: round(r.notices.readsPerSecondPerConsumer, 3),
    idle_storage_reads_per_s_per_consumer_100_partitions: round(r.notices100.readsPerSecondPerConsumer, 3),
    idle_storage_reads_per_s_per_consumer_long_poll: round(r.longPoll.readsPerSecondPerConsumer, 2),
    idle_storage_reads_per_s_per_consumer_socket_down: round(r.socketDown.readsPerSecondPerConsumer, 2),
  };
}

const usd = (n: number) => (n >= 100 ? `$${n.toFixed(0)}` : n >= 1 ? `$${n.toFixed(2)}` : `$${n.toFixed(4)}`);

export function reportIdle(r: IdleBenchResult): void {
  console.log(`\nIdle consumers (prices of ${pricesAsOf}, us-east-1; ${membersPerGroup}-member groups, ${r.windowSeconds} s windows with no traffic, per consumer-month of 730 h):`);
  const scenarios = [
    ['notices, 12 partitions', r.notices],
    ['notices, 100 partitions', r.notices100],
    ['long poll, 12 partitions', r.longPoll],
    ['socket down, 12 partitions', r.socketDown],
  ] as const;
  console.table(
    scenarios.map(([name, s]) => ({
      scenario: name,
      'partitions/member': s.window.partitionsPerMember.join(' + '),
      'window s': round(s.window.windowMs / 1000, 1),
      'HTTP requests': Object.entries(s.window.requestsByActivity).map(([a, n]) => `${a}: ${n}`).join(', ') || '0',
      'socket in/out': `${s.window.socket.messagesIn}/${s.window.socket.messagesOut}`,
      'DDB reads (RRU)': `${s.window.storage.dynamodbReads} (${round(s.window.storage.dynamodbReadUnits, 1)})`,
      'DDB writes (WRU)': `${s.window.storage.dynamodbWrites} (${round(s.window.storage.dynamodbWriteUnits, 1)})`,
      'S3 GETs': s.window.storage.s3Gets,
      'reads/s/consumer': round(s.readsPerSecondPerConsumer, 3),
      'heartbeat every s': `${round(s.heartbeats.everyMs / 1000, 1)} (${s.heartbeats.gapsSeen} gaps seen)`,
      '$/consumer-month': usd(s.cost.usdPerConsumerMonth),
    })),
  );
  for (const [name, s] of scenarios) {
    console.log(`${name}: $ per consumer-month by activity and billed line`);
    console.table(
      Object.entries(s.cost.byActivity)
        .filter(([, a]) => a.usd > 0)
        .map(([activity, a]) => ({ activity, ...Object.fromEntries(usdLines.filter((k) => a.lines[k] > 0).map((k) => [k, a.lines[k].toFixed(4)])), total: a.usd.toFixed(4) })),
    );
    const tables = [...s.window.storage.byActivity].flatMap(([activity, a]) =>
      [...a.tables].filter(([, n]) => n.reads + n.writes > 0).map(([table, n]) => `${activity || 'notice socket routes'} → ${table}: ${n.reads} reads, ${n.writes} writes`),
    );
    if (tables.length > 0) console.log(`  storage in the window: ${tables.join('; ')}`);
  }
  const p = r.notices.socket!;
  const rc = r.notices.rechecks!;
  const rc100 = r.notices100.rechecks!;
  console.log(
    `Priced at their intervals: heartbeats as the members keep them (notices: every ${round(r.notices.heartbeats.everyMs / 1000, 1)} s, scheduled ${r.notices.heartbeats.scheduledMs / 1000} s; long poll: every ${round(r.longPoll.heartbeats.everyMs / 1000, 1)} s), ` +
      `a keepalive ping every ${p.keepaliveIntervalMs / 60_000} min, a recheck of every partition every ${noticeRecheckMsDefault / 60_000} min ` +
      `(measured over ${round(rc.cycles, 1)} and ${round(rc100.cycles, 1)} cycles at ${probeRecheckMs / 1000} s: ${round(rc.subscribesPerCycle, 1)} and ${round(rc100.subscribesPerCycle, 1)} subscribe messages per cycle for ${r.notices.window.partitionsPerMember[0]} and ${r.notices100.window.partitionsPerMember[0]} partitions), ` +
      `a reconnect every ${connectionLifetimeMsMax / 3_600_000} h. Stream deliveries during the windows: ${scenarios.map(([, s]) => s.window.streamDeliveries).join(', ')}.`,
  );
  console.log(
    `Beside it: Kinesis on-demand ${usd(r.kinesisStreamMonth)} per stream-month; MSK Serverless ${usd(r.mskServerlessMonth)} per month for a cluster of 12 partitions (${usd(r.mskServerlessMonth100)} for 100); ` +
      `the long-poll design before the notice socket ${usd(r.longPollModelledPerPartition)} per partition-month (modelled: a held 1 GiB fetch reading the head every ${longPollIntervalMs} ms). ` +
      `A plain HTTP client long-polling today: ${usd(r.plainHttp.perPartitionMeasured)} per partition-month one request each (v3 max_wait_ms; measured, the long-poll scenario without heartbeats); ` +
      `at least ${usd(r.plainHttp.heldRequestFloor)} a month for one held request over all its partitions (v3 records:fetch, REST Proxy v2 records?timeout=: the execution alone).`,
  );
  const w = r.wakeup;
  console.log(
    `Wake-up (produce acknowledged → eachMessage), ${w.samples} samples: p50 ${w.p50Ms.toFixed(1)} ms, p90 ${w.p90Ms.toFixed(1)} ms locally` +
      `${w.deliveredBeforeAck > 0 ? ` (${w.deliveredBeforeAck} delivered before the acknowledgement, counted as 0)` : ''}; ` +
      `hops per wake-up: ${round(w.counted.notices, 2)} notices, ${round(w.counted.fetches, 2)} fetches of ${w.counted.dynamodbReadsPerFetch} DynamoDB reads and ${w.counted.s3GetsPerFetch} S3 GETs.`,
  );
  console.log(`Modelled on AWS (sum of per-hop medians, not measured): ${w.modelled.ms} ms = ${w.modelled.parts.filter((x) => x.ms > 0).map((x) => `${x.hop} ${x.ms}`).join(' + ')}.`);
}
