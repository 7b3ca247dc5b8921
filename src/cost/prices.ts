/**
 * List prices, us-east-1, in US dollars, as published on the pages named beside
 * each, read on the date below. The bench applies them to request counts it
 * measured; nothing here is a measurement. Check the pages before relying on a
 * number: AWS changes prices (DynamoDB on-demand halved on 2024-11-01).
 */
export const pricesAsOf = '2026-11-26';

/** A month as AWS's pricing pages and calculator count it: 730 hours. */
export const hoursPerMonth = 730;

export const prices = {
  s3: {
    source: 'https://aws.amazon.com/s3/pricing/ (S3 Standard)',
    putPerRequest: 0.005 / 1000,
    getPerRequest: 0.0004 / 1000,
    storagePerGbMonth: 0.023,
  },
  dynamodb: {
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    perWriteRequestUnit: 0.625 / 1e6,
    perReadRequestUnit: 0.125 / 1e6,
  },
  apiGateway: {
    source: 'https://aws.amazon.com/api-gateway/pricing/ (HTTP APIs, first 300 million)',
    perRequest: 1.0 / 1e6,
    /** HTTP API requests are metered in 512 KB increments. */
    meteringBytes: 512 * 1024,
  },
  // Added 2026-12-01 (the notice socket's idle cost, issue 15).
  apiGatewayWebSocket: {
    source: 'https://aws.amazon.com/api-gateway/pricing/ (WebSocket APIs, first billion messages)',
    /** Messages sent and received, each metered in 32 KB increments. */
    perMessage: 1.0 / 1e6,
    meteringBytes: 32 * 1024,
    perConnectionMinute: 0.25 / 1e6,
  },
  lambda: {
    source: 'https://aws.amazon.com/lambda/pricing/ (Arm)',
    perGbSecond: 0.0000133334,
    perRequest: 0.2 / 1e6,
  },
  kinesisOnDemand: {
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/ (on-demand)',
    ingestPerGb: 0.08,
    /** Each on-demand stream is charged per hour it exists, whatever flows through it (added 2026-12-01). */
    streamHour: 0.04,
    /** Each record is billed rounded up to the next KB. */
    recordRoundingBytes: 1024,
  },
  mskServerless: {
    source: 'https://aws.amazon.com/msk/pricing/ (MSK Serverless)',
    dataInPerGb: 0.1,
    clusterHour: 0.75,
    partitionHour: 0.0015,
  },
  dynamodbStreams: {
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/ (DynamoDB Streams: GetRecords calls invoked by Lambda triggers are free)',
    /** The notifier's event source mapping reads the log table's stream: no charge per read. */
    lambdaTriggerReadPerRequest: 0,
  },
} as const;
