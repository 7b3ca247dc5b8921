import { kinesisUsdPerGib, mskServerlessUsdPerGib, usdPerGibIngested, usdPerProduceRequest, type ProduceRequestProfile } from './costModel';
import { prices } from './prices';

// How: each rule recomputed by hand from the price table, so a change to the
// model's arithmetic (or to a price) shows up as a named failure.
const mib = 1024 * 1024;
const gib = 1024 ** 3;

/** A produce request as the bench measures one: one PUT, ~1.5 write units, a short handler. */
function request(bytes: number, extra: Partial<ProduceRequestProfile> = {}): ProduceRequestProfile {
  return { requestBytes: bytes, s3Puts: 1, dynamodbWriteUnits: 1.5, dynamodbReadUnits: 0, lambdaMs: 20, lambdaMemoryMiB: 1024, ...extra };
}

describe('cost model', () => {
  test('a produce request pays API Gateway, the Lambda request and its GB-seconds, its PUTs and its write units', () => {
    const expected =
      prices.apiGateway.perRequest + prices.lambda.perRequest + 1 * 0.02 * prices.lambda.perGbSecond + prices.s3.putPerRequest + 1.5 * prices.dynamodb.perWriteRequestUnit;
    expect(usdPerProduceRequest(request(64 * 1024))).toBeCloseTo(expected, 12);
  });

  test('API Gateway meters HTTP API requests in 512 KB steps: a 1 MiB body is two requests', () => {
    const diff = usdPerProduceRequest(request(mib)) - usdPerProduceRequest(request(512 * 1024));
    expect(diff).toBeCloseTo(prices.apiGateway.perRequest, 12);
  });

  test('the direct path\'s read-back GET is priced as an S3 GET', () => {
    const diff = usdPerProduceRequest(request(mib, { s3Gets: 1 })) - usdPerProduceRequest(request(mib));
    expect(diff).toBeCloseTo(prices.s3.getPerRequest, 12);
  });

  test('the cost per GiB is per request, so it falls with batch size', () => {
    const small = usdPerGibIngested(request(64 * 1024));
    const large = usdPerGibIngested(request(mib));
    expect(small).toBeCloseTo((gib / (64 * 1024)) * usdPerProduceRequest(request(64 * 1024)), 10);
    expect(large).toBeLessThan(small / 10);
  });

  test('Kinesis on-demand bills each record rounded up to 1 KB: a GiB of 1 KiB records is about $0.086, of 100-byte records ten times that', () => {
    expect(kinesisUsdPerGib(1024)).toBeCloseTo((gib / 1e9) * prices.kinesisOnDemand.ingestPerGb, 10);
    expect(kinesisUsdPerGib(1024)).toBeCloseTo(0.0859, 4);
    expect(kinesisUsdPerGib(100)).toBeCloseTo((gib / 100) * 1024 / 1e9 * prices.kinesisOnDemand.ingestPerGb, 10);
  });

  test('MSK Serverless data-in is per GB written', () => {
    expect(mskServerlessUsdPerGib()).toBeCloseTo((gib / 1e9) * prices.mskServerless.dataInPerGb, 10);
  });
});
