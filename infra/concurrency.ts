/**
 * Throttles and concurrency fences of a Strand cluster on AWS (issue 14,
 * defect 9), and the rules that bound them. docs/deploy.md, "Throttles and
 * concurrency", says how to size them.
 *
 * Two fences, in the order a request meets them:
 * 1. The stage's default route throttle (API Gateway, token bucket): past it a
 *    client gets 429, which Strand's clients retry with backoff. It bounds how
 *    fast anyone, an unauthenticated flood included, can make Lambda run. The
 *    notice socket's WebSocket stage has a throttle of its own.
 * 2. Reserved concurrency per function: the most execution environments a
 *    function may use at once, taken from the account's pool and guaranteed to
 *    it. One cluster cannot starve other functions of the account, or
 *    another cluster, and a slow function (long polls) cannot starve the
 *    others of this cluster. Past it Lambda refuses the invocation, and API
 *    Gateway turns that refusal into a 500 `{"message":"Internal server error"}`
 *    (https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html),
 *    which clients do not retry. So the stage throttle should bite first, and
 *    the Throttles alarm means the sizes need another look.
 */
import type { StrandFunctionName } from './access';

/**
 * Lambda refuses a reservation that leaves less than 100 of the account's
 * concurrency unreserved, so that functions without a reservation can still
 * run ("You can reserve up to the Unreserved account concurrency value minus
 * 100", https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
 */
export const lambdaUnreservedConcurrencyMin = 100;

/**
 * The default per-Region concurrency quota of an account
 * (https://docs.aws.amazon.com/lambda/latest/dg/limits.html). New accounts start
 * lower (as low as 10), and AWS raises the quota with use; such an account can
 * reserve nothing at all.
 */
export const defaultAccountConcurrencyLimit = 1_000;

/**
 * Reserved concurrency per function by default: 450 in all, so two clusters
 * fit in an account with the default quota of 1,000 and still leave the 100
 * Lambda requires (884 ≤ 900), plus a little room for the account's other
 * functions. By Little's law (concurrency = requests per second × average
 * duration in seconds):
 * - produce 100: 1,000 produce requests/s at 100 ms each.
 * - fetch 200: 4,000 short fetches/s at 50 ms, or 200 consumers in a long poll
 *   at once (a 20 s long poll holds its execution environment the whole time).
 * - groups 50: heartbeats and commits of about 1,500 members/s at 30 ms.
 * - admin 20, schemas 20: metadata and the schema registry; serializers cache schemas.
 * - maintenance 2: the scheduled pass runs one at a time; 2 lets a late pass
 *   overlap the next instead of being throttled (EventBridge would retry it).
 * - notices 40: the notice socket's messages (connects, subscribes, a ping per
 *   connection every 5 minutes) at about 50 ms: 800 messages/s, above the
 *   socket's default throttle. A waiting consumer holds a connection, not an
 *   execution: 10,000 waiting consumers ping 33 times a second.
 * - notifier 10: stream batches run one per shard at a time, times the event
 *   source's parallelization factor (2), so 10 keeps up with 5 shards of the
 *   log table's stream; past that, batches queue and the iterator age alarm says so.
 * - triggers 8: the dispatcher's stream batches (parallelization factor 2, so
 *   3 shards) plus the minute's rescan and one to spare. Its leases keep a
 *   partition's batches in order whatever the concurrency; past 8, stream
 *   batches wait (the iterator age alarm) and the rescan is throttled and
 *   retried by EventBridge. The 8 bring the total to 450: two clusters still
 *   fit the default quota's 900.
 */
export const defaultReservedConcurrency: Record<StrandFunctionName, number> = {
  produce: 100,
  fetch: 200,
  groups: 50,
  admin: 20,
  schemas: 20,
  maintenance: 2,
  notices: 40,
  notifier: 10,
  triggers: 8,
};

/** Reserved concurrency of each function; `false` for none (the function shares the account's unreserved pool). */
export type ReservedConcurrency = Partial<Record<StrandFunctionName, number | false>>;

/** Stage-wide default route throttle: steady requests per second and the bucket of a burst. */
export interface StageThrottle {
  rateLimit: number;
  burstLimit: number;
}

