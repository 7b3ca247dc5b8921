/**
 * The metrics on AWS: EMF lines (CloudWatch's Embedded Metric Format) for
 * per-topic traffic, written by the dispatch in Lambda only, and consumer lag
 * written by the maintenance pass. How: lines are captured and checked against
 * the EMF specification's rules (every dimension named is a field of the line,
 * every metric a number); Lambda is simulated by AWS_LAMBDA_FUNCTION_NAME,
 * which is all the code looks at; lag comes from a real local Strand.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { cluster, createTopic, startTestStrand, topicPath, type TestStrand } from '../support/localStrand';
import { expectStatus } from '../support/api';
import { emfMetricNames, emitTrafficMetrics, lagEmfLines, metricsNamespace, trafficEmfLines } from '../../src/metrics/emf';
import { publishConsumerLag } from '../../src/metrics/lagMetrics';
import { runMaintenance } from '../../src/maintenance/runMaintenance';
import type { Runtime } from '../../src/runtime';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** The EMF specification's rules for one line; returns the line parsed. */
function checkEmf(line: string): Json {
  const doc = JSON.parse(line);
  const directive = doc._aws.CloudWatchMetrics[0];
  expect(typeof doc._aws.Timestamp).toBe('number');
  expect(directive.Namespace).toBe(metricsNamespace);
  for (const set of directive.Dimensions as string[][]) {
    expect(set.length).toBeLessThanOrEqual(30);
    for (const d of set) expect(typeof doc[d]).toBe('string');
  }
  for (const m of directive.Metrics as { Name: string }[]) expect(typeof doc[m.Name]).toBe('number');
  return doc;
}

async function inLambda<T>(run: () => Promise<T> | T): Promise<T> {
  const before = process.env.AWS_LAMBDA_FUNCTION_NAME;
  process.env.AWS_LAMBDA_FUNCTION_NAME = 'strand-test';
  try {
    return await run();
  } finally {
    if (before === undefined) delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    else process.env.AWS_LAMBDA_FUNCTION_NAME = before;
  }
}

describe('traffic as EMF', () => {
  const runtime = { config: { clusterId: 'prod' }, clock: { now: () => 1_000 }, logger: new Logger({ logLevel: 'ERROR' }) } as unknown as Runtime;
  const produce = {
    routeKey: 'POST /v3/clusters/{cluster_id}/topics/{topic_name}/records:batch',
    pathParameters: { cluster_id: 'prod', topic_name: 'orders' },
    query: {},
    headers: {},
    body: Buffer.from('{"entries":[…]}'),
  };
  const answer = { status: 207, json: { successes: [{ id: '1' }, { id: '2' }], failures: [{ id: '3' }] } };

  test('a produce in Lambda writes one line per topic: records appended and request bytes, by topic and by cluster', async () => {
    const lines: string[] = [];
    await inLambda(() => emitTrafficMetrics(runtime, produce, answer, (l) => lines.push(l)));
    expect(lines).toHaveLength(1);
    const doc = checkEmf(lines[0]!);
    expect(doc).toMatchObject({ ClusterId: 'prod', Topic: 'orders', [emfMetricNames.recordsIn]: 2, [emfMetricNames.bytesIn]: produce.body.length });
    expect(doc._aws.CloudWatchMetrics[0].Dimensions).toEqual([['ClusterId', 'Topic'], ['ClusterId']]);
  });

  test('outside Lambda, and for answers that are not 2xx, nothing is written', async () => {
    const lines: string[] = [];
    emitTrafficMetrics(runtime, produce, answer, (l) => lines.push(l));
    await inLambda(() => emitTrafficMetrics(runtime, produce, { status: 404, json: {} }, (l) => lines.push(l)));
    expect(lines).toEqual([]);
  });

  test('a fetch answer counts records out and its bytes', () => {
    const [line] = trafficEmfLines('prod', [{ topic: 't', direction: 'out', records: 5, bytes: 900 }], 1);
    expect(checkEmf(line!)).toMatchObject({ Topic: 't', RecordsOut: 5, BytesOut: 900 });
  });
});

describe('consumer lag from the maintenance pass', () => {
  let strand: TestStrand;
  beforeAll(async () => {
    strand = await startTestStrand();
    await createTopic(strand.http, 'lagged', 2);
    for (const p of [0, 0, 0, 1]) expectStatus(await strand.http.post(`${topicPath('lagged')}/records`, { partition_id: p, value: { type: 'STRING', data: 'x' } }), 200);
    const commit = { offsets: [{ topic_name: 'lagged', partition_id: 0, offset: 1 }, { topic_name: 'lagged', partition_id: 1, offset: 1 }] };
    expectStatus(await strand.http.post(`${cluster}/consumer-groups/slow/offsets:commit`, commit), 200);
  });
  afterAll(() => strand.dispose());

  test('one line per group and topic: the sum of partition lags and the largest, by group and topic, group, and cluster', async () => {
    const lines: string[] = [];
    await publishConsumerLag(strand.runtime, { force: true, write: (l) => lines.push(l) });
    const docs = lines.map(checkEmf).filter((d) => d.ConsumerGroup === 'slow');
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ ClusterId: 'local', ConsumerGroup: 'slow', Topic: 'lagged', ConsumerLag: 2, MaxPartitionLag: 2 });
    expect(docs[0]._aws.CloudWatchMetrics[0].Dimensions).toEqual([['ClusterId', 'ConsumerGroup', 'Topic'], ['ClusterId', 'ConsumerGroup'], ['ClusterId']]);
  });

  test('runMaintenance writes the lag lines to stdout in Lambda, and none outside it', async () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await runMaintenance(strand.runtime);
      expect(written.filter((w) => w.includes('"ConsumerLag"'))).toEqual([]);
      await inLambda(() => runMaintenance(strand.runtime));
    } finally {
      spy.mockRestore();
    }
    const lag = written.filter((w) => w.includes('"ConsumerGroup":"slow"')).map((w) => checkEmf(w.trim()));
    expect(lag).toHaveLength(1);
    expect(lag[0].ConsumerLag).toBe(2);
  });

  test('a group with no lag reports zero, not nothing (the alarm sees it recover)', () => {
    const [line] = lagEmfLines('c', { groups: [{ group: 'g', partitions: [{ topic: 't', partition: 0, currentOffset: 5, logEndOffset: 5, lag: 0 }] }] }, 1);
    expect(checkEmf(line!)).toMatchObject({ ConsumerLag: 0, MaxPartitionLag: 0 });
  });
});
