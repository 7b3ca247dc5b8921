import {
  idleConsumerCost,
  kinesisOnDemandStreamUsdPerMonth,
  longPollPartitionCost,
  longPollWaitCost,
  monthMs,
  mskServerlessClusterUsdPerMonth,
  timesPerMonth,
  totalUsd,
  usdOfWork,
  webSocketBilledMessages,
  type Work,
} from './idleCost';
import { hoursPerMonth, prices } from './prices';

// How: each rule recomputed by hand from the price table, so a change to the
// model's arithmetic (or to a price) shows up as a named failure.
const minute = 60_000;
const monthMinutes = hoursPerMonth * 60;

describe('idle consumer cost', () => {
  test('a month is 730 hours, as AWS prices it', () => {
    expect(monthMs).toBe(730 * 3600 * 1000);
  });

  test('a consumer that sends nothing costs only its connection minutes: about a cent a month', () => {
    const cost = idleConsumerCost({ windowMs: minute, consumers: 1, activities: { 'notice socket': { webSocketConnectionMs: minute } } });
    expect(cost.usdPerConsumerMonth).toBeCloseTo(monthMinutes * prices.apiGatewayWebSocket.perConnectionMinute, 12);
    expect(cost.usdPerConsumerMonth).toBeCloseTo(0.01095, 5);
    expect(cost.byLine.webSocketConnectionMinutes).toBe(cost.usdPerConsumerMonth);
  });

  test('the figure is per month: the same counts over twice the window cost half, twice the counts over twice the window the same', () => {
    const work: Work = { httpRequests: 12, dynamodbReadUnits: 12, dynamodbWriteUnits: 24 };
    const double = (w: Work): Work => ({ httpRequests: w.httpRequests! * 2, dynamodbReadUnits: w.dynamodbReadUnits! * 2, dynamodbWriteUnits: w.dynamodbWriteUnits! * 2 });
    const base = idleConsumerCost({ windowMs: minute, consumers: 1, activities: { a: work } }).usdPerConsumerMonth;
    expect(idleConsumerCost({ windowMs: 2 * minute, consumers: 1, activities: { a: work } }).usdPerConsumerMonth).toBeCloseTo(base / 2, 12);
    expect(idleConsumerCost({ windowMs: 2 * minute, consumers: 1, activities: { a: double(work) } }).usdPerConsumerMonth).toBeCloseTo(base, 12);
  });

  test('the window is split between the consumers it counted', () => {
    const activities = { heartbeats: { httpRequests: 24 } };
    const one = idleConsumerCost({ windowMs: minute, consumers: 1, activities }).usdPerConsumerMonth;
    expect(idleConsumerCost({ windowMs: minute, consumers: 2, activities }).usdPerConsumerMonth).toBeCloseTo(one / 2, 12);
  });

  test('a heartbeat every 5 s is 525,600 HTTP requests a month: $0.53 of API Gateway alone, above a $0.50 budget', () => {
    expect(timesPerMonth(5_000)).toBe(525_600);
    const cost = idleConsumerCost({ windowMs: minute, consumers: 1, activities: { 'group heartbeats': { httpRequests: 12 } } });
    expect(cost.byActivity['group heartbeats']!.lines.apiGatewayHttp).toBeCloseTo(525_600 * prices.apiGateway.perRequest, 9);
    expect(cost.usdPerConsumerMonth).toBeGreaterThan(0.5);
  });

  test('recurring work is priced at its interval, whatever the window: a ping every 5 minutes is 8,760 a month', () => {
    const ping: Work = { webSocketMessages: 2, lambda: [{ invocations: 1, billedMs: 3, memoryMiB: 256 }] };
    const cost = idleConsumerCost({ windowMs: minute, consumers: 2, activities: {} }, [{ activity: 'keepalive', everyMs: 5 * minute, work: ping }]);
    expect(timesPerMonth(5 * minute)).toBe(8_760);
    expect(cost.usdPerConsumerMonth).toBeCloseTo(8_760 * totalUsd(usdOfWork(ping)), 12);
    const longer = idleConsumerCost({ windowMs: 10 * minute, consumers: 2, activities: {} }, [{ activity: 'keepalive', everyMs: 5 * minute, work: ping }]);
    expect(longer.usdPerConsumerMonth).toBeCloseTo(cost.usdPerConsumerMonth, 12);
  });

  test('an activity counted in the window and as recurring work is one line of the breakdown, the sum of both', () => {
    const cost = idleConsumerCost(
      { windowMs: minute, consumers: 1, activities: { 'notice socket': { webSocketConnectionMs: minute } } },
      [{ activity: 'notice socket', everyMs: 5 * minute, work: { webSocketMessages: 2 } }],
    );
    expect(Object.keys(cost.byActivity)).toEqual(['notice socket']);
    expect(cost.byActivity['notice socket']!.usd).toBeCloseTo(monthMinutes * prices.apiGatewayWebSocket.perConnectionMinute + 8_760 * 2 * prices.apiGatewayWebSocket.perMessage, 12);
  });

  test('Lambda bills memory × duration and a request per invocation; the total is the sum of the lines', () => {
    const lines = usdOfWork({ httpRequests: 1, lambda: [{ invocations: 1, billedMs: 20, memoryMiB: 1024 }, { invocations: 2, billedMs: 10, memoryMiB: 256 }], dynamodbReadUnits: 1, dynamodbWriteUnits: 2, s3Gets: 1 });
    expect(lines.lambdaRequests).toBeCloseTo(3 * prices.lambda.perRequest, 15);
    expect(lines.lambdaGbSeconds).toBeCloseTo((1 * 0.02 + 0.25 * 0.01) * prices.lambda.perGbSecond, 15);
    expect(totalUsd(lines)).toBeCloseTo(
      prices.apiGateway.perRequest + lines.lambdaRequests + lines.lambdaGbSeconds + prices.dynamodb.perReadRequestUnit + 2 * prices.dynamodb.perWriteRequestUnit + prices.s3.getPerRequest,
      15,
    );
  });

  test('WebSocket messages are metered in 32 KB steps: a 33 KB message is two', () => {
    expect(webSocketBilledMessages(100)).toBe(1);
    expect(webSocketBilledMessages(32 * 1024)).toBe(1);
    expect(webSocketBilledMessages(33 * 1024)).toBe(2);
    expect(webSocketBilledMessages(0)).toBe(1);
  });

  test('the long-poll design costs about $38 per partition-month: a 1 GiB fetch held all month and a head read every 100 ms', () => {
    const { usdPerMonth, lines } = longPollPartitionCost({ memoryMiB: 1024, headReadIntervalMs: 100, readUnitsPerHeadRead: 1, maxWaitMs: 5_000 });
    expect(lines.lambdaGbSeconds).toBeCloseTo((monthMs / 1000) * prices.lambda.perGbSecond, 6);
    expect(lines.dynamodbReads).toBeCloseTo((monthMs / 100) * prices.dynamodb.perReadRequestUnit, 6);
    expect(usdPerMonth).toBeGreaterThan(37);
    expect(usdPerMonth).toBeLessThan(39);
  });

  test('a plain client waiting on 6 partitions pays the held executions and a head read per partition every interval: 6 held requests cost 6 partitions, one request over 6 partitions far less', () => {
    const design = { memoryMiB: 1024, headReadIntervalMs: 100, readUnitsPerHeadRead: 1, maxWaitMs: 5_000 };
    const one = longPollPartitionCost(design);
    expect(longPollWaitCost(design, { heldRequests: 6, partitionsRead: 6 }).usdPerMonth).toBeCloseTo(6 * one.usdPerMonth, 6);
    const shared = longPollWaitCost(design, { heldRequests: 1, partitionsRead: 6 });
    expect(shared.usdPerMonth).toBeCloseTo(one.usdPerMonth + 5 * one.lines.dynamodbReads, 6);
    expect(shared.usdPerMonth).toBeLessThan(2 * one.usdPerMonth);
  });

  test('Kinesis on-demand charges $0.04 per stream-hour: $29.20 a stream-month with no data', () => {
    expect(kinesisOnDemandStreamUsdPerMonth()).toBeCloseTo(29.2, 10);
  });

  test('MSK Serverless charges a cluster-hour and a partition-hour for each partition: $560.64 a month for 12 partitions', () => {
    expect(mskServerlessClusterUsdPerMonth(12)).toBeCloseTo(730 * (0.75 + 12 * 0.0015), 10);
    expect(mskServerlessClusterUsdPerMonth(12)).toBeCloseTo(560.64, 6);
  });

  test('a window needs a length and a consumer', () => {
    expect(() => idleConsumerCost({ windowMs: 0, consumers: 1, activities: {} })).toThrow();
    expect(() => idleConsumerCost({ windowMs: minute, consumers: 0, activities: {} })).toThrow();
  });
});
