/**
 * Two local Strands in one test process, with different cluster ids (each its
 * own emulators, data directory and port), SDK clients for both, and reads of
 * a whole partition with every record's headers.
 */
import { StrandClient } from '../../client';
import { loadConfig } from '../../src/config/env';
import { readRecords, type FetchedRecord } from '../../src/mirror/remoteLog';
import { sourceOffsetOf } from '../../src/mirror/partitionCopy';
import { startTestStrand, type TestStrand } from '../support/localStrand';
import type { LocalStrandOptions } from '../../local/startLocalStrand';

export interface Cluster {
  id: string;
  strand: TestStrand;
  client: StrandClient;
}

export async function startCluster(id: string, options: LocalStrandOptions = {}): Promise<Cluster> {
  const strand = await startTestStrand({ config: { ...loadConfig({}), clusterId: id }, triggers: false, ...options });
  const apiKey = options.bootstrapAdminKey;
  const client = new StrandClient({ url: strand.url, clusterId: id, retry: { retries: 5, initialRetryTime: 20 }, logger: { warn: () => {} }, ...(apiKey ? { apiKey } : {}) });
  return { id, strand, client };
}

/** Starts clusters in beforeAll and stops them in afterAll; read the array inside tests. */
export function useClusters(...ids: string[]): Cluster[] {
  const clusters: Cluster[] = [];
  beforeAll(async () => {
    clusters.push(...(await Promise.all(ids.map((id) => startCluster(id)))));
  });
  afterAll(async () => {
    await Promise.all(clusters.map((c) => c.strand.dispose()));
  });
  return clusters;
}

/** Every record of a partition, from its log start. */
export async function readPartition(client: StrandClient, topic: string, partition: number): Promise<FetchedRecord[]> {
  const { logStartOffset, highWatermark } = await client.admin().describePartition(topic, partition);
  const out: FetchedRecord[] = [];
  let offset = logStartOffset;
  while (offset < highWatermark) {
    const got = await readRecords(client, topic, partition, offset, 1024 * 1024);
    out.push(...got.records);
    if (got.nextOffset <= offset) break;
    offset = got.nextOffset;
  }
  return out;
}

/** The source offsets a target partition's copies carry, in target order. */
export async function copiedOffsets(client: StrandClient, topic: string, partition: number): Promise<number[]> {
  return (await readPartition(client, topic, partition)).map((r) => sourceOffsetOf(r) ?? -1);
}

/** Produces `count` records to one partition: values `<tag>-<i>`, keys `k<i>`, a header, explicit timestamps. */
export async function produce(client: StrandClient, topic: string, partition: number, count: number, tag = 'v', from = 0): Promise<void> {
  const producer = client.producer({ lingerMs: 0 });
  await producer.send({
    topic,
    messages: Array.from({ length: count }, (_, j) => {
      const i = from + j;
      return { key: `k${i}`, value: `${tag}-${i}`, partition, headers: { h: `hv${i}`, trace: ['a', 'b'] }, timestamp: 1_600_000_000_000 + i * 1000 };
    }),
  });
  await producer.close();
}

export const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
