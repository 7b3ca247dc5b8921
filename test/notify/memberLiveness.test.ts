/**
 * A group member that listens on a notice socket writes its session rarely
 * (src/groups/coordinator.ts extendedExpiry), so its liveness also rests on
 * the socket: when the socket closes (the consumer crashed), $disconnect
 * brings the member's session back to one timeout, as Kafka would notice the
 * crash. How: a member over HTTP names a real WebSocket connection, the test
 * closes the socket, and the group is read with a manual clock.
 */
import WebSocket from 'ws';
import { ManualClock } from '../../src/clock';
import { createTopic, startTestStrand, type TestStrand } from '../support/localStrand';
import { groupPath } from '../groups/support';
import { nudgedSessionIntervalsMax } from '../../src/groups/coordinator';

describe('a listening member whose socket closes', () => {
  const clock = new ManualClock();
  let strand: TestStrand;
  beforeAll(async () => {
    strand = await startTestStrand({ clock });
    await createTopic(strand.http, 'live', 2);
  });
  afterAll(() => strand.dispose());

  async function openSocket(): Promise<{ ws: WebSocket; id: string }> {
    const url = (await strand.http.get('/v3/clusters/local/notifications')).json.url;
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const id = await new Promise<string>((resolve) => {
      ws.on('message', (data) => {
        const m = JSON.parse(String(data));
        if (m.type === 'pong') resolve(m.connection_id);
      });
      ws.send(JSON.stringify({ action: 'ping' }));
    });
    return { ws, id };
  }

  const memberExpiry = async (memberId: string) => {
    const res = await strand.http.get(`${groupPath('g-live')}/consumers`);
    const m = res.json.data.find((c: { consumer_id: string }) => c.consumer_id === memberId);
    return m ? Date.parse(m.session_expires_at) : undefined;
  };

  test('is noticed one session timeout after its socket closed, not intervals later', async () => {
    const { ws, id } = await openSocket();
    const join = await strand.http.post(`${groupPath('g-live')}/heartbeat`, { member_epoch: 0, subscribed_topic_names: ['live'], notice_connection_id: id });
    expect(join.status).toBe(200);
    expect(join.json.heartbeat_interval_ms).toBe(18_000);
    const memberId = join.json.member_id as string;
    // A listening member's session runs past one timeout: its heartbeats write it rarely.
    expect((await memberExpiry(memberId))! - clock.now()).toBe(45_000 + nudgedSessionIntervalsMax * 18_000);

    ws.close();
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && (await memberExpiry(memberId))! - clock.now() !== 45_000) await new Promise((r) => setTimeout(r, 20));
    expect((await memberExpiry(memberId))! - clock.now()).toBe(45_000);

    clock.advance(45_001);
    expect(await memberExpiry(memberId)).toBeUndefined();
    // A heartbeat after that is fenced, as for any expired member.
    const late = await strand.http.post(`${groupPath('g-live')}/heartbeat`, { member_id: memberId, member_epoch: join.json.member_epoch });
    expect(late.json.error_code).toBe(40922);
  });

  test('a member that moved to a new socket is not touched when its old one closes', async () => {
    const first = await openSocket();
    const join = await strand.http.post(`${groupPath('g-move')}/heartbeat`, { member_epoch: 0, subscribed_topic_names: ['live'], notice_connection_id: first.id });
    const memberId = join.json.member_id as string;
    const second = await openSocket();
    const moved = await strand.http.post(`${groupPath('g-move')}/heartbeat`, { member_id: memberId, member_epoch: join.json.member_epoch, notice_connection_id: second.id });
    expect(moved.status).toBe(200);
    first.ws.close();
    await new Promise((r) => setTimeout(r, 300));
    const res = await strand.http.get(`${groupPath('g-move')}/consumers`);
    const expires = Date.parse(res.json.data[0].session_expires_at);
    expect(expires - clock.now()).toBeGreaterThan(45_000);
    second.ws.close();
  });
});
