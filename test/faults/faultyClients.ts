/**
 * Fault injection on the AWS SDK clients a Strand runtime uses: middleware on
 * `runtime.clients.s3` and `runtime.clients.dynamodb` (the document client sends
 * through the latter's stack), as bench/requestCounter.ts counts requests.
 *
 * The middleware sits in the `finalizeRequest` step after the SDK's retry
 * middleware, so it acts on every attempt and the SDK's own retries see the
 * faults, as they would see a real one. Each rule says what to match (service,
 * command, a predicate on the input), what to do, and when:
 *
 *   before  the request never reaches the emulator (nothing applied)
 *   after   the emulator applied it, then the reply is lost (a timeout or reset on
 *           the way back) — the nasty case that makes retries risky
 *
 * Faults: `500`, `503`, `throttle` (DynamoDB ThrottlingException / S3 SlowDown),
 * `timeout` (the SDK's TimeoutError), `reset` (ECONNRESET), `refused`
 * (ECONNREFUSED), `slow` (delay, then carry on), and `crash`: the process dies at
 * that point — nothing after it runs, and no reply ever leaves. A crash is a
 * promise that never settles, so the request hangs and the client times out, just
 * as it would against a Lambda that died; no production code knows about it.
 */
import type { StorageClients } from '../../src/storage/clients';

export type FaultKind = '500' | '503' | 'throttle' | 'timeout' | 'reset' | 'refused' | 'slow' | 'crash';
export type Service = 's3' | 'dynamodb';

export interface FaultRule {
  service: Service;
  /** SDK command name, e.g. PutObjectCommand, GetObjectCommand, UpdateItemCommand, GetItemCommand. */
  command?: string | RegExp;
  /** A predicate on the command input (as sent: DynamoDB values marshalled). */
  match?: (input: Record<string, unknown>) => boolean;
  fault: FaultKind;
  /** @default 'before' */
  when?: 'before' | 'after';
  /** Attempts this rule fires on, then it is spent. @default Infinity */
  times?: number;
  /** Chance of firing on a matching attempt. @default 1 */
  probability?: number;
  /** Delay for `slow`. @default 200 */
  delayMs?: number;
}

export interface FaultStats {
  fired: Record<FaultKind, number>;
  attempts: number;
}

export interface FaultInjector {
  add(rule: FaultRule): FaultRule;
  remove(rule: FaultRule): void;
  clear(): void;
  stats: FaultStats;
  /** Pseudo-random source for probabilities (seedable for reproducible runs). */
  random: () => number;
}

/** Matches the one UpdateItem that commits an append (PartitionIndex.commit, ProducerSequences.commit). */
export const isCommit = (input: Record<string, unknown>) => typeof input.UpdateExpression === 'string' && input.UpdateExpression.includes('list_append(if_not_exists(e');

/*
 * Matchers for every write of the data path and of maintenance (test/faults/afterApply.test.ts
 * lists them with the code that makes each). Inputs are as sent: DynamoDB values
 * marshalled ({ S: … }, { N: … }).
 */
type Input = Record<string, unknown>;
const text = (input: Input, field: string): string => (typeof input[field] === 'string' ? (input[field] as string) : '');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const attr = (v: any): string | undefined => (v === undefined || v === null ? undefined : typeof v === 'object' ? (v.S ?? v.N) : String(v));

