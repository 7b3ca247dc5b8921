/**
 * `npm run bench:append [-- --seconds N]`: appends per second on one partition
 * with 1 and with 16 concurrent producers, in one run, against the embedded
 * emulators. Each append is one 10-record batch through the engine's produce
 * path (one S3 PUT, one DynamoDB commit, spills amortized in). Prints a table
 * and, last, one JSON line. Numbers are ratios of one run on one machine, not a
 * promise about AWS.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStrand } from '../local/startLocalStrand';
import { encodeRecordBatch } from '../src/codec/recordBatch';
import { countRequests } from './requestCounter';

const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1] || 5);
const concurrencies = [1, 16];
const recordsPerAppend = 10;

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'strand-bench-'));
  const strand = await startLocalStrand({ dataDir, port: 0 });
  const counts = countRequests(strand.runtime.clients);
  const engine = strand.runtime.engine;
  const batch = encodeRecordBatch(
    Array.from({ length: recordsPerAppend }, (_, i) => ({ key: null, value: Buffer.alloc(100, i), headers: [], timestamp: Date.now() })),
  );
  const rows: { producers: number; appends: number; appendsPerSecond: number; p50Ms: number; p99Ms: number; ddbPerAppend: number; s3PutsPerAppend: number }[] = [];
  try {
    for (const producers of concurrencies) {
      const topic = await engine.createTopic(`bench-${producers}`, 1, 3, {});
      counts.reset();
      const latencies: number[] = [];
      const deadline = Date.now() + seconds * 1000;
      const start = Date.now();
      await Promise.all(
        Array.from({ length: producers }, async () => {
          while (Date.now() < deadline) {
            const t0 = performance.now();
            const [result] = await engine.append(topic, [{ partition: 0, batches: [batch] }]);
            if (!result!.ok) throw result!.error;
            latencies.push(performance.now() - t0);
          }
        }),
      );
      const elapsed = (Date.now() - start) / 1000;
      const bounds = await engine.bounds(topic, 0);
      if (bounds.highWatermark !== latencies.length * recordsPerAppend) {
        throw new Error(`high watermark ${bounds.highWatermark} != ${latencies.length * recordsPerAppend} appended records`);
      }
      latencies.sort((a, b) => a - b);
      rows.push({
        producers,
        appends: latencies.length,
        appendsPerSecond: Math.round(latencies.length / elapsed),
        p50Ms: Number(percentile(latencies, 50).toFixed(1)),
        p99Ms: Number(percentile(latencies, 99).toFixed(1)),
        ddbPerAppend: Number((counts.dynamodb / latencies.length).toFixed(2)),
        s3PutsPerAppend: Number((counts.s3Puts / latencies.length).toFixed(2)),
      });
    }
  } finally {
    await strand.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(`Appends on one partition, ${recordsPerAppend} records of 100 B each, ${seconds} s per row, embedded emulators:`);
  console.table(rows);
  const [one, sixteen] = rows;
  const ratio = Number((sixteen!.appendsPerSecond / one!.appendsPerSecond).toFixed(2));
  console.log(`16 producers / 1 producer = ${ratio}x`);
  console.log(JSON.stringify({ seconds, appends_per_s_1: one!.appendsPerSecond, appends_per_s_16: sixteen!.appendsPerSecond, ratio_16_to_1: ratio, ddb_requests_per_append_16: sixteen!.ddbPerAppend, s3_puts_per_append: sixteen!.s3PutsPerAppend }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
