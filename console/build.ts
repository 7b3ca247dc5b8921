/**
 * Builds the console into three static files (index.html, app.js, app.css)
 * with esbuild, in memory: the local runtime builds it on its first /console
 * request (local/consoleAssets.ts), the CDK stack at synth (infra/console.ts).
 * Nothing built is committed, so a clean clone needs only `npm ci`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, buildSync, type BuildOptions, type BuildResult } from 'esbuild';

/** The console's path on the API's origin: the page at /console, its files at /console/<name>. */
export const consolePath = '/console';

/**
 * Headers on every console file, locally and on AWS. The page talks to its
 * own origin only (the API), loads nothing from elsewhere, and is not framed.
 */
export const consoleHeaders: Readonly<Record<string, string>> = {
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

/** The file a path under consolePath names: the page for /console and /console/, else the last segment. */
export function consoleFileOf(pathname: string): string {
  const rest = pathname.slice(consolePath.length).replace(/^\//, '');
  return rest === '' ? 'index.html' : rest;
}

export interface ConsoleAsset {
  contentType: string;
  body: Buffer;
}

/** The console's files by name (`index.html`, `app.js`, `app.css`). */
export type ConsoleAssets = ReadonlyMap<string, ConsoleAsset>;

const sourceDir = join(__dirname, 'src');

const options: BuildOptions = {
  entryPoints: [join(sourceDir, 'main.tsx')],
  bundle: true,
  minify: true,
  format: 'esm',
  // Browsers of the last few years (ES2020: optional chaining, ??) — no CDN, no polyfills.
  target: ['es2020'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  write: false,
  outfile: 'app.js',
  legalComments: 'none',
  logLevel: 'silent',
};

function assetsOf(result: BuildResult & { outputFiles?: { path: string; contents: Uint8Array }[] }): ConsoleAssets {
  const js = result.outputFiles?.find((f) => f.path.endsWith('app.js'));
  if (!js) throw new Error('console build produced no app.js');
  const css = buildSync({ entryPoints: [join(sourceDir, 'style.css')], bundle: true, minify: true, write: false, outfile: 'app.css', logLevel: 'silent' });
  return new Map([
    ['index.html', { contentType: 'text/html; charset=utf-8', body: readFileSync(join(sourceDir, 'index.html')) }],
    ['app.js', { contentType: 'text/javascript; charset=utf-8', body: Buffer.from(js.contents) }],
    ['app.css', { contentType: 'text/css; charset=utf-8', body: Buffer.from(css.outputFiles[0]!.contents) }],
  ]);
}

export async function buildConsole(): Promise<ConsoleAssets> {
  return assetsOf(await build(options));
}

/** The same, synchronously (CDK constructs are built synchronously). */
export function buildConsoleSync(): ConsoleAssets {
  return assetsOf(buildSync(options));
}
