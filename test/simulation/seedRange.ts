/**
 * Random interleavings of the log's operations against the real stores (see
 * test/simulation/seeds.ts): every seed must keep every invariant. A failing
 * seed replays with `npm run simulate -- --seed <seed> --verbose`.
 *
 * The default seeds, 1..150, are split over three test files (`simulation.N.test.ts`,
 * 50 seeds each, ~25 s on an idle core) so jest's two workers can share them.
 * STRAND_SIM_SEEDS and STRAND_SIM_FROM choose other seeds: the first file then
 * runs them all and the others run nothing.
 */
import { describeFailure, runSeed } from './seeds';
import { stopWorld } from './world';

export const defaultSeeds = 150;
export const defaultFiles = 3;
/** One file's bound: 50 seeds take ~25 s alone and ~70 s beside another CPU-bound suite. */
const fileTimeoutMs = 170_000;

export function defineSeedRange(file: number): void {
  const custom = process.env.STRAND_SIM_SEEDS !== undefined || process.env.STRAND_SIM_FROM !== undefined;
  const perFile = Math.ceil(defaultSeeds / defaultFiles);
  const seeds = custom ? (file === 1 ? Number(process.env.STRAND_SIM_SEEDS ?? defaultSeeds) : 0) : perFile;
  const from = custom ? Number(process.env.STRAND_SIM_FROM ?? 1) : 1 + (file - 1) * perFile;

  afterAll(() => stopWorld());

  const name = seeds > 0 ? `seeds ${from}..${from + seeds - 1}: every interleaving keeps the log's invariants` : 'no seeds in this file (STRAND_SIM_SEEDS/STRAND_SIM_FROM given: the first file runs them)';
  test(name, async () => {
    const failures: string[] = [];
    for (let seed = from; seed < from + seeds; seed++) {
      const r = await runSeed(seed);
      if (!r.ok) failures.push(describeFailure(r));
    }
    expect(failures).toEqual([]);
  }, fileTimeoutMs);
}
