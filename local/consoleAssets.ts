/**
 * The web console at /console (issue 20, docs/console.md): static files the
 * local gateway serves itself, not a route of the API. The console is built
 * with esbuild on the first request (about 100 ms) and kept in memory, so
 * `npm start` in a clean clone serves it with nothing built beforehand.
 *
 *   GET /console, /console/ index.html
 *   GET /console/app.js     the bundle (Preact and the pages)
 *   GET /console/app.css
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildConsole, consoleFileOf, consoleHeaders, consolePath, type ConsoleAssets } from '../console/build';

export { consolePath };

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
  const name = consoleFileOf(pathname);
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
  // no-cache: rebuilt per process, so always revalidated and a restarted runtime serves its own build.
  for (const [header, value] of Object.entries(consoleHeaders)) res.setHeader(header, value);
  res.end(method === 'HEAD' ? undefined : asset.body);
}
