/**
 * The modelled AWS wake-up the bench reports: a sum of per-hop medians over
 * the hops counted locally. Rules, so a change to the hops shows up by name.
 */
import { awsHops, modelledWakeupMs } from '../../bench/wakeupModel';

const oneFetch = { notices: 1, fetches: 1, dynamodbReadsPerFetch: 2, s3GetsPerFetch: 1 };

describe('modelled AWS wake-up', () => {
  test('one notice and one fetch of a head read, an index read and a GET: the sum of the hops', () => {
    const h = awsHops;
    const expected = h.streamRecord.ms + h.eventSourcePoll.ms + h.notifierInvoke.ms + h.dynamodbRead.ms + h.postToConnection.ms + h.socketDelivery.ms + h.httpApiAndLambda.ms + 2 * h.dynamodbRead.ms + h.s3Get.ms;
    expect(modelledWakeupMs(oneFetch).ms).toBe(expected);
  });

  test("the event source mapping's poll is the largest hop: half of 250 ms", () => {
    const { parts } = modelledWakeupMs(oneFetch);
    const largest = parts.reduce((a, b) => (b.ms > a.ms ? b : a));
    expect(largest).toEqual({ hop: 'event source poll (4/s)', ms: 125 });
  });

  test('a second fetch adds its whole cost; the GETs of one fetch count once', () => {
    const two = modelledWakeupMs({ ...oneFetch, fetches: 2 }).ms - modelledWakeupMs(oneFetch).ms;
    expect(two).toBe(awsHops.httpApiAndLambda.ms + 2 * awsHops.dynamodbRead.ms + awsHops.s3Get.ms);
    expect(modelledWakeupMs({ ...oneFetch, s3GetsPerFetch: 3 }).ms).toBe(modelledWakeupMs(oneFetch).ms);
  });

  test('every hop says where its figure comes from', () => {
    for (const hop of Object.values(awsHops)) expect(hop.basis).toMatch(/^(documented|assumed):/);
  });
});
