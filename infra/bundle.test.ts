/**
 * Every Lambda entry in functions/ bundles, and the bundle loads.
 *
 * How: esbuild's build API bundles each entry the way the stack does (platform
 * node, target node22, everything bundled, CommonJS); the bundle is written to
 * a temporary directory and `require`d by a fresh Node.js process, which fails
 * on a module esbuild could not resolve or one that throws at load time, and
 * hangs (then times out) if module scope starts a timer or opens a handle that
 * would outlive an invocation. A last test runs a real synth, so the CDK's own
 * esbuild invocation is covered too.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { App, Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { functionAccess, type StrandFunctionName } from './access';
import { StrandStack } from './stack';
import { projectRoot } from './strand';

const functionsDir = path.join(projectRoot, 'functions');
const entries = fs.readdirSync(functionsDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).sort();
const functionNames = (Object.keys(functionAccess) as StrandFunctionName[]).sort();

let outDir: string;
beforeAll(() => {
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strand-bundle-'));
});
afterAll(() => {
  fs.rmSync(outDir, { recursive: true, force: true });
});

/** Loads a bundle in a clean Node.js process with no Strand or AWS settings in its environment. */
function load(bundle: string): { status: number | null; stderr: string } {
  const script = `const m = require(${JSON.stringify(bundle)});
if (typeof m.handler !== 'function') { console.error('no exported handler function'); process.exit(3); }`;
  const result = spawnSync(process.execPath, ['-e', script], {
    env: { PATH: process.env.PATH ?? '' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stderr: result.stderr };
}

describe('handler bundles', () => {
  test('there is one entry file per function the stack deploys', () => {
    expect(entries.map((f) => f.replace(/\.ts$/, ''))).toEqual(functionNames);
  });

  test.each(entries)('functions/%s bundles for Node.js 22 and loads without missing modules', async (file) => {
    const result = await build({
      entryPoints: [path.join(functionsDir, file)],
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      write: false,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    expect(result.outputFiles).toHaveLength(1);
    const bundle = path.join(outDir, file.replace(/\.ts$/, ''), 'index.js');
    fs.mkdirSync(path.dirname(bundle), { recursive: true });
    fs.writeFileSync(bundle, result.outputFiles[0]!.contents);

    const loaded = load(bundle);
    expect(loaded.stderr).toBe('');
    expect(loaded.status).toBe(0);
  });

  test('cdk synth bundles every function with the local esbuild, no Docker', () => {
    const app = new App({ outdir: path.join(outDir, 'cdk.out') });
    // The default stack deploys every function, the notice socket's included.
    const stack = new StrandStack(app, 'BundleTest');
    app.synth();
    for (const name of functionNames) {
      const fn = stack.strand.functionOf(name);
      const cfn = fn.node.defaultChild as CfnFunction;
      const code = Stack.of(fn).resolve(cfn.code) as { s3Key: string };
      const assetDir = path.join(outDir, 'cdk.out', `asset.${code.s3Key.replace(/\.zip$/, '')}`);
      const bundle = path.join(assetDir, 'index.js');
      expect(fs.existsSync(bundle)).toBe(true);
      expect(load(bundle).status).toBe(0);
    }
  });
});
