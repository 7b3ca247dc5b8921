/**
 * `npm run bench [-- --quick] [--producers N] [--consumers N] [--partitions N]
 *   [--record-bytes B] [--batch-kib K[,K…]] [--seconds S]`
 *
 * Drives a local Strand over HTTP through the SDK, and in the same run measures
 * the ceiling: raw S3 PutObject and GetObject of the same sizes, at the same
 * concurrency, against the same emulator. The emulators run in a process of
 * their own (a core of their own, as S3 and DynamoDB are other machines on AWS).
 * S3 and DynamoDB requests (and DynamoDB capacity units) are counted by SDK
 * middleware; dollars are the dated price table (src/cost/prices.ts) applied to
 * those counts. Prints tables, then one JSON object as the very last line.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalStrand } from '../local/startLocalStrand';
import type { HandledRequest } from '../local/gateway';
import { StrandClient } from '../client';
import { functionSizing } from '../infra/access';
import { kinesisUsdPerGib, mskServerlessUsdPerGib, usdPerGibIngested, type ProduceRequestProfile } from '../src/cost/costModel';
import { pricesAsOf } from '../src/cost/prices';
import { countRequests, timeStorageCalls } from './requestCounter';
import { cpuMs, measureCpu, percentile, runFor, parseArgs } from './benchUtil';

const args = parseArgs(process.argv.slice(2));
const quick = args.flag('quick');
const producers = args.number('producers', 4);
const consumers = args.number('consumers', 4);
const partitions = args.number('partitions', 4);
const recordBytes = args.number('record-bytes', 1024);
const seconds = args.number('seconds', quick ? 6 : 12);
const batchKiB = args.list('batch-kib', quick ? [256] : [64, 256, 1024]);
/** Sizes also run on the direct-to-S3 data plane (presigned PUT + commit; presigned ranged GETs). */
const directKiB = args.list('direct-kib', quick ? [] : [1024]);
const runs = [...batchKiB.map((kib) => ({ kib, direct: false })), ...directKiB.map((kib) => ({ kib, direct: true }))];
const mib = 1024 * 1024;

