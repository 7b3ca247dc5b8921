/**
 * `npm run bench [-- --quick] [--producers N] [--consumers N] [--partitions N]
 *   [--record-bytes B] [--batch-kib K[,K…]] [--seconds S]
 *   [--only throughput|idle] [--idle-seconds S] [--wakeups N]`
 *
 * Two phases: throughput and cost per GiB (below), then idle consumers
 * (bench/idle.ts: what a waiting consumer costs per month, and its wake-up).
 * `--only` runs one of them.
 *
 * Drives a local Strand over HTTP through the SDK, and in the same run measures
 * the ceiling: raw S3 PutObject and GetObject of the same sizes, at the same
 * concurrency, against the same emulator. Four processes, as four kinds of
 * machine on AWS: the clients (bench/loadGenerator.ts: SDK producers and
 * consumers, and the raw calls), Strand (this one: the local gateway and the
 * Lambda handlers), the S3 emulator and the DynamoDB emulator; the CPU each
 * spends per MiB is reported. To see where: `node --cpu-prof --import tsx
 * bench/index.ts …` profiles Strand's process, and STRAND_BENCH_PROFILE_CLIENTS=<dir>
 * writes a profile of the clients' process there.
 * S3 and DynamoDB requests (and DynamoDB capacity units) are counted by SDK
 * middleware; dollars are the dated price table (src/cost/prices.ts) applied to
 * those counts. Prints tables, then one JSON object as the very last line.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import { startLocalStrand } from '../local/startLocalStrand';
import type { HandledRequest } from '../local/gateway';
import { StrandClient } from '../client';
import { functionSizing } from '../infra/access';
import { kinesisUsdPerGib, mskServerlessUsdPerGib, usdPerGibIngested, type ProduceRequestProfile } from '../src/cost/costModel';
import { pricesAsOf } from '../src/cost/prices';
import { countRequests, timeStorageCalls } from './requestCounter';
import { idleSummary, reportIdle, runIdleBench, type IdleBenchResult } from './idle';
import { measureCpu, percentile, parseArgs } from './benchUtil';
import type { Command } from './loadGenerator';

const args = parseArgs(process.argv.slice(2));
const quick = args.flag('quick');
const producers = args.number('producers', 4);
const consumers = args.number('consumers', 4);
const partitions = args.number('partitions', 4);
const recordBytes = args.number('record-bytes', 1024);
const seconds = args.number('seconds', quick ? 6 : 12);
const batchKiB = args.list('batch-kib', quick ? [256] : [64, 256, 1024]);
/** Sizes also run on the direct-to-S3 data plane (presigned PUT + commit; presigned ranged GETs). */
const directKiB = args.list('direct-kib', quick ? [256] : [256, 1024]);
const runs = [...batchKiB.map((kib) => ({ kib, direct: false })), ...directKiB.map((kib) => ({ kib, direct: true }))];
const mib = 1024 * 1024;
const only = args.string('only');
if (only !== undefined && only !== 'throughput' && only !== 'idle') throw new Error(`--only takes 'throughput' or 'idle', not '${only}'`);
const idleOptions = { quick, windowSeconds: args.string('idle-seconds') === undefined ? undefined : args.number('idle-seconds', 60), wakeups: args.string('wakeups') === undefined ? undefined : args.number('wakeups', 30) };

