/**
 * Random interleavings of the log's operations against the real stores (see
 * test/simulation/seeds.ts): every seed must keep every invariant. A failing
 * seed replays with `npm run simulate -- --seed <seed> --verbose`.
 * STRAND_SIM_SEEDS and STRAND_SIM_FROM choose the seeds (default 1..150: about 60–70 s on two idle cores).
 */
import { describeFailure, runSeed } from './seeds';
import { stopWorld } from './world';

const seeds = Number(process.env.STRAND_SIM_SEEDS ?? 150);
const from = Number(process.env.STRAND_SIM_FROM ?? 1);

afterAll(() => stopWorld());

test(`seeds ${from}..${from + seeds - 1}: every interleaving keeps the log's invariants`, async () => {
  const failures: string[] = [];
  for (let seed = from; seed < from + seeds; seed++) {
    const r = await runSeed(seed);
    if (!r.ok) failures.push(describeFailure(r));
  }
  expect(failures).toEqual([]);
}, 170_000);
