/**
 * `strand triggers create … --s3 <bucket>/<prefix>` (cli/triggers.ts), run as a
 * child process against a real local Strand, and the spec parsing on its own.
 */
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { createTopic, type TestStrand } from '../support/localStrand';
import { runCli } from '../cli/run';
import { s3TargetOf } from '../../cli/triggers';
import { startTriggerStrand } from './support';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTriggerStrand();
  await createTopic(strand.http, 'cli-archive', 1);
});
afterAll(() => strand.dispose());

describe('strand triggers create --s3', () => {
  test('bucket/prefix, a bucket alone, /prefix for the deployment\'s bucket, s3:// allowed', () => {
    expect(s3TargetOf('my-bucket/archive/')).toEqual({ type: 's3', bucket: 'my-bucket', prefix: 'archive/' });
    expect(s3TargetOf('s3://my-bucket/a/b')).toEqual({ type: 's3', bucket: 'my-bucket', prefix: 'a/b/' });
    expect(s3TargetOf('my-bucket')).toEqual({ type: 's3', bucket: 'my-bucket', prefix: '' });
    expect(s3TargetOf('/archive/')).toEqual({ type: 's3', prefix: 'archive/' });
    expect(() => s3TargetOf('/')).toThrow(/needs a bucket, a prefix or both/);
  });

  test('creates an archive trigger and shows where it writes', async () => {
    await strand.runtime.clients.s3.send(new CreateBucketCommand({ Bucket: 'cli-archive-bucket' }));
    const created = await runCli(strand.url, ['triggers', 'create', 'cli-s3', '--topic', 'cli-archive', '--s3', 'cli-archive-bucket/lake/orders']);
    expect(created).toMatchObject({ code: 0, stdout: "Created trigger 'cli-s3': cli-archive → s3 s3://cli-archive-bucket/lake/orders/ (progress in group trigger-cli-s3).\n" });
    const own = await runCli(strand.url, ['--json', 'triggers', 'create', 'cli-s3-own', '--topic', 'cli-archive', '--s3', '/archive/']);
    expect(JSON.parse(own.stdout)).toMatchObject({ target: { type: 's3', bucket: strand.runtime.config.bucket, prefix: 'archive/' }, maxRetryAttempts: -1 });
    const refused = await runCli(strand.url, ['triggers', 'create', 'cli-s3-bad', '--topic', 'cli-archive', '--s3', '/archive/', '--bisect']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("'bisect_batch_on_error' must be false");
  });
});
