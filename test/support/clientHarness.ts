/**
 * Shared by the SDK consumer tests: a local Strand with an SDK client, records
 * that carry their index as the value, and a bounded wait for a condition.
 */
import { StrandClient, type ConsumerConfig } from '../../client';
import { startTestStrand, type TestStrand } from './localStrand';

export interface ClientHarness {
  strand: TestStrand;
  client: StrandClient;
}

/** Starts a Strand and a client in beforeAll, stops them in afterAll; read the fields inside tests. */
export function useClientHarness(): ClientHarness {
  const harness = {} as ClientHarness;
  beforeAll(async () => {
    harness.strand = await startTestStrand();
    harness.client = new StrandClient({ url: harness.strand.url, retry: { initialRetryTime: 10 } });
  });
  afterAll(async () => {
    await new Promise((r) => setTimeout(r, 300)); // let the last long polls (maxWaitTimeInMs 200) end on the server
    await harness.strand.dispose();
  });
  return harness;
}

/** Produces `count` records whose values are their indexes `from…`, keys `k<index>`, spread round robin over partitions. */
export async function produceIndexed(client: StrandClient, topic: string, partitions: number, count: number, from = 0): Promise<void> {
  const producer = client.producer();
  await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: String(from + i), partition: (from + i) % partitions })) });
  await producer.close();
}

/** Resolves once `predicate` holds, checking every 20 ms; rejects after `timeoutMs`. */
export function until(predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (predicate()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error('condition not met in time'));
      setTimeout(check, 20);
    };
    check();
  });
}

/** Short long polls, so tests move quickly. */
export const fast: ConsumerConfig = { maxWaitTimeInMs: 200 };
