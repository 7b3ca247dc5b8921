/**
 * The bench's counts are what its dollars are computed from, so the counting
 * middleware is specified here against the real emulators.
 */
import { createHash } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { countRequests } from '../../bench/requestCounter';
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
});
