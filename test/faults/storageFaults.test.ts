/**
 * Storage faults and crashes (issue 6, item 2), against a real local Strand
 * whose SDK clients carry the fault layer (./faultyClients.ts).
 * How: each test injects faults into S3 or DynamoDB (before the emulator applies
 * a request, or after it applied it and the reply is lost), or crashes the
 * request at a chosen point; then it clears the faults and reads the log back.
 * Rules shown: clients see 503 / 50301 with Retry-After for a storage fault,
 * never a 500; a failed request changes nothing visible (invariant 3); every
 * acknowledged record is readable at its offset (invariant 2); a retrying
 * idempotent producer ends with every record exactly once.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { startTestStrand, createTopic, partitionPath, topicPath, cluster, type TestStrand } from '../support/localStrand';
import { expectError, highWatermark } from '../support/api';
import { injectFaults, isCommit, type FaultInjector, type FaultKind, type FaultRule } from './faultyClients';
import { RetryingProducer, checkExactlyOnce, newCounters, readPartition, request, type Ack } from './clients';

let strand: TestStrand;
let faults: FaultInjector;
beforeAll(async () => {
  // Quiet: every injected fault is logged as a warning by design.
  strand = await startTestStrand({ logger: new Logger({ serviceName: 'strand', logLevel: 'ERROR' }) });
  faults = injectFaults(strand.runtime.clients);
});
afterAll(() => strand.dispose());
afterEach(() => faults.clear());

const storageFaults: FaultKind[] = ['500', '503', 'throttle', 'timeout', 'reset', 'refused'];

async function logs(topic: string, partitions: number) {
  const out = new Map<number, { offset: number; value: string }[]>();
  for (let p = 0; p < partitions; p++) out.set(p, await readPartition(strand.url, topic, p));
  return out;
}

describe('a storage fault reaches the client as 503 / 50301, never a 500, and changes nothing', () => {
  const targets: { name: string; rule: Omit<FaultRule, 'fault'> }[] = [
    { name: 'S3 PUT of the batch', rule: { service: 's3', command: 'PutObjectCommand' } },
    { name: 'the DynamoDB commit', rule: { service: 'dynamodb', match: isCommit } },
    { name: 'the topic lookup', rule: { service: 'dynamodb', command: /GetItem/ } },
  ];
  beforeAll(() => createTopic(strand.http, 'faults-produce'));

  // First: the sustained faults below drain the SDK's retry quota, as they would in production.
  test('a fault the SDK retries through is invisible: one failed attempt per call, every request succeeds', async () => {
    await createTopic(strand.http, 'faults-transient');
    let i = 0;
    for (const fault of storageFaults) {
      for (const service of ['s3', 'dynamodb'] as const) {
        const rule = faults.add({ service, fault, times: 1 });
        const res = await strand.http.post(`${topicPath('faults-transient')}/records`, { value: { type: 'STRING', data: `v${i}` } });
        expect({ fault, service, status: res.status, offset: res.json.offset }).toEqual({ fault, service, status: 200, offset: i++ });
        faults.remove(rule);
      }
    }
  });

  for (const target of targets) {
    test.each(storageFaults)(`produce with %s on ${target.name}`, async (fault) => {
      const before = await highWatermark(strand.http, 'faults-produce');
      // The data path caches topics for a second; a cold cache makes it look the topic up.
      strand.runtime.engine.topics.forget();
      faults.add({ ...target.rule, fault });
      const res = await strand.http.post(`${topicPath('faults-produce')}/records`, { value: { type: 'STRING', data: `lost-${fault}` } });
      faults.clear();
      expectError(res, 50301);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await highWatermark(strand.http, 'faults-produce')).toBe(before);
      const all = await readPartition(strand.url, 'faults-produce', 0);
      expect(all.map((r) => r.value)).not.toContain(`lost-${fault}`);
    });
  }

  test.each(storageFaults)('%s: fetch with it on the S3 ranged GET, admin reads and InitProducerId with it on DynamoDB', async (fault) => {
    await strand.http.post(`${topicPath('faults-produce')}/records`, { value: { type: 'STRING', data: 'present' } });
    faults.add({ service: 's3', command: 'GetObjectCommand', fault });
    expectError(await strand.http.get(`${partitionPath('faults-produce', 0)}/records?offset=0`), 50301);
    faults.clear();
    faults.add({ service: 'dynamodb', fault });
    expectError(await strand.http.get(`${cluster}/topics`), 50301);
    expectError(await strand.http.get(`${partitionPath('faults-produce', 0)}`), 50301);
    expectError(await strand.http.post(`${cluster}/producers`, {}), 50301);
    expectError(await strand.http.get('/health'), 50301);
    faults.clear();
    expect((await strand.http.get(`${partitionPath('faults-produce', 0)}/records?offset=0`)).status).toBe(200);
  });

});

describe('under random faults, retrying idempotent producers end with every record exactly once', () => {
  test('faults before and after the store applies a request, on every S3 and DynamoDB call', async () => {
    await createTopic(strand.http, 'faults-random', 3);
    const counters = newCounters();
    const producers = await Promise.all(Array.from({ length: 4 }, () => RetryingProducer.create(strand.url, 'faults-random', counters, { timeoutMs: 3000 })));
    for (const fault of storageFaults) {
      faults.add({ service: 'dynamodb', fault, probability: 0.04 });
      faults.add({ service: 's3', fault, probability: 0.04 });
      faults.add({ service: 'dynamodb', fault, when: 'after', probability: 0.03 });
      faults.add({ service: 's3', fault, when: 'after', probability: 0.03 });
    }
    faults.add({ service: 'dynamodb', fault: 'slow', delayMs: 30, probability: 0.2 });
    const firedBefore = { ...faults.stats.fired };
    await Promise.all(
      producers.map(async (p, i) => {
        for (let b = 0; b < 15; b++) await p.send(b % 3, [`p${i}b${b}r0`, `p${i}b${b}r1`, `p${i}b${b}r2`]);
      }),
    );
    faults.clear();
    const acks: Ack[] = producers.flatMap((p) => p.acks);
    const report = checkExactlyOnce(acks, await logs('faults-random', 3));
    const fired = Object.entries(faults.stats.fired).reduce((n, [k, v]) => n + v - firedBefore[k as FaultKind], 0);
    expect(fired).toBeGreaterThan(10);
    expect(counters.unexpected).toEqual([]);
    expect(producers.flatMap((p) => p.abandoned)).toEqual([]);
    expect(report).toEqual(expect.objectContaining({ acknowledged: 4 * 15 * 3, checked: 4 * 15 * 3, lost: [], duplicated: [], misplaced: [], gaps: 0 }));
  });
});

describe('crashes at chosen points', () => {
  test('a crash after the S3 PUT and before the commit leaves nothing visible; the retry appends once', async () => {
    await createTopic(strand.http, 'faults-crash-put');
    const counters = newCounters();
    const p = await RetryingProducer.create(strand.url, 'faults-crash-put', counters, { timeoutMs: 1000 });
    await p.send(0, ['a']);
    faults.add({ service: 's3', command: 'PutObjectCommand', fault: 'crash', when: 'after', times: 1 });
    const ack = await p.send(0, ['b', 'c']);
    expect(faults.stats.fired.crash).toBeGreaterThan(0);
    expect(ack).toEqual(expect.objectContaining({ baseOffset: 1, lastOffset: 2 }));
    expect(counters.retries).toBeGreaterThan(0);
    expect((await readPartition(strand.url, 'faults-crash-put', 0)).map((r) => r.value)).toEqual(['a', 'b', 'c']);
  });

  test('a crash after the commit and before the reply: the retry is answered with the original offsets, appended once', async () => {
    await createTopic(strand.http, 'faults-crash-commit');
    const counters = newCounters();
    const p = await RetryingProducer.create(strand.url, 'faults-crash-commit', counters, { timeoutMs: 1000 });
    await p.send(0, ['a']);
    faults.add({ service: 'dynamodb', match: isCommit, fault: 'crash', when: 'after', times: 1 });
    const ack = await p.send(0, ['b', 'c']);
    expect(ack).toEqual(expect.objectContaining({ baseOffset: 1, lastOffset: 2 }));
    expect(counters.duplicatesAnswered).toBe(1);
    await p.send(0, ['d']);
    expect((await readPartition(strand.url, 'faults-crash-commit', 0)).map((r) => r.value)).toEqual(['a', 'b', 'c', 'd']);
  });

  test('a crashed plain (non-idempotent) produce before its commit changes nothing visible', async () => {
    await createTopic(strand.http, 'faults-crash-plain');
    faults.add({ service: 's3', command: 'PutObjectCommand', fault: 'crash', when: 'after', times: 1 });
    const res = await request(`${strand.url}${topicPath('faults-crash-plain')}/records`, { method: 'POST', body: JSON.stringify({ value: { type: 'STRING', data: 'x' } }), headers: { 'content-type': 'application/json' } }, 800);
    expect(res).toBe('network');
    expect(await highWatermark(strand.http, 'faults-crash-plain')).toBe(0);
  });
});

describe('slow storage', () => {
  test('every call delayed: concurrent idempotent producers still get dense, exactly-once offsets', async () => {
    await createTopic(strand.http, 'faults-slow');
    faults.add({ service: 'dynamodb', fault: 'slow', delayMs: 60 });
    faults.add({ service: 's3', fault: 'slow', delayMs: 60 });
    const counters = newCounters();
    const producers = await Promise.all(Array.from({ length: 6 }, () => RetryingProducer.create(strand.url, 'faults-slow', counters, { timeoutMs: 5000 })));
    await Promise.all(producers.map(async (p, i) => {
      for (let b = 0; b < 4; b++) await p.send(0, [`s${i}.${b}`]);
    }));
    faults.clear();
    const report = checkExactlyOnce(producers.flatMap((p) => p.acks), await logs('faults-slow', 1));
    expect(report).toEqual(expect.objectContaining({ acknowledged: 24, lost: [], duplicated: [], misplaced: [], gaps: 0 }));
  });
});
