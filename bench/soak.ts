/**
 * `npm run soak -- --minutes N` (or `--seconds N`, `--seed S`): idempotent,
 * retrying producers and a consumer group run against a local Strand while
 * storage faults and crashes are injected into its S3 and DynamoDB clients
 * (test/faults/faultyClients.ts); then the faults stop and every acknowledged
 * record is checked: in the log exactly once, at its acknowledged offset, with
 * dense offsets (test/faults/clients.ts checkExactlyOnce), and delivered to the
 * group, whose lag ends at zero. Prints a summary; exits 1 on any violation.
 * test/reliability/soak.test.ts runs `runSoak({ seconds: 20 })` in the default suite.
 *
 * Faults, per matching SDK attempt (the SDK's own retries see them too):
 *   S3 PutObject         503 before, timeout after (written, reply lost), crash after (written, never committed)
 *   DynamoDB commit      throttle before, reset after (committed, reply lost), crash after (committed, never answered)
 *   DynamoDB reads       500 before, slow; any DynamoDB call: refused
 *   S3 GetObject         503 before (fetches)
 * A crash is a request that never answers: the client times out and retries, as
 * against a Lambda that died mid-request.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { startLocalStrand } from '../local/startLocalStrand';
import { StrandClient, type Consumer } from '../client';
import { injectFaults, isCommit, seededRandom, type FaultKind, type FaultRule } from '../test/faults/faultyClients';
import { RetryingProducer, checkExactlyOnce, newCounters, readPartition, type ExactlyOnceReport, type FetchedRecord } from '../test/faults/clients';

export interface SoakOptions {
  /** How long producers run with faults on. */
  seconds: number;
  /** Seeds the fault dice (a failing run can be replayed). @default Date.now() */
  seed?: number;
  /** @default 3 */
  producers?: number;
  /** @default 4 */
  partitions?: number;
  /** Members of the consumer group. @default 2 */
  consumers?: number;
  /** Multiplies every fault probability. @default 1 */
  faultRate?: number;
  /** Progress lines. @default none */
  log?: (line: string) => void;
}

export interface SoakReport {
  seconds: number;
  seed: number;
  producers: number;
  partitions: number;
  consumers: number;
  requests: number;
  retries: number;
  /** Replies flagged `duplicate`: a retry (by the client, or by the SDK inside the server) recognised as already appended. */
  duplicatesAnswered: number;
  /** Replies a retrying producer should never see: a 5xx other than 503, or a 4xx. */
  unexpectedReplies: number;
  storageAttempts: number;
  faults: Record<FaultKind, number>;
  faultsTotal: number;
  batchesAcknowledged: number;
  /** Batches given up on after every retry failed (not acknowledged, so not checked). */
  batchesAbandoned: number;
  log: ExactlyOnceReport;
  group: { delivered: number; distinct: number; redelivered: number; missing: number; phantom: number; lag: number };
  violations: string[];
  ok: boolean;
}

/** Bounds: batch size, how long the group may take to drain, client timeouts. */
const recordsPerBatchMax = 8;
const drainMsMax = 20_000;
const producerTimeoutMs = 2_000;

