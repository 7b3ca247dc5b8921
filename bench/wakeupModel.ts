/**
 * A modelled wake-up on AWS: from a produce's acknowledgement to a waiting SDK
 * consumer's handler, as the sum of the hops a wake-up takes, each at a
 * median that is either documented or assumed (and said to be). The bench
 * counts the hops locally (notices per wake-up, fetches per wake-up, and a
 * fetch's DynamoDB reads and S3 GETs); this turns the counts into a figure.
 * It is a model, not a measurement: no AWS account ran it. Summing medians is
 * not the median of the sum, and hops overlap a little (the commit's stream
 * record exists before the acknowledgement reaches the producer); it is an
 * estimate of the order of magnitude and of which hop dominates.
 *
 * The path (infra/strand.ts, src/notify/):
 *   commit (UpdateItem on the head) → DynamoDB Streams record → the notifier's
 *   event source mapping polls the shard → invokes the notifier → one Query of
 *   the partition's watches → PostToConnection → API Gateway pushes the frame →
 *   the SDK fetches: HTTP API → fetch Lambda → head (and index) reads → S3
 *   ranged GET → answer → handler.
 */

export interface AwsHop {
  /** Median ms of the hop. */
  ms: number;
  /** Where the figure comes from: a documented rate or figure, or 'assumed'. */
  basis: string;
}

export const awsHops = {
  streamRecord: {
    ms: 50,
    basis: "assumed: DynamoDB publishes no figure for a change reaching the table's stream ('near-real time')",
  },
  eventSourcePoll: {
    ms: 125,
    basis:
      'documented: "The AWS Lambda service polls the stream for new records four times per second" (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.Lambda.html); a record waits half of 250 ms at the median (no batching window: infra/strand.ts)',
  },
  notifierInvoke: { ms: 20, basis: "assumed: the mapping's synchronous invocation of a warm function" },
  dynamodbRead: {
    ms: 5,
    basis: 'documented: "single-digit millisecond performance" (https://aws.amazon.com/dynamodb/)',
  },
  postToConnection: { ms: 20, basis: 'assumed: one SigV4-signed in-region HTTPS call to the @connections management API' },
  socketDelivery: { ms: 5, basis: 'assumed: API Gateway to a client in the same region, one way' },
  httpApiAndLambda: { ms: 15, basis: 'assumed: HTTP API routing, a warm Lambda invocation and an in-region round trip' },
  s3Get: {
    ms: 30,
    basis:
      'documented: small requests see "median latencies ... in the tens of milliseconds" (https://docs.aws.amazon.com/whitepapers/latest/s3-optimizing-performance-best-practices/timeouts-and-retries-for-latency-sensitive-applications.html)',
  },
} as const satisfies Record<string, AwsHop>;

/** Hops counted in the local run, per wake-up. */
export interface CountedHops {
  /** Notices posted per wake-up (one per waiting consumer of the partition: 1 here). */
  notices: number;
  /** Fetch requests from the notice to the handler (1 unless a fetch raced a commit). */
  fetches: number;
  /** DynamoDB reads one fetch of a new record makes, one after another (head, index). */
  dynamodbReadsPerFetch: number;
  /** S3 GETs one such fetch makes (ranged GETs of one fetch run in parallel: counted once if any). */
  s3GetsPerFetch: number;
}

export interface ModelledWakeup {
  ms: number;
  parts: { hop: string; ms: number }[];
}

export function modelledWakeupMs(counted: CountedHops, hops: Record<keyof typeof awsHops, AwsHop> = awsHops): ModelledWakeup {
  const fetches = Math.max(1, counted.fetches);
  const parts = [
    { hop: 'commit → stream record', ms: hops.streamRecord.ms },
    { hop: 'event source poll (4/s)', ms: hops.eventSourcePoll.ms },
    { hop: 'notifier invocation', ms: hops.notifierInvoke.ms },
    { hop: "notifier's Query of the watches", ms: hops.dynamodbRead.ms },
    // A notifier pass posts to every watcher at once: the consumer waits for one post.
    { hop: 'PostToConnection', ms: counted.notices > 0 ? hops.postToConnection.ms : 0 },
    { hop: 'frame to the client', ms: hops.socketDelivery.ms },
    { hop: 'fetch: HTTP API + Lambda', ms: fetches * hops.httpApiAndLambda.ms },
    { hop: "fetch: DynamoDB reads", ms: fetches * counted.dynamodbReadsPerFetch * hops.dynamodbRead.ms },
    { hop: 'fetch: S3 ranged GET', ms: fetches * (counted.s3GetsPerFetch > 0 ? hops.s3Get.ms : 0) },
  ];
  return { ms: parts.reduce((n, p) => n + p.ms, 0), parts };
}
