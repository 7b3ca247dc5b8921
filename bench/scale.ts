/**
 * `npm run bench:scale`: how Strand's own work grows with partitions, readers
 * and groups, on a local runtime (embedded emulators in a child process, an
 * injected clock so the maintenance passes are repeatable). For each size (one
 * topic of 1,000 and of 10,000 partitions; `--quick`: 20 and 200), in a fresh
 * runtime:
 *
 *   create        time to create the topic through the API
 *   idle pass     storage requests of a maintenance pass when nothing changed
 *                 (counted on the SDK clients), and the marginal requests per
 *                 idle partition between the sizes (goal 0)
 *   changed       pass duration and requests with k partitions appended to
 *                 (k = 0, 10, 100, 1000 up to the size): grows with k, not with the size
 *   sweep         one object sweep of the whole topic (the sweep is per topic)
 *
 * then, once: R concurrent readers of one partition (1, 10 and 100; `--quick`:
 * 1, 4, 10) reading it from the start over and over for a few seconds
 * (errors, aggregate MiB/s), and G consumer groups (1,000; `--quick`: 20)
 * joining and heartbeating (p50/p99 latency).
 *
 * Bounded in time: `--max-seconds` (default 1500, quick 240); a step that
 * would start after it is reported as skipped. Prints tables, then one JSON
 * line (the last line) that test/bench/scale.test.ts reads.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import { startLocalStrand, type LocalStrand } from '../local/startLocalStrand';
import { ManualClock } from '../src/clock';
import { encodeRecordBatch } from '../src/codec/recordBatch';
import { runMaintenance } from '../src/maintenance/runMaintenance';
import { sweepTopicObjects } from '../src/maintenance/sweepObjects';
import { mapBounded } from '../src/mapBounded';
import { countRequests, type RequestCounts } from './requestCounter';

export interface ScaleOptions {
  quick: boolean;
  maxSeconds: number;
  sizes: number[];
  readers: number[];
  groups: number;
}

export interface SizeResult {
  partitions: number;
  create_ms: number;
  /** Requests of the first pass (every partition is new to the ledger: heads read, marks written). */
  first_pass_requests: number;
  first_pass_ms: number;
  idle_pass_requests: number;
  idle_pass_ms: number;
  changed: { partitions: number; pass_ms: number; requests: number; turns: number }[];
  sweep: { ms: number; requests: number } | 'skipped';
}

export interface ScaleResult {
  quick: boolean;
  sizes: SizeResult[];
  /** (idle requests of the largest size − the smallest's) / (partitions difference): requests per idle partition. */
  requests_per_idle_partition: number | null;
  readers: { readers: number; errors: number; requests: number; mib_per_s: number }[] | 'skipped';
  groups: { groups: number; heartbeats: number; errors: number; p50_ms: number; p99_ms: number } | 'skipped';
  skipped: string[];
  seconds: number;
}

const quiet = new Logger({ serviceName: 'strand-bench', logLevel: 'ERROR' });
const minute = 60_000;
/** Partitions one bench produce request appends to (its commits go out at once: the SDK's 50 sockets). */
const partitionsPerAppend = 25;
const cluster = '/v3/clusters/local';

function parseArgs(argv: string[]): ScaleOptions {
  const quick = argv.includes('--quick');
  const flag = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const sizes = flag('--sizes')?.split(',').map(Number) ?? (quick ? [20, 200] : [1000, 10_000]);
  return {
    quick,
    maxSeconds: Number(flag('--max-seconds') ?? (quick ? 240 : 1500)),
    sizes,
    readers: quick ? [1, 4, 10] : [1, 10, 100],
    groups: Number(flag('--groups') ?? (quick ? 20 : 1000)),
  };
}

