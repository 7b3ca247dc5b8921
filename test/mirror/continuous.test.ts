/**
 * The mirror running on its own: a continuous run that copies what arrives
 * while it runs and stops on its signal; and the Lambda's bounded run
 * (src/mirror/lambda.ts) against local Strands, with its EMF line. How: records
 * are produced while the run goes on; the target is read back whole.
 */
import { Mirror } from '../../src/mirror/mirror';
import { MemoryStateStore } from '../../src/mirror/mirrorState';
import { mirrorConfigEnvVar, mirrorMetricNames, runMirrorFunction, type MirrorFunctionConfig } from '../../src/mirror/lambda';
import { copiedOffsets, produce, range, useClusters } from './support';

const clusters = useClusters('east', 'west');
const east = () => clusters[0]!;
const west = () => clusters[1]!;

async function until(predicate: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('continuous', () => {
  test('a continuous run copies records as they arrive, picks up a topic created meanwhile, and stops on its signal', async () => {
    await east().client.admin().createTopic('live-a', { partitions: 2 });
    const abort = new AbortController();
    const mirror = new Mirror({ source: east().client, target: west().client, topics: 'live-.*', state: new MemoryStateStore(), pollIntervalMs: 50, topicRefreshMs: 200 });
    const running = mirror.run({ signal: abort.signal });
    for (let i = 0; i < 5; i++) {
      await produce(east().client, 'live-a', i % 2, 3, 'v', Math.floor(i / 2) * 3);
      await new Promise((r) => setTimeout(r, 60));
    }
    await east().client.admin().createTopic('live-b', { partitions: 1 });
    await produce(east().client, 'live-b', 0, 4);
    await until(async () => (await copiedOffsets(west().client, 'east.live-a', 0)).length === 9 && (await west().client.admin().listTopics()).includes('east.live-b') && (await copiedOffsets(west().client, 'east.live-b', 0)).length === 4);
    abort.abort();
    const last = await running;
    expect(last.errors).toEqual([]);
    expect(await copiedOffsets(west().client, 'east.live-a', 0)).toEqual(range(0, 9));
    expect(await copiedOffsets(west().client, 'east.live-a', 1)).toEqual(range(0, 6));
    expect(await copiedOffsets(west().client, 'east.live-b', 0)).toEqual(range(0, 4));
  });
});

describe('the Lambda function', () => {
  test('a bounded run from its environment copies, continues where the last run stopped, and writes one EMF line with the lag', async () => {
    await east().client.admin().createTopic('fn-orders', { partitions: 1 });
    await produce(east().client, 'fn-orders', 0, 5);
    const config: MirrorFunctionConfig = {
      name: 'fn-mirror',
      source: { url: east().strand.url, clusterId: 'east' },
      target: { url: west().strand.url, clusterId: 'west' },
      topics: 'fn-.*',
      runSeconds: 1,
    };
    const env = { [mirrorConfigEnvVar]: JSON.stringify(config) };
    const lines: string[] = [];
    const first = await runMirrorFunction(env, (l) => lines.push(l));
    expect(first).toEqual({ copied: 5, caughtUp: true, errors: [] });
    await produce(east().client, 'fn-orders', 0, 3, 'v', 5);
    const second = await runMirrorFunction(env, (l) => lines.push(l));
    expect(second.copied).toBe(3);
    expect(await copiedOffsets(west().client, 'east.fn-orders', 0)).toEqual(range(0, 8));
    expect(lines).toHaveLength(2);
    const emf = JSON.parse(lines[1]!);
    expect(emf._aws.CloudWatchMetrics[0]).toEqual(expect.objectContaining({ Namespace: 'Strand', Dimensions: [['Mirror']] }));
    expect(emf).toEqual(expect.objectContaining({ Mirror: 'fn-mirror', [mirrorMetricNames.maxLagSeconds]: 0, [mirrorMetricNames.maxLagRecords]: 0, [mirrorMetricNames.recordsCopied]: 3 }));
    await expect(runMirrorFunction({}, () => undefined)).rejects.toThrow(mirrorConfigEnvVar);
  });
});
