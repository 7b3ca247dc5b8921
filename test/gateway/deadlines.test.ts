/**
 * Every request has a deadline: its function's remaining time less a margin to
 * answer (src/config/deadline.ts). Storage attempts stop at it and long polls
 * end before it, so a request that runs out of time gets the contract's
 * retriable 503/50301 from the function, never the gateway's 5xx.
 *
 * A second gateway runs on the test Strand's runtime with short function
 * timeouts; storage stalls come from the fault injector's `slow` rule.
 */
import { startGateway, type Gateway } from '../../local/gateway';
import { answerMarginMs, longPollReadReserveMs, longPollWithinDeadline, withDeadline, DeadlineExceededError, remainingMs } from '../../src/config/deadline';
import { asStorageUnavailable } from '../../src/storage/storageErrors';
import { storageAttemptMsMin } from '../../src/storage/clients';
import { ErrorCode } from '../../src/errors';
import { injectFaults, isCommit, type FaultInjector } from '../faults/faultyClients';
import { HttpClient, createTopic, partitionPath, startTestStrand, topicPath, type HttpResult, type TestStrand } from '../support/localStrand';
import { expectError } from '../support/api';

let strand: TestStrand;
let faults: FaultInjector;
let gateway: Gateway;
let http: HttpClient;
/** Short enough to wait for, long enough for a request's real work on the emulators. */
const functionTimeoutMs = 4_000;
/** Past the function's timeout: a stall the deadline must cut. */
const stallMs = functionTimeoutMs + 1_000;
/** Fetch's: room for a wait of about 2 s after the margin and the read's reserve. */
const fetchTimeoutMs = answerMarginMs + longPollReadReserveMs + 2_000;

beforeAll(async () => {
  strand = await startTestStrand();
  faults = injectFaults(strand.runtime.clients);
  gateway = await startGateway(strand.runtime, { functionTimeoutsMs: { produce: functionTimeoutMs, fetch: fetchTimeoutMs, admin: functionTimeoutMs } });
  http = new HttpClient(gateway.url);
  await createTopic(strand.http, 'deadline', 1);
  await createTopic(strand.http, 'deadline-poll', 1);
});
afterEach(() => faults.clear());
afterAll(async () => {
  await gateway?.close();
  await strand?.dispose();
});

async function timed(work: () => Promise<HttpResult>): Promise<{ res: HttpResult; ms: number }> {
  const started = performance.now();
  const res = await work();
  return { res, ms: performance.now() - started };
}

/** 503/50301 with Retry-After, answered by the function before its timeout. */
function expectAnsweredInTime({ res, ms }: { res: HttpResult; ms: number }): void {
  expectError(res, ErrorCode.StorageUnavailable);
  expect(res.headers.get('retry-after')).toBe('1');
  expect(ms).toBeLessThan(functionTimeoutMs);
  expect(ms).toBeGreaterThanOrEqual(functionTimeoutMs - answerMarginMs - 50);
}

const produce = () => http.post(`${topicPath('deadline')}/records`, { value: { type: 'STRING', data: 'v' } });

describe('the deadline of a request', () => {
  test('is the remaining time less the margin to answer, and ends with an AbortError', async () => {
    await withDeadline(answerMarginMs + 5_000, async () => {
      expect(remainingMs()).toBeLessThanOrEqual(5_000);
      expect(remainingMs()).toBeGreaterThan(4_900);
    });
    expect(remainingMs()).toBe(Infinity);
    expect(new DeadlineExceededError().name).toBe('AbortError');
  });

  test('a storage call stopped by it is StorageUnavailable (503/50301, Retry-After)', () => {
    const err = asStorageUnavailable(new DeadlineExceededError());
    expect(err?.code).toBe(ErrorCode.StorageUnavailable);
    expect(err?.headers['Retry-After']).toBe('1');
  });

  test('shortens a long poll so it and the read after it fit; without a deadline the wait is as asked', async () => {
    expect(longPollWithinDeadline(20_000)).toBe(20_000);
    await withDeadline(answerMarginMs + longPollReadReserveMs + 2_000, async () => {
      expect(longPollWithinDeadline(20_000)).toBeLessThanOrEqual(2_000);
      expect(longPollWithinDeadline(20_000)).toBeGreaterThan(1_900);
      expect(longPollWithinDeadline(500)).toBe(500);
    });
    await withDeadline(answerMarginMs + longPollReadReserveMs - 1, async () => expect(longPollWithinDeadline(20_000)).toBe(0));
  });
});

describe('storage stops at the deadline', () => {
  test('an S3 PUT that stalls past the deadline is 503/50301 before the function times out', async () => {
    faults.add({ service: 's3', command: 'PutObjectCommand', fault: 'slow', delayMs: stallMs });
    expectAnsweredInTime(await timed(produce));
  });

  test('a commit that stalls past the deadline is 503/50301 before the function times out (its reply is lost, and the read that would resolve it is refused)', async () => {
    faults.add({ service: 'dynamodb', command: 'UpdateItemCommand', match: isCommit, fault: 'slow', delayMs: stallMs });
    expectAnsweredInTime(await timed(produce));
  });

  test('a read that stalls on every attempt is 503/50301 before the function times out', async () => {
    faults.add({ service: 'dynamodb', command: 'GetItemCommand', fault: 'slow', delayMs: stallMs });
    expectAnsweredInTime(await timed(() => http.get(`${partitionPath('deadline', 0)}/offsets`)));
  });

  test(`an attempt with less than ${storageAttemptMsMin} ms left is not sent`, async () => {
    const before = faults.stats.attempts;
    await expect(withDeadline(answerMarginMs + storageAttemptMsMin - 10, () => strand.runtime.engine.topics.get('deadline'))).rejects.toMatchObject({ name: 'AbortError' });
    expect(faults.stats.attempts).toBe(before);
  });

  test('a request that is not stalled is answered as usual under the same short timeout', async () => {
    expect((await produce()).status).toBe(200);
  });
});

describe('long polls end before the deadline', () => {
  test('a fetch asking to wait 20 s on an empty partition answers 200 with no records, leaving the read its reserve', async () => {
    const { res, ms } = await timed(() => http.get(`${partitionPath('deadline-poll', 0)}/records?offset=0&max_wait_ms=20000&embedded_format=string`));
    expect(res.status).toBe(200);
    expect(ms).toBeGreaterThanOrEqual(1_500);
    expect(ms).toBeLessThan(fetchTimeoutMs - answerMarginMs - longPollReadReserveMs + 500);
  });
});
