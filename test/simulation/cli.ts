/**
 * npm run simulate -- --seeds N [--from S] [--steps M]   N random seeds from S (default 1)
 * npm run simulate -- --seed S [--verbose]                 one seed, replayed exactly, with its schedule
 *   --no-faults          no lost replies and no crashes (the seed's other choices unchanged)
 *   --policy uniform|priority   force the scheduling policy
 */
// The SDK's notice about Node 20 would print once per run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { requestCounts, stopWorld } from './world';
import { describeFailure, runSeed, type SeedResult } from './seeds';

/** Seeds one set of emulators serves before it is replaced. */
const worldSeedsMax = 200;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

function printSeed(r: SeedResult, verbose: boolean): void {
  console.log(`seed ${r.seed}: ${r.ok ? 'passed' : 'FAILED'} (${r.steps} steps, ${r.acks} acknowledged appends, ${r.fetches} fetches checked, ${r.elapsedMs} ms)`);
  console.log(r.setup.replace(/^/gm, '  '));
  console.log('schedule:');
  for (const s of r.schedule) console.log(`  ${s}`);
  if (verbose && r.notes.length > 0) {
    console.log('notes:');
    for (const n of r.notes) console.log(`  ${n}`);
  }
  if (r.failure) {
    console.log(`FAILED at step ${r.failure.step}: ${r.failure.invariant}`);
    for (const v of r.failure.all.slice(1)) console.log(`  also: ${v}`);
  }
}

async function main(): Promise<void> {
  const stepsMax = arg('steps') ? Number(arg('steps')) : undefined;
  // --no-faults: no lost replies or crashes (to look past a fault-only defect); --policy uniform|priority.
  const knobs = {
    ...(flag('no-faults') ? { faultRate: 0, crashRate: 0 } : {}),
    ...(arg('policy') ? { policy: arg('policy') as 'uniform' | 'priority' } : {}),
  };
  const one = arg('seed');
  if (one !== undefined) {
    const r = await runSeed(Number(one), { stepsMax, knobs });
    printSeed(r, flag('verbose'));
    await stopWorld();
    process.exitCode = r.ok ? 0 : 1;
    return;
  }
  const n = Number(arg('seeds') ?? 100);
  const from = Number(arg('from') ?? 1);
  const started = Date.now();
  const failed: SeedResult[] = [];
  for (let seed = from; seed < from + n; seed++) {
    const r = await runSeed(seed, { stepsMax, knobs });
    if (!r.ok) {
      failed.push(r);
      console.log(describeFailure(r));
    }
    // Progress on stderr, so a long run shows it is alive without cluttering the result.
    if ((seed - from + 1) % 500 === 0) console.error(`${seed - from + 1} of ${n} seeds, ${failed.length} failed`);
    // Fresh emulators now and then: s3rver lists a prefix by walking the whole
    // bucket, so a world holding thousands of seeds' objects makes each seed
    // slower than the last. Every seed starts from its own topic either way.
    if ((seed - from + 1) % worldSeedsMax === 0) await stopWorld();
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(`${n - failed.length} passed, ${failed.length} failed (${seconds.toFixed(1)} s, ${(n / seconds).toFixed(1)} seeds/s; storage requests per seed: ${Math.round(requestCounts.actors / n)} by actors, ${Math.round(requestCounts.outside / n)} by the set-up and the checks)`);
  if (failed.length > 0) console.log(`replay one with: npm run simulate -- --seed ${failed[0]!.seed} --verbose`);
  await stopWorld();
  process.exitCode = failed.length > 0 ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