/**
 * The stage's default throttle. 1,000 requests/s is what the default
 * reservations serve on the hottest path (produce: 100 × 1 / 0.1 s), so past it
 * clients are slowed with 429s before Lambda refuses invocations with 500s; a
 * tenth of API Gateway's default account limit of 10,000 requests/s
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html),
 * so one cluster's flood leaves the account's other APIs room. The burst, the
 * requests let through at once, stays below the 392 executions the default
 * reservations allow in all.
 */
export const defaultStageThrottle: StageThrottle = { rateLimit: 1_000, burstLimit: 350 };

/**
 * The notice socket stage's default route throttle, in messages per second
 * across its routes ($connect, subscribe, ping, …). 500/s is below the 800/s
 * the default notices reservation serves (40 / 50 ms), so clients get 429s
 * before Lambda refuses invocations; the burst equals that reservation, the
 * most messages it can take at once. A reconnect storm of 10,000 consumers
 * gets in within 20 s (the SDK retries a refused connect with backoff).
 */
export const defaultNoticeSocketThrottle: StageThrottle = { rateLimit: 500, burstLimit: 40 };

/** Alarm when a function's concurrency reaches this share of its reservation (sustained), before Lambda starts refusing. */
export const concurrencyNearLimitRatio = 0.8;

/**
 * The reservation each function gets: the defaults, overridden per function by
 * `reservedConcurrency`, none at all with `false`. Throws (at synth time) when
 * a value is not a positive integer or when the total would leave less than
 * Lambda's 100 unreserved of `accountConcurrencyLimit`, rather than letting
 * CloudFormation fail halfway through a deployment.
 */
export function resolveReservedConcurrency(
  names: readonly StrandFunctionName[],
  reserved: ReservedConcurrency | false | undefined,
  accountConcurrencyLimit: number = defaultAccountConcurrencyLimit,
): Partial<Record<StrandFunctionName, number>> {
  if (!Number.isInteger(accountConcurrencyLimit) || accountConcurrencyLimit < 1) {
    throw new Error(`Strand: accountConcurrencyLimit must be a positive integer, not ${accountConcurrencyLimit}.`);
  }
  if (reserved === false) return {};
  // Known means any function the construct can deploy: a reservation for the
  // notifier of a cluster without a notice socket is unused, not a mistake.
  for (const name of Object.keys(reserved ?? {})) {
    if (!(name in defaultReservedConcurrency)) throw new Error(`Strand: reservedConcurrency names an unknown function '${name}'.`);
  }
  const out: Partial<Record<StrandFunctionName, number>> = {};
  for (const name of names) {
    const value = reserved?.[name] ?? defaultReservedConcurrency[name];
    if (value === false) continue;
    // 0 would stop the function altogether: every route it serves would fail.
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`Strand: reservedConcurrency.${name} must be a positive integer or false (no reservation), not ${value}.`);
    }
    out[name] = value;
  }
  const total = Object.values(out).reduce((sum, n) => sum + n, 0);
  const reservable = accountConcurrencyLimit - lambdaUnreservedConcurrencyMin;
  if (total > 0 && total > reservable) {
    throw new Error(
      `Strand: reservedConcurrency reserves ${total} concurrent executions, but an account with a concurrency quota of ${accountConcurrencyLimit} ` +
        `can reserve at most ${Math.max(0, reservable)}: Lambda keeps ${lambdaUnreservedConcurrencyMin} unreserved. ` +
        'Lower the reservations, raise the quota (Service Quotas) and set accountConcurrencyLimit to it, ' +
        'or set reservedConcurrency: false (new accounts start with a lower quota).',
    );
  }
  return out;
}

export function validateStageThrottle(throttle: StageThrottle, prop = 'throttle'): void {
  const { rateLimit, burstLimit } = throttle;
  if (!(rateLimit > 0) || !Number.isFinite(rateLimit)) throw new Error(`Strand: ${prop}.rateLimit must be a positive number of requests per second, not ${rateLimit}.`);
  // API Gateway takes the burst as an integer (CloudFormation ThrottlingBurstLimit).
  if (!Number.isInteger(burstLimit) || burstLimit < 1) throw new Error(`Strand: ${prop}.burstLimit must be a positive integer, not ${burstLimit}.`);
}
