/**
 * `npm run bench [-- --quick] [--producers N] [--consumers N] [--partitions N]
 *   [--record-bytes B] [--batch-kib K[,K…]] [--seconds S]
 *   [--only throughput|idle|coldstart] [--idle-seconds S] [--wakeups N] [--cold-start-runs N]`
 *
 * Three phases: throughput and cost per GiB (below), then idle consumers
 * (bench/idle.ts: what a waiting consumer costs per month, and its wake-up),
 * then cold starts (bench/coldStart.ts: each function's bundle, its size and
 * load time). `--only` runs one of them.
 *
 * Strand's own cost per MiB is `strand_cpu_ratio_produce` and
 * `strand_cpu_ratio_fetch`: the Strand process's CPU per MiB produced (fetched)
 * through the API over the bare S3 PutObject (GetObject) client's CPU per MiB
 * at the same size, measured in the same run. The Strand process holds the
 * local gateway too, which on AWS is API Gateway's work: its part (the base64
 * of bodies and the event and result JSON, modeled at the batch size by
 * gatewayModelCpuMsPerMiB) is reported apart, and `…_handlers` ratios leave it
 * out, and the CPU the process spends with no request at all (the log-stream,
 * notifier and trigger stand-ins of other functions polling), which scales
 * with a phase's seconds, not its MiB. bench/handlerCpu.ts measures the
 * handlers alone, called directly, against the bare client in one process.
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
import { coldStartSummary, reportColdStart, runColdStartBench } from './coldStart';

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
if (only !== undefined && only !== 'throughput' && only !== 'idle' && only !== 'coldstart') throw new Error(`--only takes 'throughput', 'idle' or 'coldstart', not '${only}'`);
/** Fresh processes each function's bundle is loaded in (bench/coldStart.ts); the median is reported. */
const coldStartRuns = args.number('cold-start-runs', quick ? 3 : 7);
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
  /** Strand's CPU per MiB over the bare client's (produce: PutObject; fetch: GetObject), at this size. */
  strand_cpu_ratio_produce: number;
  strand_cpu_ratio_fetch: number;
  /** Strand's process CPU per second with no request (stand-ins of other functions polling, timers). */
  strand_idle_cpu_ms_per_s: number;
  /** The local gateway's share of Strand's CPU per MiB (modeled: gatewayModelCpuMsPerMiB), and the ratios without it and without the idle share. */
  gateway_cpu_ms_per_mib_produce: number;
  gateway_cpu_ms_per_mib_fetch: number;
  strand_cpu_ratio_produce_handlers: number;
  strand_cpu_ratio_fetch_handlers: number;
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
  if (only === 'coldstart') {
    const coldStart = await runColdStartBench(coldStartRuns);
    reportColdStart(coldStart);
    console.log(JSON.stringify(coldStartSummary(coldStart)));
    return;
  }
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
  // What Strand's process spends with no request at all (the log-stream, notifier and trigger
  // stand-ins polling, timers): per second, so each phase's share of it can be left out.
  await new Promise((r) => setTimeout(r, 1_000));
  const idleCpu = await measureCpu({ strand: undefined }, () => new Promise((r) => setTimeout(r, 3_000)));
  const strandIdleMsPerSecond = idleCpu.cpuMs.strand! / 3;
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

      const produceCpuPerMiB = perMiB(produceCpu, producedMiB);
      const fetchCpuPerMiB = perMiB(fetchCpu, fetchedMiB);
      const rawPutPerMiB = perMiB(putCpu, (rawPut.count * payloadPerBatch) / mib);
      const rawGetPerMiB = perMiB(getCpu, (rawGet.count * payloadPerBatch) / mib);
      // The direct path's bodies go to S3, not through the gateway: only its small JSON requests do.
      const gateway = direct ? { produce: 0, fetch: 0 } : gatewayModelCpuMsPerMiB(payloadPerBatch);
      const ratio = (strandMs: number, rawMs: number | undefined) => round(strandMs / (rawMs ?? NaN), 2);
      // Strand's CPU per MiB less its idle share over the phase (see strandIdleMsPerSecond) and the gateway's.
      const handlersMs = (perMiBStrand: number, seconds: number, mibs: number, gatewayMs: number) =>
        Math.max(0, perMiBStrand - (strandIdleMsPerSecond * seconds) / mibs - gatewayMs);
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
        cpu_ms_per_mib_raw_put: rawPutPerMiB,
        cpu_ms_per_mib_produce: produceCpuPerMiB,
        cpu_ms_per_mib_raw_get: rawGetPerMiB,
        cpu_ms_per_mib_fetch: fetchCpuPerMiB,
        strand_cpu_ratio_produce: ratio(produceCpuPerMiB.strand!, rawPutPerMiB.clients),
        strand_cpu_ratio_fetch: ratio(fetchCpuPerMiB.strand!, rawGetPerMiB.clients),
        gateway_cpu_ms_per_mib_produce: round(gateway.produce, 1),
        gateway_cpu_ms_per_mib_fetch: round(gateway.fetch, 1),
        strand_idle_cpu_ms_per_s: round(strandIdleMsPerSecond, 1),
        strand_cpu_ratio_produce_handlers: ratio(handlersMs(produceCpuPerMiB.strand!, produced.seconds, producedMiB, gateway.produce), rawPutPerMiB.clients),
        strand_cpu_ratio_fetch_handlers: ratio(handlersMs(fetchCpuPerMiB.strand!, fetched.seconds, fetchedMiB, gateway.fetch), rawGetPerMiB.clients),
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
  const coldStart = only === 'throughput' ? undefined : await runColdStartBench(coldStartRuns);
  report(results, e2eP50, idle, coldStart);
}

