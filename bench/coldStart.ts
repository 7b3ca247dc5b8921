/**
 * `npm run bench -- --only coldstart` (and part of every `npm run bench`):
 * each Lambda function's bundle, built as the stack builds it (infra/bundling.ts),
 * its size, and how long a fresh Node.js process takes to load it: `require`
 * of the bundle, the module scope of every file in it, as Lambda's init phase
 * does before the first invocation. Measured as CPU time of the loading process
 * (process.cpuUsage around the require), the median of `runs` processes; wall
 * time too, which on a loaded machine says more about the machine.
 *
 * infra/bundle.test.ts builds the same bundles (buildFunctionBundles) and
 * asserts what they contain and their sizes, not timings.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { bundlingRoot, esbuildOptions } from '../infra/bundling';

export interface FunctionBundle {
  /** The function's name: its entry is functions/<name>.ts. */
  name: string;
  /** The bundle on disk (index.js, as the CDK asset holds it). */
  file: string;
  bytes: number;
  /** Source files in the bundle, relative to the repository root (node_modules/… for dependencies). */
  inputs: string[];
}

export interface LoadTime {
  name: string;
  bytes: number;
  /** Median over the runs: CPU ms the process spent in require(bundle). */
  loadCpuMs: number;
  /** Median over the runs: wall ms of the same require. */
  loadWallMs: number;
}

/** Every function entry in functions/. */
export function functionEntries(): string[] {
  return fs
    .readdirSync(path.join(bundlingRoot, 'functions'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => f.replace(/\.ts$/, ''))
    .sort();
}

/** Builds each function's bundle into `outDir/<name>/index.js` with the stack's esbuild settings. */
export async function buildFunctionBundles(outDir: string, names = functionEntries()): Promise<FunctionBundle[]> {
  const bundles: FunctionBundle[] = [];
  for (const name of names) {
    const result = await build({
      ...esbuildOptions,
      entryPoints: [path.join(bundlingRoot, 'functions', `${name}.ts`)],
      absWorkingDir: bundlingRoot,
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    if (result.errors.length > 0 || result.outputFiles.length !== 1) throw new Error(`functions/${name}.ts did not bundle: ${JSON.stringify(result.errors)}`);
    const file = path.join(outDir, name, 'index.js');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, result.outputFiles[0]!.contents);
    const output = Object.values(result.metafile.outputs)[0]!;
    bundles.push({ name, file, bytes: result.outputFiles[0]!.contents.length, inputs: Object.keys(output.inputs) });
  }
  return bundles;
}

/** Loads `file` in `runs` fresh Node.js processes (no Strand or AWS settings in their environment). */
export function measureLoad(bundle: FunctionBundle, runs: number): LoadTime {
  const script = `const t0 = process.cpuUsage(); const w0 = performance.now();
const m = require(${JSON.stringify(bundle.file)});
const u = process.cpuUsage(t0);
if (typeof m.handler !== 'function') process.exit(3);
process.stdout.write(JSON.stringify({ cpu: (u.user + u.system) / 1000, wall: performance.now() - w0 }));`;
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = spawnSync(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8', timeout: 60_000 });
    if (out.status !== 0) throw new Error(`Loading ${bundle.file} failed (${out.status}): ${out.stderr}`);
    const m = JSON.parse(out.stdout) as { cpu: number; wall: number };
    cpu.push(m.cpu);
    wall.push(m.wall);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { name: bundle.name, bytes: bundle.bytes, loadCpuMs: Number(median(cpu).toFixed(1)), loadWallMs: Number(median(wall).toFixed(1)) };
}

/** Builds every bundle and measures each; the load average is part of the answer, as it colors wall times. */
export async function runColdStartBench(runs: number): Promise<{ loadAverage: number; functions: LoadTime[] }> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strand-coldstart-'));
  try {
    const bundles = await buildFunctionBundles(outDir);
    return { loadAverage: Number(os.loadavg()[0]!.toFixed(1)), functions: bundles.map((b) => measureLoad(b, runs)) };
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
}

export function reportColdStart(result: { loadAverage: number; functions: LoadTime[] }): void {
  console.log(`Cold start: each function's bundle (infra/bundling.ts settings) required in a fresh Node.js process (median; load average ${result.loadAverage} on ${os.cpus().length} cores):`);
  console.table(result.functions.map((f) => ({ function: f.name, 'bundle KB': Math.round(f.bytes / 1000), 'load CPU ms': f.loadCpuMs, 'load wall ms': f.loadWallMs })));
}

export function coldStartSummary(result: { loadAverage: number; functions: LoadTime[] }) {
  return {
    cold_start_load_average: result.loadAverage,
    cold_start: Object.fromEntries(result.functions.map((f) => [f.name, { bundle_bytes: f.bytes, load_cpu_ms: f.loadCpuMs, load_wall_ms: f.loadWallMs }])),
  };
}

if (require.main === module) {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 7;
  runColdStartBench(runs).then(
    (result) => {
      reportColdStart(result);
      console.log(JSON.stringify(coldStartSummary(result)));
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
