/**
 * `npx tsx bench/handlerCpu.ts [--batch-kib 256,1024] [--rounds N] [--requests N]`:
 * Strand's own CPU per MiB in the Lambda handlers alone, against a bare S3
 * client in the same process, on the same SDK clients and emulators.
 *
 * `npm run bench` measures whole processes: Strand's holds the local gateway
 * (API Gateway's work on AWS) and the log-stream, notifier and trigger
 * stand-ins (other Lambda functions on AWS). Here the produce and fetch
 * handlers are called directly with API Gateway events, one request at a
 * time, and their CPU (process.cpuUsage) is compared with PutObject and
 * GetObject of the same bytes, in rounds that alternate the four so a loaded
 * machine colors them alike; medians over the rounds. The gateway's part is
 * not here at all, and the notifier's is: its work follows each commit in this
 * process, as on AWS it follows it in the notifier function.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { startLocalStrand } from '../local/startLocalStrand';
import { createHandler } from '../src/api/lambda';
import { encodeRecordBatch } from '../src/codec/recordBatch';
import { StrandClient } from '../client';
import { parseArgs, percentile } from './benchUtil';

const args = parseArgs(process.argv.slice(2));
const batchKiB = args.list('batch-kib', [256, 1024]);
const rounds = args.number('rounds', 5);
const requests = args.number('requests', 8);
const mib = 1024 * 1024;

function cpuMsNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'strand-handler-cpu-'));
  const strand = await startLocalStrand({ dataDir, port: 0, maintenanceIntervalMs: 0, emulatorsInChildProcess: true });
  const rt = strand.runtime;
  const produce = createHandler('produce', () => rt);
  const fetchHandler = createHandler('fetch', () => rt);
  const s3 = rt.clients.s3;
  const bucket = rt.config.bucket;
  const results: Record<string, unknown>[] = [];
  try {
    for (const kib of batchKiB) {
      const topic = `handler-cpu-${kib}k`;
      await new StrandClient({ url: strand.url, logger: { warn: () => {} } }).admin().createTopics({
        topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '-1' }, { name: 'max.message.bytes', value: String(8 * mib) }] }],
      });
      const value = Buffer.alloc(1024, 1);
      const batch = encodeRecordBatch(Array.from({ length: kib }, () => ({ key: null, value, headers: [], timestamp: Date.now() })));
      const mibPerRequest = batch.length / mib;
      const path = { cluster_id: rt.config.clusterId, topic_name: topic, partition_id: '0' };
      const body = batch.toString('base64');
      const produceEvent = (): APIGatewayProxyEventV2 => ({
        routeKey: 'POST /v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}/batches',
        headers: { 'content-type': 'application/vnd.kafka.record-batch.v2' },
        pathParameters: path,
        body,
        isBase64Encoded: true,
      }) as unknown as APIGatewayProxyEventV2;
      let offset = 0;
      const fetchEvent = (): APIGatewayProxyEventV2 => ({
        routeKey: 'GET /v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}/records',
        headers: { accept: 'application/vnd.kafka.record-batch.v2' },
        pathParameters: path,
        queryStringParameters: { offset: String(offset), max_bytes: String(batch.length) },
        isBase64Encoded: false,
      }) as unknown as APIGatewayProxyEventV2;
      const rawKey = `bench-handler-cpu/${kib}`;
      const steps = {
        put: async () => void (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: rawKey, Body: batch }))),
        produce: async () => {
          const r = await produce(produceEvent());
          if (r.statusCode !== 200) throw new Error(`produce answered ${r.statusCode}: ${r.body}`);
        },
        get: async () => {
          const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: rawKey }));
          await out.Body!.transformToByteArray();
        },
        fetch: async () => {
          const r = await fetchHandler(fetchEvent());
          if (r.statusCode !== 200 || !r.isBase64Encoded) throw new Error(`fetch answered ${r.statusCode}: ${String(r.body).slice(0, 200)}`);
          offset += kib;
        },
      };
      // Warm up: connections, caches, JIT.
      for (const step of [steps.put, steps.produce, steps.produce, steps.get, steps.fetch, steps.fetch]) await step();
      const perMiB: Record<keyof typeof steps, number[]> = { put: [], produce: [], get: [], fetch: [] };
      for (let round = 0; round < rounds; round++) {
        for (const name of Object.keys(steps) as (keyof typeof steps)[]) {
          const t0 = cpuMsNow();
          for (let i = 0; i < requests; i++) await steps[name]();
          perMiB[name].push((cpuMsNow() - t0) / (requests * mibPerRequest));
        }
      }
      const median = (xs: number[]) => percentile(xs, 50);
      const row = {
        batch_kib: kib,
        put_cpu_ms_per_mib: Number(median(perMiB.put).toFixed(2)),
        produce_handler_cpu_ms_per_mib: Number(median(perMiB.produce).toFixed(2)),
        get_cpu_ms_per_mib: Number(median(perMiB.get).toFixed(2)),
        fetch_handler_cpu_ms_per_mib: Number(median(perMiB.fetch).toFixed(2)),
        handler_cpu_ratio_produce: Number((median(perMiB.produce) / median(perMiB.put)).toFixed(2)),
        handler_cpu_ratio_fetch: Number((median(perMiB.fetch) / median(perMiB.get)).toFixed(2)),
      };
      results.push(row);
    }
  } finally {
    await strand.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.table(results);
  console.log(JSON.stringify({ handler_cpu: results }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