function faultRules(rate: number): FaultRule[] {
  const p = (x: number) => Math.min(1, x * rate);
  return [
    { service: 's3', command: 'PutObjectCommand', fault: '503', probability: p(0.03) },
    { service: 's3', command: 'PutObjectCommand', fault: 'timeout', when: 'after', probability: p(0.02) },
    { service: 's3', command: 'PutObjectCommand', fault: 'crash', when: 'after', probability: p(0.004) },
    { service: 'dynamodb', match: isCommit, fault: 'throttle', probability: p(0.03) },
    { service: 'dynamodb', match: isCommit, fault: 'reset', when: 'after', probability: p(0.03) },
    { service: 'dynamodb', match: isCommit, fault: 'crash', when: 'after', probability: p(0.004) },
    { service: 'dynamodb', command: /GetItem|Query/, fault: '500', probability: p(0.01) },
    { service: 'dynamodb', fault: 'slow', delayMs: 50, probability: p(0.03) },
    { service: 'dynamodb', fault: 'refused', probability: p(0.003) },
    { service: 's3', command: 'GetObjectCommand', fault: '503', probability: p(0.03) },
  ];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const seed = options.seed ?? Date.now() % 2 ** 31;
  const producersCount = options.producers ?? 3;
  const partitions = options.partitions ?? 4;
  const consumersCount = options.consumers ?? 2;
  const log = options.log ?? (() => {});
  const topic = 'soak';
  const group = 'soak-group';

  const dataDir = mkdtempSync(join(tmpdir(), 'strand-soak-'));
  // Quiet: every injected fault is logged as a warning by design. Maintenance runs often, under the same faults.
  const strand = await startLocalStrand({ dataDir, port: 0, maintenanceIntervalMs: 2_000, logger: new Logger({ serviceName: 'strand', logLevel: 'ERROR' }) });
  const consumers: Consumer[] = [];
  try {
    const client = new StrandClient({ url: strand.url, retry: { retries: 30, initialRetryTime: 20, maxRetryTime: 500 }, requestTimeout: 5_000, logger: { warn: () => {} } });
    // Kept forever: the producers' records carry fixed 2023 timestamps, which retention would remove.
    await client.admin().createTopic(topic, { partitions, configs: { 'retention.ms': -1 } });

    const counters = newCounters();
    const producers = await Promise.all(
      Array.from({ length: producersCount }, () => RetryingProducer.create(strand.url, topic, counters, { timeoutMs: producerTimeoutMs })),
    );

    // The group: every delivery recorded; auto commit (at least once).
    const deliveries = new Map<string, number>();
    let delivered = 0;
    for (let i = 0; i < consumersCount; i++) {
      const c = client.consumer({ groupId: group, maxWaitTimeInMs: 200, sessionTimeout: 10_000, heartbeatInterval: 200, autoOffsetReset: 'earliest', retry: { retries: 1_000, initialRetryTime: 20, maxRetryTime: 500 } });
      await c.subscribe({ topics: [topic], fromBeginning: true });
      await c.run({
        autoCommitInterval: 200,
        eachMessage: async ({ partition, message }) => {
          const key = `${partition}/${message.value?.toString()}`;
          deliveries.set(key, (deliveries.get(key) ?? 0) + 1);
          delivered++;
        },
      });
      consumers.push(c);
    }

    const faults = injectFaults(strand.runtime.clients, seededRandom(seed));
    for (const rule of faultRules(options.faultRate ?? 1)) faults.add(rule);
    log(`soak: ${options.seconds} s, seed ${seed}, ${producersCount} idempotent producers × ${partitions} partitions, ${consumersCount} group members, faults on`);

    const deadline = Date.now() + options.seconds * 1000;
    const random = seededRandom(seed + 1);
    let batchesAbandoned = 0;
    const progress = setInterval(() => log(`  ${Math.round((deadline - Date.now()) / 1000)} s left: ${producers.reduce((n, p) => n + p.acks.length, 0)} batches acknowledged, ${delivered} deliveries, ${Object.values(faults.stats.fired).reduce((a, b) => a + b, 0)} faults`), 5_000);
    progress.unref();
    await Promise.all(
      producers.flatMap((producer, pi) =>
        Array.from({ length: partitions }, async (_, partition) => {
          for (let n = 0; Date.now() < deadline; n++) {
            const size = 1 + Math.floor(random() * recordsPerBatchMax);
            const values = Array.from({ length: size }, (_, i) => `p${pi}.${partition}.${n}.${i}`);
            const ack = await producer.send(partition, values);
            // An abandoned batch may or may not be in the log; its sequence is unknown, so this loop stops.
            if (!ack) {
              batchesAbandoned++;
              return;
            }
          }
        }),
      ),
    );
    clearInterval(progress);
    const faultsFired = { ...faults.stats.fired };
    const storageAttempts = faults.stats.attempts;
    faults.clear();
    log('soak: producers stopped, faults off; checking the log and draining the group');

    const logs = new Map<number, FetchedRecord[]>();
    for (let p = 0; p < partitions; p++) logs.set(p, await readPartition(strand.url, topic, p));
    const acks = producers.flatMap((p) => p.acks);
    const report = checkExactlyOnce(acks, logs);

    // The group drains to the end of the log; closing commits what it delivered (auto commit
    // runs between batches, as in kafkajs), and then its committed offsets must reach the end.
    const inLog = new Set([...logs].flatMap(([p, records]) => records.map((r) => `${p}/${r.value}`)));
    const drainDeadline = Date.now() + drainMsMax;
    while (Date.now() < drainDeadline && ![...inLog].every((k) => deliveries.has(k))) await sleep(100);
    await Promise.all(consumers.map((c) => c.close()));
    consumers.length = 0;
    const lag = (await client.admin().groupLag(group)).reduce((s, l) => s + l.lag, 0);

    const ackedKeys = acks.flatMap((a) => a.values.map((v) => `${a.partition}/${v}`));
    const missing = ackedKeys.filter((k) => !deliveries.has(k)).length;
    const phantom = [...deliveries.keys()].filter((k) => !inLog.has(k)).length;
    const groupReport = { delivered, distinct: deliveries.size, redelivered: delivered - deliveries.size, missing, phantom, lag };

    const violations: string[] = [];
    if (report.lost.length) violations.push(`${report.lost.length} acknowledged records lost (e.g. ${report.lost.slice(0, 3).join(', ')})`);
    if (report.duplicated.length) violations.push(`${report.duplicated.length} records duplicated (e.g. ${report.duplicated.slice(0, 3).join(', ')})`);
    if (report.misplaced.length) violations.push(`${report.misplaced.length} records not at their acknowledged offset (e.g. ${report.misplaced.slice(0, 3).join(', ')})`);
    if (report.gaps) violations.push(`${report.gaps} offsets out of place (offsets must be dense from 0)`);
    if (counters.unexpected.length) violations.push(`${counters.unexpected.length} unexpected replies (e.g. ${JSON.stringify(counters.unexpected.slice(0, 2))})`);
    if (missing) violations.push(`${missing} acknowledged records never delivered to the group`);
    if (phantom) violations.push(`${phantom} records delivered that are not in the log`);
    if (lag !== 0) violations.push(`the group's lag ended at ${lag}, not 0`);
    if (acks.length === 0) violations.push('no batch was acknowledged');

    return {
      seconds: options.seconds,
      seed,
      producers: producersCount,
      partitions,
      consumers: consumersCount,
      requests: counters.requests,
      retries: counters.retries,
      duplicatesAnswered: counters.duplicatesAnswered,
      unexpectedReplies: counters.unexpected.length,
      storageAttempts,
      faults: faultsFired,
      faultsTotal: Object.values(faultsFired).reduce((a, b) => a + b, 0),
      batchesAcknowledged: acks.length,
      batchesAbandoned,
      log: report,
      group: groupReport,
      violations,
      ok: violations.length === 0,
    };
  } finally {
    await Promise.all(consumers.map((c) => c.close().catch(() => {})));
    await strand.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function formatSoakReport(r: SoakReport): string {
  const faults = Object.entries(r.faults).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
  return [
    `Soak: ${r.seconds} s under faults, seed ${r.seed} (replay: npm run soak -- --seconds ${r.seconds} --seed ${r.seed})`,
    `  producers ${r.producers} (idempotent, retrying) × partitions ${r.partitions}; group members ${r.consumers}`,
    `  produce requests ${r.requests}, retries ${r.retries}, replies flagged duplicate ${r.duplicatesAnswered}, unexpected replies ${r.unexpectedReplies}`,
    `  storage calls ${r.storageAttempts}, faults injected ${r.faultsTotal} (${faults || 'none'})`,
    `  batches acknowledged ${r.batchesAcknowledged}, abandoned ${r.batchesAbandoned}`,
    `  records acknowledged ${r.log.acknowledged}, checked ${r.log.checked}: lost ${r.log.lost.length}, duplicated ${r.log.duplicated.length}, misplaced ${r.log.misplaced.length}, offset gaps ${r.log.gaps}`,
    `  group: deliveries ${r.group.delivered} (${r.group.distinct} distinct, ${r.group.redelivered} redelivered), missing ${r.group.missing}, phantom ${r.group.phantom}, final lag ${r.group.lag}`,
    r.ok ? '  OK: every acknowledged record is in the log exactly once, at its offset, and was delivered to the group' : `  VIOLATIONS:\n${r.violations.map((v) => `    - ${v}`).join('\n')}`,
  ].join('\n');
}

function parseArgs(argv: string[]): SoakOptions {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    if (i === -1) return undefined;
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} takes a positive number, not '${argv[i + 1] ?? ''}'`);
    return v;
  };
  const minutes = value('--minutes');
  const seconds = value('--seconds');
  return { seconds: seconds ?? (minutes ?? 1) * 60, seed: value('--seed'), producers: value('--producers'), partitions: value('--partitions'), consumers: value('--consumers') };
}

if (require.main === module) {
  (async () => {
    const options = parseArgs(process.argv.slice(2));
    const report = await runSoak({ ...options, log: (line) => console.log(line) });
    console.log(formatSoakReport(report));
    process.exit(report.ok ? 0 : 1);
  })().catch((err: unknown) => {
    console.error('soak failed to run:', err);
    process.exit(2);
  });
}
