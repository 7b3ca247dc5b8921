/** Data survives a restart: stop the local runtime, start it on the same data directory, read everything back. */
import { rmSync } from 'node:fs';
import { createTopic, fetchJson, produceString, startTestStrand, tempDataDir } from '../support/localStrand';

describe('restart', () => {
  test('every acknowledged record is readable at its offset after a stop and a start on the same data directory', async () => {
    const dataDir = tempDataDir();
    try {
      const first = await startTestStrand({ dataDir });
      await createTopic(first.http, 'durable', 2);
      const acks: { partition: number; offset: number; value: string }[] = [];
      for (let i = 0; i < 30; i++) {
        const value = `record-${i}`;
        const ack = await produceString(first.http, 'durable', value, { partition_id: i % 2 });
        acks.push({ partition: ack.partition_id, offset: ack.offset, value });
      }
      await first.dispose();

      const second = await startTestStrand({ dataDir });
      try {
        for (const partition of [0, 1]) {
          const res = await fetchJson(second.http, 'durable', partition, 0);
          expect(res.status).toBe(200);
          const got = new Map<number, string>(res.json.records.map((r: { offset: number; value: { data: string } }) => [r.offset, r.value.data]));
          const mine = acks.filter((a) => a.partition === partition);
          expect(got.size).toBe(mine.length);
          for (const a of mine) expect(got.get(a.offset)).toBe(a.value);
        }
        // And the log goes on where it stopped.
        const next = await produceString(second.http, 'durable', 'after-restart', { partition_id: 0 });
        expect(next.offset).toBe(15);
      } finally {
        await second.dispose();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
