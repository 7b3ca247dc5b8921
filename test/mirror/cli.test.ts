/**
 * `strand mirror` as a person runs it (`node bin/strand.js`, a child process)
 * against two local Strands: `--once` exits 0 when caught up, `status` shows
 * lag, `translate-offsets` translates a group's offsets.
 */
import { runCli } from '../cli/run';
import { copiedOffsets, produce, range, useClusters } from './support';

const clusters = useClusters('east', 'west');
const east = () => clusters[0]!;
const west = () => clusters[1]!;

describe('strand mirror', () => {
  test('--once copies everything present and exits 0 when caught up; status and translate-offsets read the state on the target', async () => {
    await east().client.admin().createTopic('cli-orders', { partitions: 2 });
    await produce(east().client, 'cli-orders', 0, 7);
    await produce(east().client, 'cli-orders', 1, 3);
    await east().client.transport.request('POST', `${east().client.clusterPath}/consumer-groups/cli-group/offsets:commit`, {
      json: { offsets: [{ topic_name: 'cli-orders', partition_id: 0, offset: 5 }] },
    });

    const run = await runCli(east().strand.url, ['mirror', '--source', east().strand.url, '--target', west().strand.url, '--topics', 'cli-.*', '--once']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/copied 10 records/);
    expect(run.stdout).toMatch(/state: caught-up/);
    expect(await copiedOffsets(west().client, 'east.cli-orders', 0)).toEqual(range(0, 7));

    await produce(east().client, 'cli-orders', 1, 4, 'v', 3);
    const status = await runCli(east().strand.url, ['--json', 'mirror', 'status', '--target', west().strand.url, '--name', 'east']);
    expect(status.code).toBe(0);
    const json = JSON.parse(status.stdout);
    expect(json).toEqual(expect.objectContaining({ name: 'east', sourceCluster: 'east', targetCluster: 'west', state: 'caught-up' }));
    expect(json.partitions).toEqual([
      expect.objectContaining({ targetTopic: 'east.cli-orders', partition: 0, nextSourceOffset: 7, lagRecords: 0 }),
      expect.objectContaining({ targetTopic: 'east.cli-orders', partition: 1, nextSourceOffset: 3, lagRecords: 0 }),
    ]);
    const human = await runCli(east().strand.url, ['mirror', 'status', '--target', west().strand.url]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/Mirror east: east → west {2}state: caught-up/);

    const translated = await runCli(east().strand.url, ['--json', 'mirror', 'translate-offsets', '--source', east().strand.url, '--target', west().strand.url, '--group', 'cli-group']);
    expect(translated.code).toBe(0);
    expect(JSON.parse(translated.stdout)).toEqual([expect.objectContaining({ sourceTopic: 'cli-orders', targetTopic: 'east.cli-orders', partition: 0, sourceOffset: 5, targetOffset: 5, exact: true })]);
  });

  test('usage errors exit 2', async () => {
    const run = await runCli(east().strand.url, ['mirror', '--target', west().strand.url, '--once']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--source <url> is required/);
    const bad = await runCli(east().strand.url, ['mirror', '--source', east().strand.url, '--target', west().strand.url, '--topic-name', 'other', '--once']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/'prefixed' or 'identity'/);
  });
});
