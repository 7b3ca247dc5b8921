/**
 * `strand triggers …`, run as child processes against a real local Strand.
 * How: a trigger is created, read, paused, resumed and deleted through the CLI,
 * and what it printed is checked against the API.
 */
import { createTopic, type TestStrand } from '../support/localStrand';
import { startTriggerStrand } from '../triggers/support';
import { runCli } from './run';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTriggerStrand();
  await createTopic(strand.http, 'cli-trig', 2);
  await createTopic(strand.http, 'cli-trig-dlq', 1);
});
afterAll(() => strand.dispose());

const strandCli = (args: string[]) => runCli(strand.url, args);

describe('strand triggers', () => {
  test('create, list, get, pause, resume and delete a trigger', async () => {
    const created = await strandCli([
      'triggers', 'create', 'cli-hook', '--topic', 'cli-trig', '--http', 'http://127.0.0.1:9/hook', '--secret', 'whsec_cli-secret-0123456789',
      '--batch-size', '50', '--starting-position', 'earliest', '--bisect', '--dead-letter-topic', 'cli-trig-dlq',
    ]);
    expect(created).toMatchObject({ code: 0, stdout: "Created trigger 'cli-hook': cli-trig → http http://127.0.0.1:9/hook (signed) (progress in group trigger-cli-hook).\n" });

    expect((await strandCli(['triggers', 'list'])).stdout).toMatch(/cli-hook\s+ACTIVE\s+cli-trig\s+http http:\/\/127\.0\.0\.1:9\/hook \(signed\)/);
    const got = JSON.parse((await strandCli(['--json', 'triggers', 'get', 'cli-hook'])).stdout);
    expect(got).toMatchObject({
      name: 'cli-hook',
      topic: 'cli-trig',
      target: { type: 'http', secretSet: true },
      batchSize: 50,
      startingPosition: 'EARLIEST',
      bisectBatchOnError: true,
      deadLetterTopic: 'cli-trig-dlq',
      maxRetryAttempts: 3,
      groupId: 'trigger-cli-hook',
    });
    expect(JSON.stringify(got)).not.toContain('whsec_cli-secret');
    expect((await strandCli(['triggers', 'get', 'cli-hook'])).stdout).toContain('Trigger: cli-hook  state: ACTIVE  topic: cli-trig');

    expect(await strandCli(['triggers', 'pause', 'cli-hook'])).toMatchObject({ code: 0, stdout: "Trigger 'cli-hook' is PAUSED.\n" });
    expect((await strandCli(['triggers', 'list'])).stdout).toMatch(/cli-hook\s+PAUSED/);
    expect(await strandCli(['triggers', 'resume', 'cli-hook'])).toMatchObject({ code: 0, stdout: "Trigger 'cli-hook' is ACTIVE.\n" });

    expect(await strandCli(['triggers', 'delete', 'cli-hook'])).toMatchObject({ code: 0, stdout: "Deleted trigger 'cli-hook'.\n" });
    expect((await strandCli(['triggers', 'list'])).stdout).toBe('No triggers.\n');
    const gone = await strandCli(['triggers', 'get', 'cli-hook']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("Trigger 'cli-hook' not found. (error 40407)");
  });

  test('a module target is named by path and export; a lambda target is refused locally with why', async () => {
    const created = await strandCli(['triggers', 'create', 'cli-mod', '--topic', 'cli-trig', '--handler', './test/triggers/fixtures/orders.ts#handler']);
    expect(created.code).toBe(0);
    const lambda = await strandCli(['triggers', 'create', 'cli-fn', '--topic', 'cli-trig', '--lambda', 'arn:aws:lambda:us-east-1:123456789012:function:orders']);
    expect(lambda.code).toBe(1);
    expect(lambda.stderr).toContain('lambda targets deliver only on AWS');
  });

  test('usage errors exit 2 before any request: no target, two targets, a secret without --http', async () => {
    for (const args of [
      ['triggers', 'create', 'x', '--topic', 'cli-trig'],
      ['triggers', 'create', 'x', '--topic', 'cli-trig', '--http', 'http://a/b', '--handler', './h.ts#h'],
      ['triggers', 'create', 'x', '--topic', 'cli-trig', '--handler', './h.ts#h', '--secret', 'whsec_0123456789abcdef'],
      ['triggers', 'create', 'x', '--topic', 'cli-trig', '--http', 'http://a/b', '--batch-size', 'many'],
      ['triggers', 'create', 'x', '--http', 'http://a/b'],
      ['triggers', 'create', 'x', '--topic', 'cli-trig', '--topic-pattern', 'cli-.*', '--http', 'http://a/b'],
    ]) {
      const run = await strandCli(args);
      expect(run.code).toBe(2);
    }
    expect((await strandCli(['triggers', 'list'])).stdout).not.toMatch(/^x\s/m);
  });

  test('--topic-pattern names every topic whose whole name matches', async () => {
    const created = await strandCli(['triggers', 'create', 'cli-pat', '--topic-pattern', 'cli-trig.*', '--http', 'http://127.0.0.1:9/hook']);
    expect(created).toMatchObject({ code: 0, stdout: "Created trigger 'cli-pat': /cli-trig.*/ → http http://127.0.0.1:9/hook (progress in group trigger-cli-pat).\n" });
    expect((await strandCli(['triggers', 'get', 'cli-pat'])).stdout).toContain('Trigger: cli-pat  state: ACTIVE  topic pattern: cli-trig.*');
    expect(JSON.parse((await strandCli(['--json', 'triggers', 'get', 'cli-pat'])).stdout)).toMatchObject({ topic: null, topicPattern: 'cli-trig.*' });
    expect((await strandCli(['triggers', 'delete', 'cli-pat'])).code).toBe(0);
  });
});