/** The idempotent commit (ProducerSequences.commit): the commit conditioned on the producer's epoch and next sequence. */
export const isIdempotentCommit = (input: Input) => isCommit(input) && /#p\.n\b/.test(text(input, 'ConditionExpression'));
/** The plain commit (PartitionIndex.commit): a commit that is not the idempotent one. */
export const isPlainCommit = (input: Input) => isCommit(input) && !isIdempotentCommit(input);
/** A spill's chunk PutItem (PartitionIndex.spill): conditioned on never shortening the chunk. */
export const isSpillChunkPut = (input: Input) => input.Item !== undefined && text(input, 'ConditionExpression').includes('size(e)');
/** A chunk rewrite's PutItem (PartitionIndex.replaceChunk, merge and compaction): conditioned on the old entries' hash. */
export const isReplaceChunk = (input: Input) => input.Item !== undefined && text(input, 'ConditionExpression').includes('h = :old');
/** The head trim (PartitionIndex.dropHeadEntries, after a spill's chunk put or below the log start): REMOVE e[i]… */
export const isHeadTrim = (input: Input) => /^\s*REMOVE e\[/.test(text(input, 'UpdateExpression'));
/** The leader fence (PartitionIndex.fence): SET le. */
export const isFence = (input: Input) => text(input, 'UpdateExpression').trim() === 'SET le = :e';
/** Retention and DeleteRecords moving the log start (PartitionIndex.advanceLogStart): SET lso. */
export const isAdvanceLogStart = (input: Input) => /\bSET lso = /.test(text(input, 'UpdateExpression'));
/** A chunk's DeleteItem (PartitionIndex.deleteChunk): a log-table key with a sort key other than the head's. */
export const isDeleteChunk = (input: Input) => {
  const key = input.Key as Record<string, unknown> | undefined;
  return key !== undefined && attr(key.sk) !== undefined && attr(key.sk) !== '-1' && input.UpdateExpression === undefined;
};
/** The lease acquire (LeaseStore.acquire): SET holder … ADD epoch. */
export const isLeaseAcquire = (input: Input) => /ADD epoch/.test(text(input, 'UpdateExpression')) && /holder = /.test(text(input, 'UpdateExpression'));
/** The lease release (LeaseStore.release): SET expiresAt = 0. */
export const isLeaseRelease = (input: Input) => text(input, 'UpdateExpression').trim() === 'SET expiresAt = :zero';
/** The leader's producer-state trim (ProducerSequences.trim): REMOVE #r0, … */
export const isProducerTrim = (input: Input) => /^\s*REMOVE #r\d/.test(text(input, 'UpdateExpression'));
/** Producer id allocation's counter (ProducerIds.allocate): ADD n. */
export const isProducerIdCounter = (input: Input) => text(input, 'UpdateExpression').trim() === 'ADD n :one';
/** Producer id allocation's epoch item (ProducerIds.allocate): PutItem under pk ~producers. */
export const isProducerEpochPut = (input: Input) => attr((input.Item as Record<string, unknown> | undefined)?.pk) === '~producers';
/** A producer's re-initialization (ProducerIds.bumpEpoch): ADD epoch … SET bumpedAt. */
export const isProducerEpochBump = (input: Input) => /ADD epoch :one SET bumpedAt/.test(text(input, 'UpdateExpression'));

/** The DynamoDB partition key of a request (Key or Item), if any. */
export function partitionKeyOf(input: Input): string | undefined {
  return attr((input.Key as Record<string, unknown> | undefined)?.pk) ?? attr((input.Item as Record<string, unknown> | undefined)?.pk);
}

/** The S3 keys a request names (Key, or DeleteObjects' keys). */
export function objectKeysOf(input: Input): string[] {
  if (typeof input.Key === 'string') return [input.Key];
  const objects = (input.Delete as { Objects?: { Key?: string }[] } | undefined)?.Objects ?? [];
  return objects.map((o) => o.Key ?? '');
}

/**
 * True for requests about a topic's data (DynamoDB pk `<topicId>#<p>` in the log
 * and lease tables, S3 keys under `topics/<topicId>/`), or one partition of it.
 */
export function onTopic(topicId: string, partition?: number): (input: Input) => boolean {
  const pkPrefix = partition === undefined ? `${topicId}#` : undefined;
  const pkExact = partition === undefined ? undefined : `${topicId}#${partition}`;
  const s3Prefix = `topics/${topicId}/`;
  return (input) => {
    const pk = partitionKeyOf(input);
    if (pk !== undefined) return pkExact !== undefined ? pk === pkExact : pk.startsWith(pkPrefix!);
    const keys = objectKeysOf(input);
    return keys.length > 0 && keys.every((k) => k.startsWith(s3Prefix));
  };
}

/** Both predicates. */
export const both = (a: (input: Input) => boolean, b: (input: Input) => boolean) => (input: Input) => a(input) && b(input);

/**
 * A predicate that matches like `match`, but only for `windowMs` after it first
 * matched: a rule with it fires on every attempt of that write (the SDK's
 * retries included) for a short while, then never again.
 */
export function forAWhile(match: (input: Input) => boolean, windowMs: number): (input: Input) => boolean {
  let first: number | undefined;
  return (input) => {
    if (!match(input)) return false;
    const now = Date.now();
    first ??= now;
    return now - first <= windowMs;
  };
}

export function storageError(kind: Exclude<FaultKind, 'slow' | 'crash'>, service: Service): Error {
  const sdk = (name: string, status: number, message: string) =>
    Object.assign(new Error(message), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status, attempts: 1 } });
  switch (kind) {
    case '500':
      return service === 's3' ? sdk('InternalError', 500, 'We encountered an internal error. Please try again.') : sdk('InternalServerError', 500, 'Internal server error');
    case '503':
      return service === 's3' ? sdk('ServiceUnavailable', 503, 'Service Unavailable') : sdk('ServiceUnavailable', 503, 'Service unavailable');
    case 'throttle':
      return service === 's3' ? sdk('SlowDown', 503, 'Please reduce your request rate.') : sdk('ThrottlingException', 400, 'Rate of requests exceeds the allowed throughput.');
    case 'timeout':
      return Object.assign(new Error('Connection timed out after 5000 ms'), { name: 'TimeoutError', code: 'ETIMEDOUT' });
    case 'reset':
      return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    case 'refused':
      return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4569'), { code: 'ECONNREFUSED', errno: -111, syscall: 'connect' });
  }
}

