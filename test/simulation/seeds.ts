/**
 * Random seeds: a seed decides the topic (1–2 partitions, cleanup policy,
 * retention), what is in the log before the actors start (enough head entries
 * that the actors' appends cross the spill marks 16, 24, …), the actors, and
 * every choice of the schedule (which parked request goes next, lost replies,
 * crashes, the clock passing the lease TTL). The same seed replays the same
 * schedule.
 */
import { seededRandom } from '../faults/faultyClients';
import type { CleanupPolicy } from '../../src/log/topicConfig';
import { HarnessError } from './scheduler';
import { Simulation, simulationGraceMs, startTime, type Failure, type Knobs } from './simulation';

export interface SeedResult {
  seed: number;
  ok: boolean;
  failure?: Failure;
  /** The world the seed drew (topic, knobs, actors). */
  setup: string;
  schedule: string[];
  notes: string[];
  steps: number;
  elapsedMs: number;
  acks: number;
  fetches: number;
}

export interface SeedOptions {
  /** Overrides of the knobs the seed draws (e.g. no lost replies). */
  knobs?: Partial<Knobs>;
  /** Steps of random schedule before the rest is drained in order. @default 400 */
  stepsMax?: number;
}

type ActorKind = 'append' | 'producer' | 'maintain' | 'fetch' | 'retain' | 'sweep' | 'upload';
const actorWeights: [ActorKind, number][] = [
  ['append', 34],
  ['upload', 8],
  ['producer', 20],
  ['maintain', 20],
  ['fetch', 14],
  ['retain', 5],
  ['sweep', 7],
];

