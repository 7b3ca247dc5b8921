/**
 * The local runtime's one line per request (`npm start`):
 *
 *   2026-12-01T10:00:00.123Z POST /v3/clusters/local/topics/orders/records 200 4ms in=87B out=190B
 *
 * time, method, path (no query string: it may carry a fetch's offsets, not
 * secrets, but keeps lines short), status, milliseconds from the request's
 * arrival to its answer, request and answer body bytes. 5xx lines are logged
 * at warn, the rest at info.
 *
 * The level comes from STRAND_LOG_LEVEL, else LOG_LEVEL: debug | info | warn |
 * error | silent (or off). `npm start` defaults to info; nothing else turns the
 * log on, so tests log nothing unless they ask.
 */
export const logLevels = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  ms: number;
  requestBytes: number;
  responseBytes: number;
}

export type RequestLog = (entry: RequestLogEntry) => void;

/** The level named by STRAND_LOG_LEVEL or LOG_LEVEL (case-insensitive; `off` is silent); `fallback` when neither names one. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env, fallback: LogLevel = 'info'): LogLevel {
  const raw = (env.STRAND_LOG_LEVEL || env.LOG_LEVEL || '').trim().toLowerCase();
  if (raw === 'off' || raw === 'none') return 'silent';
  if (raw === 'warning') return 'warn';
  return (logLevels as readonly string[]).includes(raw) ? (raw as LogLevel) : fallback;
}

export function formatRequestLine(e: RequestLogEntry, now: Date = new Date()): string {
  return `${now.toISOString()} ${e.method} ${e.path} ${e.status} ${Math.round(e.ms)}ms in=${e.requestBytes}B out=${e.responseBytes}B`;
}

/** A request log at `level` writing lines to `write` (default stdout); undefined when the level hides every request line. */
export function createRequestLog(level: LogLevel, write: (line: string) => void = (line) => void process.stdout.write(`${line}\n`)): RequestLog | undefined {
  const rank = logLevels.indexOf(level);
  if (rank > logLevels.indexOf('warn')) return undefined;
  return (entry) => {
    const entryLevel: LogLevel = entry.status >= 500 ? 'warn' : 'info';
    if (logLevels.indexOf(entryLevel) >= rank) write(formatRequestLine(entry));
  };
}