const never = () => new Promise<never>(() => {});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Seeded PRNG (mulberry32) so a failing soak can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function injectFaults(clients: StorageClients, random: () => number = Math.random): FaultInjector {
  const rules = new Set<FaultRule & { fired: number }>();
  const stats: FaultStats = {
    fired: { '500': 0, '503': 0, throttle: 0, timeout: 0, reset: 0, refused: 0, slow: 0, crash: 0 },
    attempts: 0,
  };
  const injector: FaultInjector = {
    add(rule) {
      rules.add(Object.assign(rule, { fired: 0 }));
      return rule;
    },
    remove(rule) {
      rules.delete(rule as FaultRule & { fired: number });
    },
    clear() {
      rules.clear();
    },
    stats,
    random,
  };

  const pick = (service: Service, commandName: string, input: Record<string, unknown>, when: 'before' | 'after') => {
    for (const rule of rules) {
      if (rule.service !== service || (rule.when ?? 'before') !== when) continue;
      if (rule.command !== undefined && !(typeof rule.command === 'string' ? rule.command === commandName : rule.command.test(commandName))) continue;
      if (rule.match && !rule.match(input)) continue;
      if (rule.fired >= (rule.times ?? Infinity)) continue;
      if (injector.random() >= (rule.probability ?? 1)) continue;
      rule.fired++;
      stats.fired[rule.fault]++;
      return rule;
    }
    return undefined;
  };

  const act = async (rule: FaultRule, service: Service) => {
    if (rule.fault === 'slow') return sleep(rule.delayMs ?? 200);
    if (rule.fault === 'crash') return never();
    throw storageError(rule.fault, service);
  };

  for (const service of ['s3', 'dynamodb'] as const) {
    const client = service === 's3' ? clients.s3 : clients.dynamodb;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    (client.middlewareStack as any).add(
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      (next: any, context: any) => async (args: any) => {
        stats.attempts++;
        const commandName = String(context.commandName ?? '');
        const input = (args.input ?? {}) as Record<string, unknown>;
        const before = pick(service, commandName, input, 'before');
        if (before) await act(before, service);
        const out = await next(args);
        const after = pick(service, commandName, input, 'after');
        if (after) await act(after, service);
        return out;
      },
      { step: 'finalizeRequest', name: `strandFaults-${service}` },
    );
  }
  return injector;
}
