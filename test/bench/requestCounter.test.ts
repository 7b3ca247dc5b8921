/**
 * The bench's counts are what its dollars are computed from, so the counting
 * middleware is specified here against the real emulators.
 */
import { createHash } from 'node:crypto';
import { DeleteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { attributeRequests, countRequests, countsBetween, snapshotCounts, tableTotals } from '../../bench/requestCounter';
import { startTestStrand, type TestStrand } from '../support/localStrand';

let strand: TestStrand;
let counts: ReturnType<typeof countRequests>;
beforeAll(async () => {
  strand = await startTestStrand();
  counts = countRequests(strand.runtime.clients);
});
beforeEach(() => counts.reset());
afterAll(() => strand.dispose());

describe('bench request counting', () => {
  test('S3 PUTs and GETs are counted; presigning a URL sends nothing and counts nothing', async () => {
    const objects = strand.runtime.engine.context.objects;
    const body = Buffer.from('counted');
    await objects.put('bench-count/a', body);
    await objects.getRange('bench-count/a', 0, body.length);
    await objects.presignPut('bench-count/b', body.length, createHash('sha256').update(body).digest('base64'), 60);
    await objects.presignGet('bench-count/a', 60);
    expect({ puts: counts.s3Puts, gets: counts.s3Gets, other: counts.s3Other }).toEqual({ puts: 1, gets: 1, other: 0 });
  });

  test('DynamoDB requests are counted with the capacity units they consumed', async () => {
    await strand.runtime.clients.dynamodb.send(new GetItemCommand({ TableName: strand.runtime.config.tables.log, Key: { pk: { S: 'nothing' }, sk: { N: '-1' } } }));
    expect(counts.dynamodb).toBe(1);
    expect(counts.dynamodbReadUnits).toBeGreaterThan(0);
    expect(counts.dynamodbWriteUnits).toBe(0);
  });

  test('DynamoDB requests and units are counted per table too, reads apart from writes', async () => {
    const { log, groups } = strand.runtime.config.tables;
    await strand.runtime.clients.dynamodb.send(new GetItemCommand({ TableName: log, Key: { pk: { S: 'nothing' }, sk: { N: '-1' } } }));
    await strand.runtime.clients.dynamodb.send(new PutItemCommand({ TableName: groups, Item: { pk: { S: 'bench-count' } } }));
    const before = snapshotCounts(counts);
    await strand.runtime.clients.dynamodb.send(new DeleteItemCommand({ TableName: groups, Key: { pk: { S: 'bench-count' } } }));
    expect({ reads: counts.dynamodbReads, writes: counts.dynamodbWrites }).toEqual({ reads: 1, writes: 2 });
    expect(tableTotals(counts, log)).toMatchObject({ reads: 1, writes: 0, writeUnits: 0, readUnits: counts.dynamodbReadUnits });
    expect(tableTotals(counts, groups)).toMatchObject({ reads: 0, writes: 2, readUnits: 0, writeUnits: counts.dynamodbWriteUnits });
    const delta = countsBetween(before, snapshotCounts(counts));
    expect({ writes: delta.dynamodbWrites, reads: delta.dynamodbReads, groupWrites: tableTotals(delta, groups).writes, logReads: tableTotals(delta, log).reads }).toEqual({ writes: 1, reads: 0, groupWrites: 1, logReads: 0 });
  });

  test('storage calls made while serving an HTTP request are tallied under that request; calls outside any request under none', async () => {
    const attribution = attributeRequests((method, path) => `${method} ${path.split('/').pop()}`);
    const attributed = countRequests(strand.runtime.clients, { activity: attribution.activity });
    try {
      await strand.http.request('POST', '/v3/clusters/local/topics', { json: { topic_name: 'bench-attributed', partitions_count: 1 } });
      await Promise.all([strand.http.request('GET', '/v3/clusters/local/topics/bench-attributed'), strand.http.request('GET', '/v3/clusters/local/topics/bench-attributed/partitions')]);
      await strand.runtime.clients.dynamodb.send(new GetItemCommand({ TableName: strand.runtime.config.tables.log, Key: { pk: { S: 'nothing' }, sk: { N: '-1' } } }));
      const { topics, log } = strand.runtime.config.tables;
      expect(attributed.byActivity.get('POST topics')?.tables.get(topics)?.writes).toBe(1);
      expect(attributed.byActivity.get('GET bench-attributed')?.tables.get(topics)?.reads).toBeGreaterThanOrEqual(1);
      expect(attributed.byActivity.get('GET partitions')?.tables.get(topics)?.reads).toBeGreaterThanOrEqual(1);
      expect(attributed.byActivity.get('')?.tables.get(log)?.reads).toBe(1);
    } finally {
      attribution.stop();
    }
  });
});
