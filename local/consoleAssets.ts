/**
 * The web console at /console (issue 20, docs/console.md): static files the
 * local gateway serves itself, not a route of the API. The console is built
 * with esbuild on the first request (about 100 ms) and kept in memory, so
 * `npm start` in a clean clone serves it with nothing built beforehand.
 *
 *   GET /console            302 to /console/ (the page loads its files relative to itself)
 *   GET /console/           index.html
 *   GET /console/app.js     the bundle (Preact and the pages)
 *   GET /console/app.css
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildConsole, type ConsoleAssets } from '../console/build';

export const consolePath = '/console';

let built: Promise<ConsoleAssets> | undefined;

/** The console's files, built once per process (a failed build is tried again on the next request). */
export function consoleAssets(): Promise<ConsoleAssets> {
  built ??= buildConsole().catch((err: unknown) => {
    built = undefined;
    throw err;
  });
  return built;
}

export function isConsolePath(pathname: string): boolean {
  return pathname === consolePath || pathname.startsWith(`${consolePath}/`);
}

/** Serves a request under /console; the caller has checked isConsolePath. */
export async function serveConsole(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') {
    res.statusCode = 405;
    res.setHeader('allow', 'GET, HEAD');
    res.end();
    return;
  }
  if (pathname === consolePath) {
    res.statusCode = 302;
    res.setHeader('location', `${consolePath}/`);
    res.end();
    return;
  }
  const name = pathname.slice(consolePath.length + 1) || 'index.html';
  const asset = (await consoleAssets()).get(name);
  if (!asset) {
    res.statusCode = 404;
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end(`No console file '${name}'.`);
    return;
  }
  res.statusCode = 200;
  res.setHeader('content-type', asset.contentType);
  res.setHeader('content-length', asset.body.length);
  // Rebuilt per process: always revalidated, so a restarted runtime serves its own build.
  res.setHeader('cache-control', 'no-cache');
  res.setHeader('x-content-type-options', 'nosniff');
  res.end(method === 'HEAD' ? undefined : asset.body);
}
