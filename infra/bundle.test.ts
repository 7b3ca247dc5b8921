/**
 * Every Lambda entry in functions/ bundles, and the bundle loads.
 *
 * How: esbuild's build API bundles each entry the way the stack does
 * (infra/bundling.ts: platform node, target node22, everything bundled,
 * CommonJS, ES module builds first, zod trimmed); the bundle is written to
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
import { esbuildOptions } from './bundling';
import { z } from 'zod';
import { buildFunctionBundles, type FunctionBundle } from '../bench/coldStart';
import { functionOperations } from '../src/api/operations';
import { routeKey, routes } from '../src/api/routes';

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
    // The SDK warns on Node.js 20 that its 2027 releases need 22; Lambda runs 22, so the warning says nothing about the bundle.
    env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stderr: result.stderr };
}

describe('handler bundles', () => {
  test('there is one entry file per function the stack deploys, and for the functions other constructs deploy', () => {
    // StrandMirror (infra/mirror.ts) deploys mirror; Strand.addTrigger makes triggerResources, the custom resource's provider.
    const otherConstructs = ['mirror', 'triggerResources'];
    expect(entries.map((f) => f.replace(/\.ts$/, ''))).toEqual([...functionNames, ...otherConstructs].sort());
  });

  test.each(entries)('functions/%s bundles for Node.js 22 and loads without missing modules', async (file) => {
    const result = await build({
      ...esbuildOptions,
      entryPoints: [path.join(functionsDir, file)],
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

/**
 * What each routed function's bundle holds. How: the bundles are built with the
 * stack's settings (bench/coldStart.ts, infra/bundling.ts) and esbuild's
 * metafile lists every source file in each; the operation modules of
 * src/api/ are mapped to the function whose routes they serve.
 */
describe('each function bundles only what its routes use', () => {
  /** The operation modules, by the function that serves their routes. */
  const operationModules: Record<string, string[]> = {
    admin: ['src/api/topics.ts', 'src/api/records.ts', 'src/api/apiKeys.ts', 'src/api/triggers.ts', 'src/api/openapi.ts'],
    produce: ['src/api/produce.ts', 'src/api/uploads.ts', 'src/api/producers.ts'],
    fetch: ['src/api/fetch.ts', 'src/api/multiFetch.ts', 'src/api/notifications.ts'],
    groups: ['src/api/groups.ts', 'src/api/consumers.ts'],
    schemas: ['src/api/schemas.ts'],
  };
  /**
   * Another function's operation module a bundle may hold, and why: the admin
   * function serves /openapi.json, built from produce's request schemas; the
   * groups function's REST Proxy v2 records read with the fetch's bounds.
   */
  const allowedOthers: Record<string, string[]> = { admin: ['src/api/produce.ts'], groups: ['src/api/fetch.ts'] };
  /** Every function's bundle stays under this (they were 1.97 MB each with every operation and all of zod). */
  const bundleBytesMax = 1_400_000;
  let bundles: FunctionBundle[];
  beforeAll(async () => {
    bundles = await buildFunctionBundles(path.join(outDir, 'contents'));
  }, 240_000);

  test("each routed function's operation table holds exactly its routes' operations", () => {
    for (const [fn, table] of Object.entries(functionOperations)) {
      const own = routes.filter((r) => r.fn === fn).map(routeKey).sort();
      expect(Object.keys(table).sort()).toEqual(own);
    }
  });

  test.each(Object.keys(operationModules))('the %s bundle holds its own operation modules and no other function\'s', (fn) => {
    const bundle = bundles.find((b) => b.name === fn)!;
    for (const [owner, modules] of Object.entries(operationModules)) {
      for (const m of modules) {
        if (owner !== fn && allowedOthers[fn]?.includes(m)) continue;
        expect([m, bundle.inputs.includes(m)]).toEqual([m, owner === fn]);
      }
    }
  });

  test('the fetch bundle holds no schema registry routes and no produce validation', () => {
    const fetch = bundles.find((b) => b.name === 'fetch')!.inputs;
    for (const m of ['src/api/schemas.ts', 'src/api/produce.ts']) expect(fetch).not.toContain(m);
  });

  test('no bundle carries zod locales other than English', () => {
    for (const b of bundles) {
      const locales = b.inputs.filter((i) => i.includes('zod/v4/locales/') && !i.endsWith('/en.js') && !i.endsWith('/index.js'));
      expect([b.name, locales]).toEqual([b.name, []]);
    }
  });

  test(`every bundle is under ${bundleBytesMax} bytes`, () => {
    for (const b of bundles) expect([b.name, b.bytes <= bundleBytesMax]).toEqual([b.name, true]);
  });

  test('every zod member Strand calls is in the bundles\' zod (infra/zodForBundles.mjs)', async () => {
    const called = new Set<string>();
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) for (const m of fs.readFileSync(p, 'utf8').matchAll(/\bz\.([A-Za-z]+)\(/g)) called.add(m[1]!);
      }
    };
    for (const dir of ['src', 'functions']) walk(path.join(projectRoot, dir));
    // Loaded as a bundle with the alias, as a function sees it; messages must read as unbundled zod's.
    const result = await build({ ...esbuildOptions, stdin: { contents: `const { z } = require('zod'); module.exports = { keys: Object.keys(z), message: z.object({ a: z.string() }).safeParse({}).error.issues[0].message };`, resolveDir: projectRoot, loader: 'js' }, write: false, logLevel: 'silent' });
    const file = path.join(outDir, 'zod-check.js');
    fs.writeFileSync(file, result.outputFiles[0]!.contents);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundled = require(file) as { keys: string[]; message: string };
    expect([...called].filter((m) => !bundled.keys.includes(m))).toEqual([]);
    expect(bundled.message).toBe(z.object({ a: z.string() }).safeParse({}).error!.issues[0]!.message);
  });
});