async function http(strand: LocalStrand, method: string, path: string, body?: unknown, accept = 'application/json'): Promise<{ status: number; bytes: number; json: any }> {
  const res = await fetch(strand.url + path, {
    method,
    headers: { 'content-type': 'application/json', accept },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const buf = Buffer.from(await res.arrayBuffer());
  let json: unknown;
  if ((res.headers.get('content-type') ?? '').includes('json')) json = JSON.parse(buf.toString('utf8'));
  return { status: res.status, bytes: buf.length, json };
}

function total(c: RequestCounts): number {
  return c.dynamodb + c.s3Gets + c.s3Puts + c.s3Other;
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

const round = (n: number, digits = 1) => Number(n.toFixed(digits));

async function withStrand<T>(clock: ManualClock, fn: (strand: LocalStrand) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'strand-bench-scale-'));
  const strand = await startLocalStrand({ dataDir, port: 0, maintenanceIntervalMs: 0, clock, logger: quiet, emulatorsInChildProcess: true, triggers: false, metrics: false });
  try {
    return await fn(strand);
  } finally {
    await strand.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function measureSize(partitions: number, options: ScaleOptions, deadline: number, skipped: string[]): Promise<SizeResult> {
  const clock = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));
  return withStrand(clock, async (strand) => {
    const runtime = strand.runtime;
    const counts = countRequests(runtime.clients);
    const name = `scale-${partitions}`;
    let t = performance.now();
    const created = await http(strand, 'POST', `${cluster}/topics`, { topic_name: name, partitions_count: partitions, configs: [{ name: 'retention.ms', value: '-1' }] });
    if (created.status !== 201 && created.status !== 200) throw new Error(`create ${name}: ${created.status} ${JSON.stringify(created.json)}`);
    const createMs = performance.now() - t;
    const topic = await runtime.engine.topics.get(name);

    const pass = async () => {
      counts.reset();
      const start = performance.now();
      const report = await runMaintenance(runtime, { orphanGraceMs: 10 * minute });
      if (report.errors.length > 0) throw new Error(`maintenance: ${report.errors.join('; ')}`);
      return { ms: performance.now() - start, requests: total(counts), turns: report.maintained };
    };
    const first = await pass();
    clock.advance(minute);
    const idle = await pass();

    const changed: SizeResult['changed'] = [];
    for (const k of [0, 10, 100, 1000].filter((k) => k <= partitions)) {
      if (performance.now() > deadline) {
        skipped.push(`${partitions} partitions: pass with ${k} changed`);
        continue;
      }
      // Produce requests appending to up to partitionsPerAppend partitions each (one object, a commit per
      // partition), as a batching producer makes them; k partitions spread over the topic.
      if (k > 0) {
        const batch = encodeRecordBatch([{ key: null, value: Buffer.from(`v${k}`), headers: [], timestamp: clock.now() }]);
        const step = Math.floor(partitions / k);
        const targets = Array.from({ length: k }, (_, i) => i * step);
        for (let i = 0; i < targets.length; i += partitionsPerAppend) {
          const results = await runtime.engine.append(topic, targets.slice(i, i + partitionsPerAppend).map((partition) => ({ partition, batches: [batch] })));
          const failed = results.find((r) => !r.ok);
          if (failed && !failed.ok) throw failed.error;
        }
      }
      clock.advance(1000);
      const p = await pass();
      changed.push({ partitions: k, pass_ms: round(p.ms), requests: p.requests, turns: p.turns });
      // Past the listing's slack, so the next row starts from an idle topic.
      clock.advance(minute);
      await pass();
    }

    let sweep: SizeResult['sweep'] = 'skipped';
    if (performance.now() < deadline) {
      counts.reset();
      t = performance.now();
      await sweepTopicObjects(runtime.engine.context, topic, 10 * minute);
      sweep = { ms: round(performance.now() - t), requests: total(counts) };
    } else skipped.push(`${partitions} partitions: sweep`);

    return {
      partitions,
      create_ms: round(createMs),
      first_pass_requests: first.requests,
      first_pass_ms: round(first.ms),
      idle_pass_requests: idle.requests,
      idle_pass_ms: round(idle.ms),
      changed,
      sweep,
    };
  });
}

async function measureReaders(strand: LocalStrand, options: ScaleOptions, seconds: number): Promise<NonNullable<Exclude<ScaleResult['readers'], 'skipped'>>> {
  const runtime = strand.runtime;
  const topic = await runtime.engine.createTopic('readers', 1, 3, { 'retention.ms': '-1' });
  // 64 appends of 16 records of 1 KiB: 1 MiB in 64 objects.
  for (let i = 0; i < 64; i++) {
    const batch = encodeRecordBatch(Array.from({ length: 16 }, (_, j) => ({ key: null, value: Buffer.alloc(1024, (i + j) % 251), headers: [], timestamp: runtime.clock.now() })));
    const [r] = await runtime.engine.append(topic, [{ partition: 0, batches: [batch] }]);
    if (!r!.ok) throw r!.error;
  }
  const out: NonNullable<Exclude<ScaleResult['readers'], 'skipped'>> = [];
  for (const readers of options.readers) {
    let bytes = 0;
    let errors = 0;
    let requests = 0;
    const until = performance.now() + seconds * 1000;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: readers }, async () => {
        let offset = 0;
        while (performance.now() < until) {
          const res = await http(strand, 'GET', `${cluster}/topics/readers/partitions/0/records?offset=${offset}&max_bytes=262144`, undefined, 'application/vnd.kafka.record-batch.v2').catch(() => ({ status: 0, bytes: 0, json: undefined }));
          requests++;
          if (res.status !== 200) {
            errors++;
            continue;
          }
          bytes += res.bytes;
          // Batches are whole appends of 16 records: about 64 KiB per 16 offsets. Start over at the end.
          offset = offset + Math.max(16, Math.floor(res.bytes / 1024)) >= 1024 ? 0 : offset + Math.max(16, Math.floor(res.bytes / 1024));
        }
      }),
    );
    const elapsed = (performance.now() - start) / 1000;
    out.push({ readers, errors, requests, mib_per_s: round(bytes / (1024 * 1024) / elapsed, 2) });
  }
  return out;
}

