#!/usr/bin/env node
/**
 * `npm run build` (and `prepack`): the installable package in dist/.
 *
 *   dist/sdk/index.cjs      the SDK (client/index.ts) bundled as CommonJS with the
 *                           pure src/ modules it uses; npm packages stay external
 *   dist/sdk/index.mjs      the SDK for `import`: an ES module wrapper that re-exports
 *                           index.cjs by name, so ESM and CJS users share one copy of
 *                           every class (`instanceof StrandApiError` holds across both)
 *                           and the AWS credential chain stays loaded only on demand
 *                           (client/transport.ts requires ./signing when asked to sign)
 *   dist/cli/main.cjs       the CLI (cli/main.ts), one CommonJS file; bin/strand.js runs it
 *   dist/types/             declarations (tsc -p tsconfig.build.json); client/index.d.ts is the entry
 *
 * Checks, each failing the build: the bundles reach no server code (local/,
 * infra/, functions/, the engine, storage, the log) and import no server-only
 * package; every package they import is in package.json `dependencies`, so an
 * install of the tarball has it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const require = createRequire(import.meta.url);

/**
 * Source the SDK and CLI must never reach: the emulators, the deployment, the
 * engine and its storage. Pure src/ modules (codecs, the partitioner, wire
 * formats) are shared; a src/ module that drags the server in shows up below as
 * a server-only package.
 */
const serverSourcePrefixes = ['local/', 'infra/', 'functions/', 'bench/', 'test/', 'src/engine.ts', 'src/storage/'];
/** Packages only the server and its tooling use. */
const serverPackages = [/^aws-cdk/, /^constructs$/, /^dynalite$/, /^s3rver$/, /^@aws-sdk\/client-/, /^@aws-sdk\/lib-dynamodb$/, /^@aws-sdk\/s3-request-presigner$/, /^@aws-lambda-powertools\//];

const packageName = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
const isBuiltin = (spec) => spec.startsWith('node:') || builtinModules.includes(spec);

function checkGraph(label, metafile) {
  const problems = [];
  for (const [input, { imports }] of Object.entries(metafile.inputs)) {
    if (serverSourcePrefixes.some((p) => input.startsWith(p))) problems.push(`${label} reaches server code: ${input}`);
    for (const { path, external } of imports) {
      if (!external || isBuiltin(path)) continue;
      const name = packageName(path);
      if (serverPackages.some((re) => re.test(name))) problems.push(`${label} imports a server-only package: ${name} (from ${input})`);
      else if (!pkg.dependencies?.[name]) problems.push(`${label} imports ${name} (from ${input}), which is not in package.json dependencies (an install of the package gets dependencies only: move it there)`);
    }
  }
  if (problems.length > 0) throw new Error(`build: ${problems.join('\n')}`);
}

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // npm packages are dependencies of the package, installed beside it, not copied in.
  packages: 'external',
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
};

async function build() {
  const started = Date.now();
  rmSync(dist, { recursive: true, force: true });

  const sdk = await esbuild.build({ ...common, entryPoints: ['client/index.ts'], outfile: 'dist/sdk/index.cjs' });
  checkGraph('the SDK', sdk.metafile);

  // The ESM entry re-exports the CommonJS bundle by name (Node's ESM wrapper pattern).
  const names = Object.keys(require(join(dist, 'sdk', 'index.cjs'))).filter((n) => n !== 'default' && n !== '__esModule').sort();
  writeFileSync(
    join(dist, 'sdk', 'index.mjs'),
    `// The SDK as an ES module: the CommonJS bundle's exports, by name (one copy of each class for import and require).\n` +
      `import sdk from './index.cjs';\n\n` +
      `export const {\n${names.map((n) => `  ${n},`).join('\n')}\n} = sdk;\n`,
  );

  const cli = await esbuild.build({
    ...common,
    entryPoints: ['cli/main.ts'],
    outfile: 'dist/cli/main.cjs',
    banner: { js: '// The `strand` CLI, bundled from cli/ by scripts/build.mjs; bin/strand.js runs it.' },
  });
  checkGraph('the CLI', cli.metafile);

  mkdirSync(join(dist, 'types'), { recursive: true });
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  } catch {
    throw new Error('tsc -p tsconfig.build.json failed (above): no declarations');
  }

  const size = (file) => `${(readFileSync(join(dist, file)).length / 1024).toFixed(0)} KiB`;
  console.log(
    `built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s: sdk/index.cjs ${size('sdk/index.cjs')} (${names.length} exports), ` +
      `sdk/index.mjs ${size('sdk/index.mjs')}, cli/main.cjs ${size('cli/main.cjs')}, types/`,
  );
}

build().catch((err) => {
  // esbuild has printed its errors already; a half-built dist/ is removed so nothing packs or runs it.
  if (!Array.isArray(err?.errors)) console.error(`build: ${err instanceof Error ? err.message : String(err)}`);
  else console.error('build: esbuild failed (above)');
  rmSync(dist, { recursive: true, force: true });
  process.exitCode = 1;
});