interface SizeResult {
  batch_kib: number;
  path: 'api' | 'direct';
  raw_put_mib_s: number;
  produce_mib_s: number;
  produce_ratio: number;
  /** PUT + one UpdateItem per batch at the same concurrency: the floor of the protocol. */
  storage_floor_mib_s: number;
  produce_vs_floor: number;
  /** CPU ms per MiB in each process (this one: SDK clients + gateway + handlers; and each emulator). */
  cpu_ms_per_mib_raw_put: Record<string, number>;
  cpu_ms_per_mib_produce: Record<string, number>;
  cpu_ms_per_mib_raw_get: Record<string, number>;
  cpu_ms_per_mib_fetch: Record<string, number>;
  raw_get_mib_s: number;
  fetch_mib_s: number;
  fetch_ratio: number;
  produce_p50_ms: number;
  produce_p99_ms: number;
  produce_requests: number;
  s3_puts_per_produce_request: number;
  ddb_requests_per_partition_batch: number;
  ddb_wru_per_partition_batch: number;
  handler_p50_ms: number;
  /** Of a produce request's handler time: mean ms inside S3 PUTs/GETs and inside DynamoDB calls (emulator time). */
  handler_s3_ms: number;
  handler_dynamodb_ms: number;
  s3_gets_per_fetched_mib: number;
  usd_per_gib_ingested: number;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'strand-bench-'));
  const handled: HandledRequest[] = [];
  const strand = await startLocalStrand({
    dataDir,
    port: 0,
    maintenanceIntervalMs: 0,
    emulatorsInChildProcess: true,
    onRequest: (r) => handled.push(r),
  });
  const counts = countRequests(strand.runtime.clients);
  const pids = { strand: undefined, s3: strand.emulatorPids?.s3, dynamodb: strand.emulatorPids?.dynamodb };
  const timing = timeStorageCalls(strand.runtime.clients);
  const s3 = strand.runtime.clients.s3;
  const bucket = strand.runtime.config.bucket;
  const client = new StrandClient({ url: strand.url, logger: { warn: () => {} } });
  const admin = client.admin();
  const results: SizeResult[] = [];
  let e2eP50 = 0;
  try {
    for (const { kib, direct } of runs) {
      const batchBytes = kib * 1024;
      const recordsPerBatch = Math.max(1, Math.floor(batchBytes / recordBytes));
      const payloadPerBatch = recordsPerBatch * recordBytes;
      const topic = `bench-${kib}k${direct ? '-direct' : ''}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions, configEntries: [{ name: 'retention.ms', value: '-1' }, { name: 'max.message.bytes', value: String(8 * mib) }] }] });

      // Ceiling: raw PUTs of a batch's size at the same concurrency.
      const body = Buffer.alloc(payloadPerBatch, 7);
      let rawPuts = 0;
      const rawKeys: string[] = [];
      const { result: putSeconds, cpuMs: putCpu } = await measureCpu(pids, () =>
        runFor(seconds, producers, async (w, i) => {
          const key = `bench-raw/${kib}/${w}-${i}`;
          await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
          rawKeys.push(key);
          rawPuts++;
        }),
      );
      const rawPutMiBs = (rawPuts * payloadPerBatch) / mib / putSeconds;

      // The storage floor of design.md's protocol: the same PUT, then one atomic
      // UpdateItem (the commit), nothing else — what any implementation of it pays.
      let floorAppends = 0;
      const floorSeconds = await runFor(seconds, producers, async (w, i) => {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `bench-floor/${kib}/${w}-${i}`, Body: body }));
        await strand.runtime.clients.ddb.send(
          new UpdateCommand({
            TableName: strand.runtime.config.tables.log,
            Key: { pk: `bench-floor-${kib}#${w}`, sk: -1 },
            UpdateExpression: 'SET e = list_append(if_not_exists(e, :empty), :entry) ADD hw :n',
            ExpressionAttributeValues: { ':empty': [], ':entry': [`floor ${i}`], ':n': recordsPerBatch },
          }),
        );
        floorAppends++;
      });
      const floorMiBs = (floorAppends * payloadPerBatch) / mib / floorSeconds;

      // Produce through the SDK: each worker its own partition, one batch per send.
      const value = Buffer.alloc(recordBytes, 1);
      const latencies: number[] = [];
      handled.length = 0;
      counts.reset();
      timing.reset();
      let batches = 0;
      const producerList = Array.from({ length: producers }, () =>
        client.producer({ lingerMs: 0, batchSize: Math.ceil(payloadPerBatch * 1.25), directUploadBytes: direct ? 0 : Infinity }),
      );
      const { result: produceSeconds, cpuMs: produceCpu } = await measureCpu(pids, () =>
        runFor(seconds, producers, async (w) => {
          const t0 = performance.now();
          await producerList[w]!.send({ topic, messages: Array.from({ length: recordsPerBatch }, () => ({ value, partition: w % partitions })) });
          latencies.push(performance.now() - t0);
          batches++;
        }),
      );
      await Promise.all(producerList.map((p) => p.close()));
      // A produce request is a /batches call, or on the direct path the commit of an upload.
      const produceRequests = handled.filter((h) => (h.routeKey.endsWith('/batches') || h.routeKey.endsWith('/commit')) && h.status === 200);
      const storageMs = timing.snapshot();
      const produceMiBs = (batches * payloadPerBatch) / mib / produceSeconds;
      const perMiB = (cpu: Record<string, number>, mibs: number) =>
        Object.fromEntries(Object.entries(cpu).map(([k, ms]) => [k, round(ms / mibs, 1)])) as Record<string, number>;
      const putCpuPerMiB = perMiB(putCpu, rawPuts * payloadPerBatch / mib);
      const produceCpuPerMiB = perMiB(produceCpu, batches * payloadPerBatch / mib);
      const profile: ProduceRequestProfile = {
        requestBytes: payloadPerBatch,
        s3Puts: counts.s3Puts / produceRequests.length,
        dynamodbWriteUnits: counts.dynamodbWriteUnits / produceRequests.length,
        dynamodbReadUnits: counts.dynamodbReadUnits / produceRequests.length,
        lambdaMs: percentile(produceRequests.map((h) => h.ms), 50),
        lambdaMemoryMiB: functionSizing.produce!.memoryMiB,
      };
      const ddbPerBatch = counts.dynamodb / produceRequests.length;

      // Ceiling: raw GETs of the same objects at the same concurrency.
      let rawGets = 0;
      const { result: getSeconds, cpuMs: getCpu } = await measureCpu(pids, () =>
        runFor(seconds, consumers, async (w, i) => {
          const key = rawKeys[(w * 7919 + i) % rawKeys.length]!;
          const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          await out.Body!.transformToByteArray();
          rawGets++;
        }),
      );
      const rawGetMiBs = (rawGets * payloadPerBatch) / mib / getSeconds;

      // Fetch through the SDK: consumers split the partitions and read everything produced.
      counts.reset();
      const totalRecords = batches * recordsPerBatch;
      let consumed = 0;
      const fetchStart = performance.now();
      const fetchCpuBefore = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid)]));
      const consumerList = Array.from({ length: Math.min(consumers, partitions) }, () =>
        client.consumer({ maxBytesPerPartition: 4 * mib, maxWaitTimeInMs: 100, autoOffsetReset: 'earliest', directFetch: direct }),
      );
      await new Promise<void>((resolve) => {
        consumerList.forEach((c, i) => {
          const mine = Array.from({ length: partitions }, (_, p) => p).filter((p) => p % consumerList.length === i);
          c.assign(mine.map((partition) => ({ topic, partition })), { fromBeginning: true });
          void c.run({
            partitionsConsumedConcurrently: mine.length,
            eachBatch: async ({ batch }) => {
              consumed += batch.messages.length;
              if (consumed >= totalRecords) resolve();
            },
          });
        });
      });
      const fetchSeconds = (performance.now() - fetchStart) / 1000;
      const fetchCpu = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid) - fetchCpuBefore[k]!]));
      await Promise.all(consumerList.map((c) => c.close()));
      const fetchedMiB = (totalRecords * recordBytes) / mib;

      results.push({
        batch_kib: kib,
        path: direct ? 'direct' : 'api',
        raw_put_mib_s: round(rawPutMiBs),
        produce_mib_s: round(produceMiBs),
        produce_ratio: round(produceMiBs / rawPutMiBs, 3),
        storage_floor_mib_s: round(floorMiBs),
        produce_vs_floor: round(produceMiBs / floorMiBs, 3),
        cpu_ms_per_mib_raw_put: putCpuPerMiB,
        cpu_ms_per_mib_produce: produceCpuPerMiB,
        cpu_ms_per_mib_raw_get: perMiB(getCpu, (rawGets * payloadPerBatch) / mib),
        cpu_ms_per_mib_fetch: perMiB(fetchCpu, (totalRecords * recordBytes) / mib),
        raw_get_mib_s: round(rawGetMiBs),
        fetch_mib_s: round(fetchedMiB / fetchSeconds),
        fetch_ratio: round(fetchedMiB / fetchSeconds / rawGetMiBs, 3),
        produce_p50_ms: round(percentile(latencies, 50), 1),
        produce_p99_ms: round(percentile(latencies, 99), 1),
        produce_requests: produceRequests.length,
        s3_puts_per_produce_request: round(profile.s3Puts, 3),
        ddb_requests_per_partition_batch: round(ddbPerBatch, 3),
        ddb_wru_per_partition_batch: round(profile.dynamodbWriteUnits, 3),
        handler_p50_ms: round(profile.lambdaMs, 1),
        handler_s3_ms: round(storageMs.s3Ms / produceRequests.length, 1),
        handler_dynamodb_ms: round(storageMs.dynamodbMs / produceRequests.length, 1),
        s3_gets_per_fetched_mib: round(counts.s3Gets / fetchedMiB, 2),
        usd_per_gib_ingested: usdPerGibIngested(profile),
      });
    }

    // End to end: a record's way from send() to a long-polling consumer.
    const e2eTopic = 'bench-e2e';
    await admin.createTopics({ topics: [{ topic: e2eTopic, numPartitions: 1 }] });
    const e2e: number[] = [];
    const consumer = client.consumer({ maxWaitTimeInMs: 5000, autoOffsetReset: 'latest' });
    consumer.assign([{ topic: e2eTopic, partition: 0 }]);
    const sentAt = new Map<string, number>();
    void consumer.run({
      eachMessage: async ({ message }) => {
        const t = sentAt.get(message.value!.toString());
        if (t !== undefined) e2e.push(performance.now() - t);
      },
    });
    await new Promise((r) => setTimeout(r, 500));
    const producer = client.producer({ lingerMs: 0 });
    for (let i = 0; i < (quick ? 30 : 100); i++) {
      sentAt.set(`e2e-${i}`, performance.now());
      await producer.send({ topic: e2eTopic, messages: [{ value: `e2e-${i}`, partition: 0 }] });
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 1000));
    await producer.close();
    await consumer.close();
    e2eP50 = percentile(e2e, 50);
  } finally {
    await strand.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  report(results, e2eP50);
}

