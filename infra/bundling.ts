/**
 * How every Lambda function is bundled: the esbuild settings the stack gives
 * NodejsFunction (infra/strand.ts), and that infra/bundle.test.ts and
 * bench/coldStart.ts build with, so what they measure is what deploys.
 *
 * - Everything bundled, the AWS SDK too, so Lambda runs the version the tests
 *   ran, not whichever one the runtime ships.
 * - ES module builds of dependencies first (`module` before `main`): esbuild
 *   can drop what a function does not use only from those (the SDK's dist-es).
 * - 'zod' is infra/zodForBundles.mjs: only the members Strand calls, not the
 *   whole namespace with every locale.
 *
 * A cold start is mostly compiling the bundle, so its size is its cost.
 */
import * as path from 'node:path';
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';

/** The repository root: holds functions/, package-lock.json and node_modules/ (esbuild). */
export const bundlingRoot = path.resolve(__dirname, '..');

export const zodForBundles = path.join(bundlingRoot, 'infra', 'zodForBundles.mjs');

export const functionBundling = {
  // The esbuild in node_modules, never Docker: synth works offline.
  forceDockerBundling: false,
  target: 'node22',
  format: OutputFormat.CJS,
  minify: true,
  externalModules: [],
  mainFields: ['module', 'main'],
  esbuildArgs: { '--alias': `zod=${zodForBundles}` },
} as const satisfies BundlingOptions;

/** The same settings for esbuild's build API (what `functionBundling` makes the CDK pass on its command line). */
export const esbuildOptions: {
  bundle: true;
  platform: 'node';
  target: string;
  format: 'cjs';
  minify: boolean;
  mainFields: string[];
  alias: Record<string, string>;
} = {
  bundle: true,
  platform: 'node',
  target: functionBundling.target,
  format: 'cjs',
  minify: functionBundling.minify,
  mainFields: [...functionBundling.mainFields],
  alias: { zod: zodForBundles },
};
