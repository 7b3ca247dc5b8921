/**
 * `npm run bench:merge`: S3 objects and GETs a consumer needs per MiB read,
 * before and after maintenance merges small objects. One partition, 400
 * appends of 4 KiB (one object each, as separate produce requests make them),
 * read from offset 0 with 1 MiB fetches. Counts come from SDK middleware.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStrand } from '../local/startLocalStrand';
import { encodeRecordBatch } from '../src/codec/recordBatch';
import { topicPrefix } from '../src/log/ObjectStore';
import { runMaintenance } from '../src/maintenance/runMaintenance';
import { countRequests } from './requestCounter';

const appends = 400;
const recordBytes = 4096;

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'strand-bench-merge-'));
  const strand = await startLocalStrand({ dataDir, port: 0, maintenanceIntervalMs: 0 });
  const engine = strand.runtime.engine;
  const counts = countRequests(strand.runtime.clients);
  try {
    const topic = await engine.createTopic('merge-bench', 1, 3, { 'retention.ms': '-1' });
    for (let i = 0; i < appends; i++) {
      const batch = encodeRecordBatch([{ key: null, value: Buffer.alloc(recordBytes, i % 251), headers: [], timestamp: Date.now() }]);
      const [r] = await engine.append(topic, [{ partition: 0, batches: [batch] }]);
      if (!r!.ok) throw r!.error;
    }
    const measure = async () => {
      counts.reset();
      let offset = 0;
      let bytes = 0;
      for (;;) {
        const res = await engine.read(topic, 0, offset, 1024 * 1024);
        bytes += res.batches.length;
        if (res.nextOffset >= res.highWatermark) break;
        offset = res.nextOffset;
      }
      const objects = (await engine.context.objects.list(topicPrefix(topic.topicId))).length;
      const mib = bytes / (1024 * 1024);
      return { objects, mib: Number(mib.toFixed(2)), objects_per_mib: Number((objects / mib).toFixed(1)), gets_per_mib: Number((counts.s3Gets / mib).toFixed(1)) };
    };
    const before = await measure();
    // Merge with the production defaults, then sweep the replaced objects (no grace: nothing else writes here).
    await runMaintenance(strand.runtime, { orphanGraceMs: 0 });
    const after = await measure();
    console.log(`${appends} appends of ${recordBytes} B on one partition, read back with 1 MiB fetches:`);
    console.table({ before, after });
    console.log(JSON.stringify({ before, after, gets_per_mib_ratio: Number((after.gets_per_mib / before.gets_per_mib).toFixed(3)) }));
  } finally {
    await strand.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