function round(n: number, digits = 2): number {
  return Number.isFinite(n) ? Number(n.toFixed(digits)) : 0;
}

/** Cost per GiB at a batch size: measured when that size ran, else modeled from the nearest measured size (same counts, Lambda time scaled by bytes). */
function costAt(results: SizeResult[], kib: number, profileOf: (r: SizeResult, kib: number) => ProduceRequestProfile): number {
  const nearest = [...results].sort((a, b) => Math.abs(a.batch_kib - kib) - Math.abs(b.batch_kib - kib))[0]!;
  return usdPerGibIngested(profileOf(nearest, kib));
}

function report(results: SizeResult[], e2eP50: number): void {
  const profileOf = (r: SizeResult, kib: number): ProduceRequestProfile => ({
    requestBytes: kib * 1024,
    s3Puts: r.s3_puts_per_produce_request,
    dynamodbWriteUnits: r.ddb_wru_per_partition_batch,
    dynamodbReadUnits: 0,
    lambdaMs: Math.max(5, (r.handler_p50_ms * kib) / r.batch_kib),
    lambdaMemoryMiB: functionSizing.produce!.memoryMiB,
  });
  const apiResults = results.filter((r) => r.path === 'api');
  const main = apiResults.find((r) => r.batch_kib === 256) ?? results[0]!;
  const usd1mib = costAt(apiResults, 1024, profileOf);
  const usd64kib = costAt(apiResults, 64, profileOf);
  const kinesis = kinesisUsdPerGib(recordBytes);
  const msk = mskServerlessUsdPerGib();

  console.log(`Strand bench: ${producers} producers, ${consumers} consumers, ${partitions} partitions, ${recordBytes} B records, ${seconds} s per phase`);
  console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node.js ${process.version}; emulators in their own process.`);
  console.table(
    results.map((r) => ({
      'batch KiB': r.batch_kib,
      path: r.path,
      'raw PUT MiB/s': r.raw_put_mib_s,
      'produce MiB/s': r.produce_mib_s,
      'produce ratio': r.produce_ratio,
      'PUT+commit MiB/s': r.storage_floor_mib_s,
      'vs PUT+commit': r.produce_vs_floor,
      'raw GET MiB/s': r.raw_get_mib_s,
      'fetch MiB/s': r.fetch_mib_s,
      'fetch ratio': r.fetch_ratio,
      'p50 ms': r.produce_p50_ms,
      'p99 ms': r.produce_p99_ms,
      'S3 PUT/req': r.s3_puts_per_produce_request,
      'DDB req/batch': r.ddb_requests_per_partition_batch,
      'GET/MiB': r.s3_gets_per_fetched_mib,
      'handler ms (S3, DDB)': `${r.handler_p50_ms} (${r.handler_s3_ms}, ${r.handler_dynamodb_ms})`,
      '$/GiB in': r.usd_per_gib_ingested.toFixed(4),
    })),
  );
  console.log(`Cost per GiB ingested (prices of ${pricesAsOf}, us-east-1): Strand 64 KiB batches $${usd64kib.toFixed(4)}, 1 MiB batches $${usd1mib.toFixed(4)}; Kinesis on-demand $${kinesis.toFixed(4)}; MSK Serverless data-in $${msk.toFixed(4)} (+ cluster and partition hours).`);
  console.log('CPU ms per MiB, by process (strand = SDK clients + local gateway + handlers in this process):');
  console.table(
    results.map((r) => ({
      'batch KiB': r.batch_kib,
      path: r.path,
      'raw PUT: strand': r.cpu_ms_per_mib_raw_put.strand,
      'raw PUT: s3': r.cpu_ms_per_mib_raw_put.s3,
      'produce: strand': r.cpu_ms_per_mib_produce.strand,
      'produce: s3': r.cpu_ms_per_mib_produce.s3,
      'produce: dynamodb': r.cpu_ms_per_mib_produce.dynamodb,
      'raw GET: strand': r.cpu_ms_per_mib_raw_get.strand,
      'raw GET: s3': r.cpu_ms_per_mib_raw_get.s3,
      'fetch: strand': r.cpu_ms_per_mib_fetch.strand,
      'fetch: s3': r.cpu_ms_per_mib_fetch.s3,
      'fetch: dynamodb': r.cpu_ms_per_mib_fetch.dynamodb,
    })),
  );
  console.log(`End to end (send → long-polling consumer) p50: ${e2eP50.toFixed(1)} ms`);
  const summary = {
    batch_kib: main.batch_kib,
    produce_mib_s: main.produce_mib_s,
    raw_put_mib_s: main.raw_put_mib_s,
    produce_ratio: main.produce_ratio,
    fetch_mib_s: main.fetch_mib_s,
    raw_get_mib_s: main.raw_get_mib_s,
    fetch_ratio: main.fetch_ratio,
    produce_p50_ms: main.produce_p50_ms,
    produce_p99_ms: main.produce_p99_ms,
    e2e_p50_ms: round(e2eP50, 1),
    s3_puts_per_produce_request: main.s3_puts_per_produce_request,
    ddb_requests_per_partition_batch: main.ddb_requests_per_partition_batch,
    s3_gets_per_fetched_mib: main.s3_gets_per_fetched_mib,
    usd_per_gib_ingested_1mib: round(usd1mib, 5),
    usd_per_gib_ingested_64kib: round(usd64kib, 5),
    usd_per_million_1kib_records: round((usd1mib * 1e6 * 1024) / 1024 ** 3, 5),
    kinesis_on_demand_usd_per_gib: round(kinesis, 5),
    msk_serverless_usd_per_gib: round(msk, 5),
    by_batch_size: results,
  };
  console.log(JSON.stringify(summary));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
