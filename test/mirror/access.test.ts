/**
 * Each side with its own credentials, and the least a mirror needs. How: both
 * clusters run with API keys on; the mirror gets a narrow key per side (the
 * permissions docs/mirroring.md lists), copies and syncs group offsets with
 * them; a target key without produce copies nothing and says why.
 */
import { StrandClient } from '../../client';
import { Mirror } from '../../src/mirror/mirror';
import { copiedOffsets, produce, range, startCluster, type Cluster } from './support';

const adminKey = 'mirror-test-bootstrap-admin-key';
let east: Cluster;
let west: Cluster;
beforeAll(async () => {
  [east, west] = await Promise.all([startCluster('east', { auth: 'keys', bootstrapAdminKey: adminKey }), startCluster('west', { auth: 'keys', bootstrapAdminKey: adminKey })]);
});
afterAll(async () => {
  await Promise.all([east.strand.dispose(), west.strand.dispose()]);
});

const keyed = (c: Cluster, apiKey: string) => new StrandClient({ url: c.strand.url, clusterId: c.id, apiKey, retry: { retries: 2, initialRetryTime: 20 }, logger: { warn: () => {} } });

describe('credentials per side', () => {
  test('narrow API keys on each side are enough to copy topics, keep state and sync group offsets', async () => {
    await east.client.admin().createTopic('ak-orders', { partitions: 2 });
    await produce(east.client, 'ak-orders', 0, 6);
    await produce(east.client, 'ak-orders', 1, 2);
    await east.client.transport.request('POST', `${east.client.clusterPath}/consumer-groups/ak-group/offsets:commit`, {
      json: { offsets: [{ topic_name: 'ak-orders', partition_id: 0, offset: 4 }] },
    });
    const sourceKey = await east.client.admin().createApiKey('mirror-reader', ['consume:ak-*', 'consume:group:ak-*']);
    const targetKey = await west.client.admin().createApiKey('mirror-writer', [
      'admin:east.ak-*', 'produce:east.ak-*', 'consume:east.ak-*',
      'admin:strand-mirror.*', 'produce:strand-mirror.*', 'consume:strand-mirror.*',
      'consume:group:ak-*',
    ]);
    const mirror = new Mirror({ source: keyed(east, sourceKey.apiKey), target: keyed(west, targetKey.apiKey), topics: 'ak-.*', syncGroupOffsets: true });
    const report = await mirror.run({ once: true });
    expect(report.errors).toEqual([]);
    expect(await copiedOffsets(west.client, 'east.ak-orders', 0)).toEqual(range(0, 6));
    expect(await copiedOffsets(west.client, 'east.ak-orders', 1)).toEqual(range(0, 2));
    expect((await west.client.admin().groupOffsets('ak-group')).map((o) => [o.topic, o.partition, o.offset])).toEqual([['east.ak-orders', 0, 4]]);
  });

  test('a target key that may not produce copies nothing, and the status says why', async () => {
    await east.client.admin().createTopic('ak-denied', { partitions: 1 });
    await produce(east.client, 'ak-denied', 0, 3);
    const sourceKey = await east.client.admin().createApiKey('reader-2', ['consume:ak-*']);
    const targetKey = await west.client.admin().createApiKey('no-produce', ['admin:east.ak-*', 'admin:strand-mirror.*', 'produce:strand-mirror.*', 'consume:strand-mirror.*']);
    const mirror = new Mirror({ source: keyed(east, sourceKey.apiKey), target: keyed(west, targetKey.apiKey), topics: 'ak-denied', name: 'denied' });
    const report = await mirror.run({ once: true });
    expect(report.caughtUp).toBe(false);
    expect(report.errors).toEqual([expect.stringMatching(/ak-denied\/0: AuthorizationError: .*lacks produce on topic 'east.ak-denied'/)]);
    expect(report.status).toEqual(expect.objectContaining({ state: 'failing', lastError: expect.stringMatching(/lacks produce/) }));
    expect(report.status.partitions).toEqual([expect.objectContaining({ targetTopic: 'east.ak-denied', lagRecords: 3, lastError: expect.stringMatching(/lacks produce/) })]);
    expect(await copiedOffsets(west.client, 'east.ak-denied', 0)).toEqual([]);
  });
});
