/**
 * The console builds from a clean checkout, stays small, and type-checks
 * against the DOM (console/tsconfig.json: the root tsconfig is Node-only, so
 * `tsc -p .` does not see console/src).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildConsole } from '../../console/build';

/** What the console may weigh, gzipped (index.html + app.js + app.css); docs/console.md states the measured size. */
const consoleGzipBytesMax = 40 * 1024;

const root = join(__dirname, '..', '..');

describe('console build', () => {
  test(`the bundle is three files and at most ${consoleGzipBytesMax / 1024} KiB gzipped`, async () => {
    const assets = await buildConsole();
    expect([...assets.keys()].sort()).toEqual(['app.css', 'app.js', 'index.html']);
    const gzipped = [...assets.values()].reduce((n, a) => n + gzipSync(a.body, { level: 9 }).length, 0);
    expect(gzipped).toBeLessThanOrEqual(consoleGzipBytesMax);
    // No CDN at run time: the page loads nothing from another origin.
    const html = assets.get('index.html')!.body.toString('utf8');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  test('console/src type-checks with DOM types (tsc -p console)', () => {
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', join(root, 'console')], { encoding: 'utf8', timeout: 120_000 });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  }, 120_000);
});