export async function runSeed(seed: number, options: SeedOptions = {}): Promise<SeedResult> {
  const started = Date.now();
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const weighted = (): ActorKind => {
    let r = random() * actorWeights.reduce((n, [, w]) => n + w, 0);
    for (const [kind, w] of actorWeights) if ((r -= w) < 0) return kind;
    return 'append';
  };

  const partitions = random() < 0.3 ? 2 : 1;
  const policy = pick<CleanupPolicy>(['delete', 'delete', 'delete', 'compact', 'compact,delete']);
  const retentionMs = policy.includes('delete') && random() < 0.35 ? 75_000 : undefined;
  const knobs: Knobs = {
    policy: random() < 0.5 ? 'uniform' : 'priority',
    changePoints: between(1, 3),
    stallRate: pick([0, 0.05, 0.1]),
    spillStallRate: pick([0, 0.3, 0.6]),
    faultRate: pick([0, 0, 0.03, 0.08]),
    crashRate: pick([0, 0, 0, 0.02]),
    clockRate: pick([0, 0.03, 0.06]),
    clockAdvancesMax: Math.floor(simulationGraceMs / 31_000) - 2,
  };
  Object.assign(knobs, options.knobs ?? {});
  const compacted = policy.includes('compact');
  // One seed in three ends with one more maintenance pass after the leases expired, and reads everything again.
  const aftermath = random() < 0.34;
  const keys = () => Array.from({ length: 3 }, () => (compacted ? `k${between(0, 3)}` : null));

  // Seeds with direct uploads have their topic in the catalog (the API's operations look it up).
  const withUploads = random() < 0.3;
  const sim = await Simulation.create({ partitions, policy, retentionMs, inCatalog: withUploads });
  const setup: string[] = [`topic ${partitions}p ${policy}${retentionMs ? ` retention.ms=${retentionMs}` : ''}`, `knobs ${JSON.stringify(knobs)}`];
  try {
    // One seed in four is append-heavy on partition 0: its head just below a
    // spill mark and appenders enough to cross two marks (16 and 24), with maintenance.
    const heavy = random() < 0.25;
    if (heavy) setup.push('append-heavy');
    for (let p = 0; p < partitions; p++) {
      const n = heavy && p === 0 ? pick([15, 27]) : pick([8, 13, 14, 15, 15, 26, 27]);
      const prefillKeys = Array.from({ length: n }, () => (compacted ? `k${between(0, 3)}` : null));
      await sim.prefill(p, n, (i) => prefillKeys[i]!, (i) => startTime - 60_000 + i * 1_000, between(2, 5));
      setup.push(`prefill p${p}: ${n}`);
    }
    if (random() < 0.3) await sim.orphan(simulationGraceMs + 60_000);

    const actors = heavy ? 5 : between(3, 5);
    let producers = 0;
    for (let a = 0; a < actors; a++) {
      let kind: ActorKind = heavy ? (['append', 'append', 'append', 'maintain', a === 4 && random() < 0.5 ? 'fetch' : 'append'] as const)[a]! : a === 0 ? 'append' : weighted();
      if (kind === 'upload' && !withUploads) kind = 'append';
      const name = `${String.fromCharCode(65 + a)}`;
      const partition = between(0, partitions - 1);
      switch (kind) {
        case 'append': {
          const requests = Array.from({ length: heavy ? between(2, 4) : between(1, 4) }, () => ({
            partitions: heavy ? [0] : partitions === 2 && random() < 0.3 ? [0, 1] : [between(0, partitions - 1)],
            records: between(1, 3),
            keys: keys(),
          }));
          sim.spawnAppender(name, requests);
          setup.push(`${name}: append ${requests.map((r) => `p${r.partitions.join('+')}x${r.records}`).join(' ')}`);
          break;
        }
        case 'producer': {
          const sizes = Array.from({ length: between(1, 3) }, () => between(1, 3));
          const batches = sim.prepareProducer(partition, sizes, keys());
          const resend = random() < 0.4 ? [between(0, sizes.length - 1)] : [];
          sim.spawnProducer(name, batches, { resend });
          setup.push(`${name}: idempotent producer p${partition} batches ${sizes.join(',')}${resend.length ? ` resends #${resend[0]}` : ''}`);
          if (random() < 0.5 && producers++ < 2) {
            const dup = `${name}'`;
            sim.spawnDuplicate(dup, batches[0]!);
            setup.push(`${dup}: the same first batch from another process`);
          }
          break;
        }
        case 'maintain': {
          const passes = heavy ? 2 : between(1, 2);
          sim.spawnMaintenance(name, { passes });
          setup.push(`${name}: ${passes} maintenance passes, each + sweep(released)`);
          break;
        }
        case 'fetch': {
          const fraction = random();
          const bytes = pick([100, 1_000, 1 << 20]);
          sim.spawnFetch(name, partition, { fraction }, bytes);
          setup.push(`${name}: fetch p${partition} at ${fraction.toFixed(2)} of [lso, hw], ${bytes} bytes`);
          break;
        }
        case 'retain': {
          const fraction = random();
          sim.spawnRetention(name, partition, { fraction });
          setup.push(`${name}: delete records p${partition} to ${fraction.toFixed(2)} of [lso, hw]`);
          break;
        }
        case 'upload': {
          // An upload committed by its client (twice when its first reply is lost), and maybe by a second process at once.
          const upload = await sim.prepareUpload(partition, between(1, 3), keys());
          const times = between(1, 2);
          sim.spawnUploadCommit(name, upload, times);
          const racing = random() < 0.4;
          if (racing) sim.spawnUploadCommit(`${name}'`, upload);
          setup.push(`${name}: upload to p${partition} committed ${times}x${racing ? `, and by ${name}' at once` : ''}`);
          break;
        }
        case 'sweep':
          sim.spawnSweep(name);
          setup.push(`${name}: sweep (grace only)`);
          break;
      }
    }
    await sim.runRandom(random, knobs, options.stepsMax ?? 400);
    await sim.finish({ aftermath: aftermath });
  } catch (err) {
    const harness = err instanceof HarnessError;
    sim.failure ??= { step: sim.steps, invariant: `${harness ? 'harness' : 'simulation threw'}: ${String(err)}`, all: [String((err as Error).stack ?? err)] };
  } finally {
    sim.dispose();
  }
  return {
    seed,
    ok: sim.failure === undefined,
    ...(sim.failure ? { failure: sim.failure } : {}),
    setup: setup.join('\n'),
    schedule: sim.schedule,
    notes: sim.notes,
    steps: sim.steps,
    elapsedMs: Date.now() - started,
    acks: sim.model.acks.length,
    fetches: sim.model.fetchesAnswered,
  };
}

export function describeFailure(r: SeedResult): string {
  if (!r.failure) return `seed ${r.seed}: ok`;
  return `seed ${r.seed}: step ${r.failure.step}: ${r.failure.invariant}`;
}
