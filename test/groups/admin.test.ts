/** REST Proxy v3 group reads (list, describe, consumers, lags, lag-summary) and admin (delete, offsets:reset) over HTTP. */
import { ManualClock } from '../../src/clock';
import { cluster, createTopic, produceString, startTestStrand, type TestStrand } from '../support/localStrand';
import { GroupClient, groupPath } from './support';

const clock = new ManualClock();
let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand({ clock });
  await createTopic(strand.http, 'lagged', 3);
  for (let p = 0; p < 3; p++) for (let i = 0; i < 4 + p; i++) await produceString(strand.http, 'lagged', `r${p}-${i}`, { partition_id: p });
});
afterAll(() => strand.dispose());

describe('group reads', () => {
  test('list, describe and consumers show state, assignor and each member\'s assignment', async () => {
    const a = new GroupClient(strand.http, 'g-read', ['lagged'], { assignor: 'range', client_id: 'app-1' });
    await a.join();
    const list = await strand.http.get(`${cluster}/consumer-groups`);
    expect(list.status).toBe(200);
    expect(list.json.kind).toBe('KafkaConsumerGroupList');
    expect(list.json.data.map((g: { consumer_group_id: string }) => g.consumer_group_id)).toContain('g-read');

    const g = await strand.http.get(groupPath('g-read'));
    expect(g.json).toMatchObject({ kind: 'KafkaConsumerGroup', consumer_group_id: 'g-read', state: 'STABLE', partition_assignor: 'range' });

    const consumers = await strand.http.get(`${groupPath('g-read')}/consumers`);
    expect(consumers.json.data).toHaveLength(1);
    expect(consumers.json.data[0]).toMatchObject({
      consumer_id: a.member!.id,
      client_id: 'app-1',
      assignment: [{ topic_name: 'lagged', partition_ids: [0, 1, 2] }],
    });

    expect((await strand.http.get(groupPath('nope'))).json.error_code).toBe(40404);
    expect((await strand.http.get(`${groupPath('nope')}/lags`)).json.error_code).toBe(40404);
    // Expired members are not shown, and the group reads as empty.
    clock.advance(60_000);
    expect((await strand.http.get(groupPath('g-read'))).json.state).toBe('EMPTY');
    expect((await strand.http.get(`${groupPath('g-read')}/consumers`)).json.data).toEqual([]);
  });

  test('lags and lag-summary compare committed offsets with the high watermark', async () => {
    const a = new GroupClient(strand.http, 'g-lag', ['lagged']);
    await a.join();
    await a.commit([
      { topic_name: 'lagged', partition_id: 0, offset: 4 },
      { topic_name: 'lagged', partition_id: 1, offset: 1 },
      { topic_name: 'lagged', partition_id: 2, offset: 2 },
    ]);
    const lags = await strand.http.get(`${groupPath('g-lag')}/lags`);
    expect(lags.status).toBe(200);
    expect(lags.json.data.map((l: Record<string, unknown>) => [l.partition_id, l.current_offset, l.log_end_offset, l.lag, l.consumer_id])).toEqual([
      [0, 4, 4, 0, a.member!.id],
      [1, 1, 5, 4, a.member!.id],
      [2, 2, 6, 4, a.member!.id],
    ]);
    const summary = await strand.http.get(`${groupPath('g-lag')}/lag-summary`);
    expect(summary.json).toMatchObject({ max_lag: 4, total_lag: 8, max_lag_topic_name: 'lagged', max_lag_partition_id: 1, max_lag_consumer_id: a.member!.id });
    expect(summary.json.max_lag_consumer.related).toBe(`${groupPath('g-lag')}/consumers/${a.member!.id}`);
    expect(summary.json.max_lag_partition.related).toBe(`${groupPath('g-lag')}/lags/lagged/partitions/1`);
    // The relationships resolve: one member, one partition's lag (Confluent's single-resource routes).
    const consumer = await strand.http.get(summary.json.max_lag_consumer.related);
    expect(consumer.status).toBe(200);
    expect(consumer.json).toMatchObject({ kind: 'KafkaConsumer', consumer_id: a.member!.id });
    const partitionLag = await strand.http.get(summary.json.max_lag_partition.related);
    expect(partitionLag.json).toMatchObject({ kind: 'KafkaConsumerLag', topic_name: 'lagged', partition_id: 1, current_offset: 1, log_end_offset: 5, lag: 4 });
    const assignments = await strand.http.get(`${groupPath('g-lag')}/consumers/${a.member!.id}/assignments`);
    expect(assignments.json.data.map((x: { topic_name: string; partition_id: number }) => `${x.topic_name}:${x.partition_id}`).sort()).toEqual(['lagged:0', 'lagged:1', 'lagged:2']);
    expect((await strand.http.get(`${groupPath('g-lag')}/consumers/nobody`)).json.error_code).toBe(40924);
    expect((await strand.http.get(`${groupPath('g-lag')}/lags/lagged/partitions/9`)).json.error_code).toBe(40402);
  });
});

describe('group admin', () => {
  test('offsets:reset and delete need an empty group (40925, saying how a member leaves), then work', async () => {
    const a = new GroupClient(strand.http, 'g-admin', ['lagged']);
    await a.join();
    await a.commit([{ topic_name: 'lagged', partition_id: 0, offset: 2 }]);
    const reset = (to: unknown, topic_names?: string[]) => strand.http.post(`${groupPath('g-admin')}/offsets:reset`, { to, topic_names });
    const busy = await reset('earliest');
    expect([busy.status, busy.json.error_code]).toEqual([409, 40925]);
    expect(busy.json.message).toMatch(/leaves with a heartbeat of member_epoch -1 .*heartbeat \{"member_id": "…", "member_epoch": -1\}/);
    const del = await strand.http.delete(groupPath('g-admin'));
    expect([del.status, del.json.error_code]).toEqual([409, 40925]);
    await a.leave();

    const offsets = (res: { json: { offsets: { partition_id: number; offset: number }[] } }) => res.json.offsets.map((o) => [o.partition_id, o.offset]);
    expect(offsets(await reset('latest'))).toEqual([[0, 4], [1, 5], [2, 6]]);
    expect(offsets(await reset('earliest'))).toEqual([[0, 0], [1, 0], [2, 0]]);
    expect(offsets(await reset({ offset: 3 }, ['lagged']))).toEqual([[0, 3], [1, 3], [2, 3]]);
    expect(offsets(await reset({ offset: 99 }))).toEqual([[0, 4], [1, 5], [2, 6]]);
    expect(offsets(await reset({ timestamp: 0 }))).toEqual([[0, 0], [1, 0], [2, 0]]);
    expect((await reset('sideways')).json.error_code).toBe(40002);
    expect((await reset('latest', ['missing'])).json.error_code).toBe(40403);
    expect((await strand.http.post(`${groupPath('g-never')}/offsets:reset`, { to: 'latest' })).json.error_code).toBe(40404);

    expect((await strand.http.delete(groupPath('g-admin'))).status).toBe(204);
    expect((await strand.http.get(groupPath('g-admin'))).json.error_code).toBe(40404);
    expect((await strand.http.get(`${groupPath('g-admin')}/offsets`)).json.offsets).toEqual([]);
    expect((await strand.http.delete(groupPath('g-admin'))).json.error_code).toBe(40404);
  });
});
