import { cluster, createTopic, fetchJson, produceString, startTestStrand, type TestStrand } from './support/localStrand';

describe('a local Strand', () => {
  let strand: TestStrand;
  beforeAll(async () => {
    strand = await startTestStrand();
  });
  afterAll(() => strand.dispose());

  test('health answers ok when the store is reachable', async () => {
    const res = await strand.http.get('/health');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok' });
  });

  test('a produced record is fetched back at its offset', async () => {
    await createTopic(strand.http, 'smoke', 1);
    const a = await produceString(strand.http, 'smoke', 'hello');
    const b = await produceString(strand.http, 'smoke', 'world');
    expect([a.offset, b.offset]).toEqual([0, 1]);
    const res = await fetchJson(strand.http, 'smoke', 0, 0);
    expect(res.status).toBe(200);
    expect(res.json.records.map((r: { value: { data: string } }) => r.value.data)).toEqual(['hello', 'world']);
    expect(res.json.high_watermark).toBe(2);
    expect((await strand.http.get(`${cluster}/topics`)).json.data).toHaveLength(1);
  });
});