async function measureGroups(strand: LocalStrand, groups: number): Promise<Exclude<ScaleResult['groups'], 'skipped'>> {
  await strand.runtime.engine.createTopic('grouped', 4, 3, {});
  const latencies: number[] = [];
  let errors = 0;
  const beat = async (group: string, body: Record<string, unknown>) => {
    const t = performance.now();
    const res = await http(strand, 'POST', `${cluster}/consumer-groups/${group}/heartbeat`, body).catch(() => ({ status: 0, bytes: 0, json: undefined }));
    latencies.push(performance.now() - t);
    if (res.status !== 200) errors++;
    return res.json as { member_id?: string; member_epoch?: number } | undefined;
  };
  const ids = Array.from({ length: groups }, (_, i) => `g${i}`);
  const members = await mapBounded(ids, 50, async (g) => ({ g, m: await beat(g, { member_epoch: 0, subscribed_topic_names: ['grouped'], session_timeout_ms: 45_000 }) }));
  // Three steady heartbeats per group, 50 in flight.
  for (let round = 0; round < 3; round++) {
    await mapBounded(members, 50, async ({ g, m }) => {
      if (!m?.member_id) return;
      const next = await beat(g, { member_id: m.member_id, member_epoch: m.member_epoch });
      if (next?.member_epoch !== undefined) m.member_epoch = next.member_epoch;
    });
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  return { groups, heartbeats: latencies.length, errors, p50_ms: round(percentile(sorted, 0.5)), p99_ms: round(percentile(sorted, 0.99)) };
}

export async function runScaleBench(options: ScaleOptions): Promise<ScaleResult> {
  const started = performance.now();
  const deadline = started + options.maxSeconds * 1000;
  const skipped: string[] = [];
  const sizes: SizeResult[] = [];
  for (const n of options.sizes) {
    if (performance.now() > deadline) {
      skipped.push(`${n} partitions`);
      continue;
    }
    sizes.push(await measureSize(n, options, deadline, skipped));
  }
  let perIdle: number | null = null;
  if (sizes.length >= 2) {
    const [a, b] = [sizes[0]!, sizes[sizes.length - 1]!];
    perIdle = (b.idle_pass_requests - a.idle_pass_requests) / (b.partitions - a.partitions);
  }
  let readers: ScaleResult['readers'] = 'skipped';
  let groups: ScaleResult['groups'] = 'skipped';
  const clock = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));
  if (performance.now() < deadline) {
    await withStrand(clock, async (strand) => {
      readers = await measureReaders(strand, options, options.quick ? 1 : 5);
      if (performance.now() < deadline) groups = await measureGroups(strand, options.groups);
      else skipped.push('groups');
    });
  } else skipped.push('readers', 'groups');
  return { quick: options.quick, sizes, requests_per_idle_partition: perIdle, readers, groups, skipped, seconds: round((performance.now() - started) / 1000) };
}

function print(result: ScaleResult): void {
  console.log('Per size (one topic, fresh runtime):');
  console.table(
    result.sizes.map((s) => ({
      partitions: s.partitions,
      create_ms: s.create_ms,
      first_pass_requests: s.first_pass_requests,
      idle_pass_requests: s.idle_pass_requests,
      idle_pass_ms: s.idle_pass_ms,
      sweep_requests: s.sweep === 'skipped' ? 'skipped' : s.sweep.requests,
    })),
  );
  console.log('Pass duration vs changed partitions:');
  console.table(result.sizes.flatMap((s) => s.changed.map((c) => ({ partitions: s.partitions, changed: c.partitions, pass_ms: c.pass_ms, requests: c.requests, turns: c.turns }))));
  console.log(`Requests per idle partition per pass (marginal, between sizes): ${result.requests_per_idle_partition}`);
  if (result.readers !== 'skipped') console.table(result.readers);
  if (result.groups !== 'skipped') console.table([result.groups]);
  if (result.skipped.length > 0) console.log(`Skipped (time bound): ${result.skipped.join(', ')}`);
  console.log(JSON.stringify(result));
}

if (require.main === module) {
  runScaleBench(parseArgs(process.argv.slice(2)))
    .then(print)
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}

export { parseArgs };