interface SizeResult {
  batch_kib: number;
  path: 'api' | 'direct';
  raw_put_mib_s: number;
  produce_mib_s: number;
  produce_ratio: number;
  /** PUT + one UpdateItem per batch at the same concurrency: the floor of the protocol. */
  storage_floor_mib_s: number;
  produce_vs_floor: number;
  /** The highest produce and fetch ratios the emulators' own CPU allows on this machine (ratioBound). */
  produce_ratio_bound: number;
  fetch_ratio_bound: number;
  /** CPU ms per MiB in each process: the clients (load generator), Strand (gateway + handlers), each emulator. */
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

/** The load generator process (bench/loadGenerator.ts): one command at a time. */
interface LoadGenerator {
  pid: number;
  call<T>(command: Command): Promise<T>;
  stop(): Promise<void>;
}

async function startLoadGenerator(): Promise<LoadGenerator> {
  const child = fork(join(__dirname, 'loadGenerator.ts'), [], { execArgv: ['--import', 'tsx', ...(process.env.STRAND_BENCH_PROFILE_CLIENTS ? ['--cpu-prof', '--cpu-prof-dir', process.env.STRAND_BENCH_PROFILE_CLIENTS] : [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 0;
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`The load generator exited with code ${code} before it started.`)));
  });
  child.on('message', (m: { id: number; result?: unknown; error?: string }) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error !== undefined) w?.reject(new Error(`load generator: ${m.error}`));
    else w?.resolve(m.result);
  });
  return {
    pid: child.pid!,
    call: <T>(command: Command) =>
      new Promise<T>((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, command });
      }),
    // Asked to exit rather than killed, so that a --cpu-prof profile (STRAND_BENCH_PROFILE_CLIENTS) is written.
    stop: async () => {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ exit: true });
      const timer = setTimeout(() => child.kill(), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

type Timed = { count: number; seconds: number };

async function main(): Promise<void> {
  if (only === 'idle') {
    const idle = await runIdleBench(idleOptions);
    reportIdle(idle);
    console.log(JSON.stringify(idleSummary(idle)));
    return;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'strand-bench-'));
  const handled: HandledRequest[] = [];
  const strand = await startLocalStrand({
    dataDir,
    port: 0,
    maintenanceIntervalMs: 0,
    emulatorsInChildProcess: true,
    onRequest: (r) => handled.push(r),
  });
  const generator = await startLoadGenerator();
  const counts = countRequests(strand.runtime.clients);
  const pids = { clients: generator.pid, strand: undefined, s3: strand.emulatorPids?.s3, dynamodb: strand.emulatorPids?.dynamodb };
  const timing = timeStorageCalls(strand.runtime.clients);
  const client = new StrandClient({ url: strand.url, logger: { warn: () => {} } });
  const admin = client.admin();
  const results: SizeResult[] = [];
  let e2eP50 = 0;
  try {
    await generator.call({
      cmd: 'setup',
      setup: { strandUrl: strand.url, s3Endpoint: strand.endpoints.s3, dynamodbEndpoint: strand.endpoints.dynamodb, bucket: strand.runtime.config.bucket, logTable: strand.runtime.config.tables.log },
    });
    for (const { kib, direct } of runs) {
      const batchBytes = kib * 1024;
      const recordsPerBatch = Math.max(1, Math.floor(batchBytes / recordBytes));
      const payloadPerBatch = recordsPerBatch * recordBytes;
      const topic = `bench-${kib}k${direct ? '-direct' : ''}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions, configEntries: [{ name: 'retention.ms', value: '-1' }, { name: 'max.message.bytes', value: String(8 * mib) }] }] });
      const perMiB = (cpu: Record<string, number>, mibs: number) =>
        Object.fromEntries(Object.entries(cpu).map(([k, ms]) => [k, round(ms / mibs, 1)])) as Record<string, number>;

      const { result: rawPut, cpuMs: putCpu } = await measureCpu(pids, () =>
        generator.call<Timed>({ cmd: 'rawPut', seconds, workers: producers, bytes: payloadPerBatch, prefix: `bench-raw/${kib}${direct ? 'd' : ''}` }),
      );
      const rawPutMiBs = (rawPut.count * payloadPerBatch) / mib / rawPut.seconds;
      const floor = await generator.call<Timed>({ cmd: 'floor', seconds, workers: producers, bytes: payloadPerBatch, prefix: `bench-floor-${kib}${direct ? 'd' : ''}`, recordsPerBatch });
      const floorMiBs = (floor.count * payloadPerBatch) / mib / floor.seconds;

      handled.length = 0;
      counts.reset();
      timing.reset();
      const { result: produced, cpuMs: produceCpu } = await measureCpu(pids, () =>
        generator.call<Timed & { p50: number; p99: number; directPuts: number }>({
          cmd: 'produce', topic, seconds, producers, partitions, recordsPerBatch, recordBytes, batchSize: Math.ceil(payloadPerBatch * 1.25), direct,
        }),
      );
      // A produce request is a /batches call, or on the direct path the commit of an upload.
      const produceRequests = handled.filter((h) => (h.routeKey.endsWith('/batches') || h.routeKey.endsWith('/commit')) && h.status === 200);
      const storageMs = timing.snapshot();
      const producedMiB = (produced.count * payloadPerBatch) / mib;
      const produceMiBs = producedMiB / produced.seconds;
      // Direct uploads are PUT by the client to a presigned URL: counted in the generator.
      const s3Puts = counts.s3Puts + produced.directPuts;
      const profile: ProduceRequestProfile = {
        requestBytes: payloadPerBatch,
        s3Puts: s3Puts / produceRequests.length,
        s3Gets: counts.s3Gets / produceRequests.length,
        dynamodbWriteUnits: counts.dynamodbWriteUnits / produceRequests.length,
        dynamodbReadUnits: counts.dynamodbReadUnits / produceRequests.length,
        lambdaMs: percentile(produceRequests.map((h) => h.ms), 50),
        lambdaMemoryMiB: functionSizing.produce!.memoryMiB,
      };
      const ddbPerBatch = counts.dynamodb / produceRequests.length;

      const { result: rawGet, cpuMs: getCpu } = await measureCpu(pids, () => generator.call<Timed>({ cmd: 'rawGet', seconds, workers: consumers }));
      const rawGetMiBs = (rawGet.count * payloadPerBatch) / mib / rawGet.seconds;

      counts.reset();
      const totalRecords = produced.count * recordsPerBatch;
      const { result: fetched, cpuMs: fetchCpu } = await measureCpu(pids, () =>
        generator.call<{ seconds: number; directGets: number }>({ cmd: 'fetch', topic, consumers, partitions, totalRecords, direct }),
      );
      const fetchedMiB = (totalRecords * recordBytes) / mib;

      results.push({
        batch_kib: kib,
        path: direct ? 'direct' : 'api',
        raw_put_mib_s: round(rawPutMiBs),
        produce_mib_s: round(produceMiBs),
        produce_ratio: round(produceMiBs / rawPutMiBs, 3),
        storage_floor_mib_s: round(floorMiBs),
        produce_vs_floor: round(produceMiBs / floorMiBs, 3),
        produce_ratio_bound: ratioBound(perMiB(putCpu, (rawPut.count * payloadPerBatch) / mib), perMiB(produceCpu, producedMiB)),
        fetch_ratio_bound: ratioBound(perMiB(getCpu, (rawGet.count * payloadPerBatch) / mib), perMiB(fetchCpu, fetchedMiB)),
        cpu_ms_per_mib_raw_put: perMiB(putCpu, (rawPut.count * payloadPerBatch) / mib),
        cpu_ms_per_mib_produce: perMiB(produceCpu, producedMiB),
        cpu_ms_per_mib_raw_get: perMiB(getCpu, (rawGet.count * payloadPerBatch) / mib),
        cpu_ms_per_mib_fetch: perMiB(fetchCpu, fetchedMiB),
        raw_get_mib_s: round(rawGetMiBs),
        fetch_mib_s: round(fetchedMiB / fetched.seconds),
        fetch_ratio: round(fetchedMiB / fetched.seconds / rawGetMiBs, 3),
        produce_p50_ms: round(produced.p50, 1),
        produce_p99_ms: round(produced.p99, 1),
        produce_requests: produceRequests.length,
        s3_puts_per_produce_request: round(profile.s3Puts, 3),
        ddb_requests_per_partition_batch: round(ddbPerBatch, 3),
        ddb_wru_per_partition_batch: round(profile.dynamodbWriteUnits, 3),
        handler_p50_ms: round(profile.lambdaMs, 1),
        handler_s3_ms: round(storageMs.s3Ms / produceRequests.length, 1),
        handler_dynamodb_ms: round(storageMs.dynamodbMs / produceRequests.length, 1),
        s3_gets_per_fetched_mib: round((counts.s3Gets + fetched.directGets) / fetchedMiB, 2),
        usd_per_gib_ingested: usdPerGibIngested(profile),
      });
    }

    const e2eTopic = 'bench-e2e';
    await admin.createTopics({ topics: [{ topic: e2eTopic, numPartitions: 1 }] });
    e2eP50 = (await generator.call<{ p50: number }>({ cmd: 'e2e', topic: e2eTopic, messages: quick ? 30 : 100 })).p50;
  } finally {
    await generator.stop();
    await strand.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  // On a Strand of its own, after the throughput phase's is gone.
  const idle = only === 'throughput' ? undefined : await runIdleBench(idleOptions);
  report(results, e2eP50, idle);
}

/**
 * The best ratio any client and any Strand could reach on this machine, given
 * the emulators' measured CPU: every process shares the same cores, so
 * throughput is (cores / total CPU per MiB). Assume Strand itself costs
 * nothing and its clients no more than the raw calls' client; what is left is
 * the emulators' CPU for Strand's storage calls, against the whole raw path's.
 */
function ratioBound(raw: Record<string, number>, strand: Record<string, number>): number {
  const rawTotal = Object.values(raw).reduce((a, b) => a + b, 0);
  const emulators = (strand.s3 ?? 0) + (strand.dynamodb ?? 0);
  return round(rawTotal / (emulators + (raw.clients ?? 0)), 2);
}

function round(n: number, digits = 2): number {
  return Number.isFinite(n) ? Number(n.toFixed(digits)) : 0;
}

/** Cost per GiB at a batch size: measured when that size ran, else modeled from the nearest measured size (same counts, Lambda time scaled by bytes). */
function costAt(results: SizeResult[], kib: number, profileOf: (r: SizeResult, kib: number) => ProduceRequestProfile): number {
  const nearest = [...results].sort((a, b) => Math.abs(a.batch_kib - kib) - Math.abs(b.batch_kib - kib))[0]!;
  return usdPerGibIngested(profileOf(nearest, kib));
}

function report(results: SizeResult[], e2eP50: number, idle: IdleBenchResult | undefined): void {
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
  /** The same size on the direct-to-S3 data plane, when it ran. */
  const direct = results.find((r) => r.path === 'direct' && r.batch_kib === main.batch_kib);
  const usd1mib = costAt(apiResults, 1024, profileOf);
  const usd64kib = costAt(apiResults, 64, profileOf);
  const kinesis = kinesisUsdPerGib(recordBytes);
  const msk = mskServerlessUsdPerGib();

  console.log(`Strand bench: ${producers} producers, ${consumers} consumers, ${partitions} partitions, ${recordBytes} B records, ${seconds} s per phase`);
  console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node.js ${process.version}; clients, Strand and each emulator in processes of their own, sharing these cores.`);
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
  console.log('CPU ms per MiB, by process (clients = SDK producers/consumers and the raw calls; strand = local gateway + Lambda handlers):');
  const phases = [
    ['raw PUT', 'cpu_ms_per_mib_raw_put'],
    ['produce', 'cpu_ms_per_mib_produce'],
    ['raw GET', 'cpu_ms_per_mib_raw_get'],
    ['fetch', 'cpu_ms_per_mib_fetch'],
  ] as const;
  console.table(
    results.flatMap((r) =>
      phases.map(([phase, field]) => {
        const cpu = r[field];
        return {
          'batch KiB': r.batch_kib,
          path: r.path,
          phase,
          clients: cpu.clients,
          strand: cpu.strand,
          's3 emulator': cpu.s3,
          'dynamodb emulator': cpu.dynamodb,
          total: round(Object.values(cpu).reduce((a, b) => a + b, 0), 1),
        };
      }),
    ),
  );
  console.log('Highest ratio the emulators allow here (Strand free, clients as cheap as the raw calls\' client):');
  console.table(results.map((r) => ({ 'batch KiB': r.batch_kib, path: r.path, 'produce ratio': r.produce_ratio, 'bound': r.produce_ratio_bound, 'fetch ratio': r.fetch_ratio, 'fetch bound': r.fetch_ratio_bound })));
  console.log(`End to end (send → a waiting SDK consumer, default config) p50: ${e2eP50.toFixed(1)} ms`);
  const summary = {
    batch_kib: main.batch_kib,
    produce_mib_s: main.produce_mib_s,
    raw_put_mib_s: main.raw_put_mib_s,
    produce_ratio: main.produce_ratio,
    fetch_mib_s: main.fetch_mib_s,
    raw_get_mib_s: main.raw_get_mib_s,
    fetch_ratio: main.fetch_ratio,
    produce_ratio_bound: main.produce_ratio_bound,
    fetch_ratio_bound: main.fetch_ratio_bound,
    ...(direct ? { direct_produce_ratio: direct.produce_ratio, direct_fetch_ratio: direct.fetch_ratio } : {}),
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
    ...(idle ? idleSummary(idle) : {}),
  };
  if (idle) reportIdle(idle);
  console.log(JSON.stringify(summary));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