/**
 * CPU ms per MiB the local gateway spends on a body of `bytes` beyond what a
 * Lambda handler does: its share of the Strand process's CPU, which on AWS is
 * API Gateway's. Produce: the body to base64 for the event, the event as JSON
 * to check Lambda's payload bound. Fetch: the result as JSON (the same check)
 * and its base64 body decoded for the client. Measured here on bodies of the
 * batch's size (the HTTP parsing and writing it also does are left in Strand's
 * share, so this is a floor of the gateway's part).
 */
function gatewayModelCpuMsPerMiB(bytes: number): { produce: number; fetch: number } {
  const body = Buffer.alloc(bytes, 7);
  const repeats = Math.max(4, Math.ceil((64 * mib) / bytes));
  const timed = (work: () => void) => {
    const t0 = process.cpuUsage();
    for (let i = 0; i < repeats; i++) work();
    const u = process.cpuUsage(t0);
    return (u.user + u.system) / 1000 / ((repeats * bytes) / mib);
  };
  const produce = timed(() => {
    const event = { routeKey: 'POST /batches', headers: { 'content-type': 'application/vnd.kafka.record-batch.v2' }, body: body.toString('base64'), isBase64Encoded: true };
    Buffer.byteLength(JSON.stringify(event));
  });
  const result = { statusCode: 200, headers: { 'content-type': 'application/vnd.kafka.record-batch.v2' }, body: body.toString('base64'), isBase64Encoded: true };
  const fetch = timed(() => {
    Buffer.byteLength(JSON.stringify(result));
    Buffer.from(result.body, 'base64');
  });
  return { produce, fetch };
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

function report(results: SizeResult[], e2eP50: number, idle: IdleBenchResult | undefined, coldStart?: Awaited<ReturnType<typeof runColdStartBench>>): void {
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
  console.log('Strand\'s CPU per MiB over the bare S3 client\'s (goals: produce ≤ 2, fetch ≤ 1.5); "handlers" leaves out the local gateway\'s modeled share and the process\'s idle CPU over the phase:');
  console.table(results.map((r) => ({
    'batch KiB': r.batch_kib,
    path: r.path,
    'produce ratio': r.strand_cpu_ratio_produce,
    'produce (handlers)': r.strand_cpu_ratio_produce_handlers,
    'gateway ms/MiB in': r.gateway_cpu_ms_per_mib_produce,
    'fetch ratio': r.strand_cpu_ratio_fetch,
    'fetch (handlers)': r.strand_cpu_ratio_fetch_handlers,
    'gateway ms/MiB out': r.gateway_cpu_ms_per_mib_fetch,
    'idle ms/s': r.strand_idle_cpu_ms_per_s,
  })));
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
    strand_cpu_ratio_produce: main.strand_cpu_ratio_produce,
    strand_cpu_ratio_fetch: main.strand_cpu_ratio_fetch,
    strand_cpu_ratio_produce_handlers: main.strand_cpu_ratio_produce_handlers,
    strand_cpu_ratio_fetch_handlers: main.strand_cpu_ratio_fetch_handlers,
    /** Strand's CPU ms per MiB produced, by path and batch size: the direct path's commit against the API's /batches. */
    strand_cpu_ms_per_mib_produce: Object.fromEntries(results.map((r) => [`${r.path}_${r.batch_kib}kib`, r.cpu_ms_per_mib_produce.strand])),
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
    ...(coldStart ? coldStartSummary(coldStart) : {}),
  };
  if (idle) reportIdle(idle);
  if (coldStart) reportColdStart(coldStart);
  console.log(JSON.stringify(summary));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
