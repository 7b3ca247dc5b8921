/**
 * One HTTP exchange with Strand: URL building, headers (static, per-request,
 * SigV4), JSON and binary bodies, and retries of 429, 503 and network errors
 * with backoff. Every other error status becomes a typed StrandApiError.
 */
import { StrandApiError, StrandConnectionError, apiErrorFrom, isRetriableStatus } from './errors';
import { backoffMs, retryPolicy, sleep, type RetryOptions, type RetryPolicy } from './retry';
import type { RequestSigner, SigningOptions } from './signing';

export interface TransportOptions {
  /** Base URL, e.g. `http://localhost:8082` or an API Gateway stage URL. */
  url: string;
  /** Headers sent with every request (e.g. `{ authorization: 'Bearer …' }`). */
  headers?: Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);
  /** Sign every request with SigV4 (API Gateway IAM authorization). */
  signing?: SigningOptions;
  retry?: RetryOptions;
  /** Per-attempt timeout, in ms. @default 30000 */
  requestTimeout?: number;
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  body?: Uint8Array;
  headers?: Record<string, string>;
  /** Statuses that are not errors for this call (returned as is), e.g. 404 when probing. */
  accept?: number[];
  signal?: AbortSignal;
  /** Override the client's retry policy for this call (e.g. `{ retries: 0 }`). */
  retry?: RetryOptions;
  /** Per-attempt timeout for this call, in ms. */
  timeout?: number;
}

export interface Response {
  status: number;
  headers: Headers;
  body: Buffer;
  /** Parsed when the response is JSON. */
  json: unknown;
}

/** Observes retries (tests and logging). */
export type RetryListener = (event: { attempt: number; delayMs: number; error: Error; method: string; path: string }) => void;

export class Transport {
  readonly baseUrl: string;
  private readonly policy: RetryPolicy;
  private readonly signer: RequestSigner | undefined;
  /** Per-attempt timeout, in ms (also bounds the direct data plane's requests to S3). */
  readonly requestTimeout: number;
  onRetry: RetryListener | undefined;

  constructor(private readonly options: TransportOptions) {
    this.baseUrl = options.url.replace(/\/+$/, '');
    this.policy = retryPolicy(options.retry);
    // Loaded only when signing is asked for: the AWS credential chain is heavy to import (CLI start-up).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.signer = options.signing ? (require('./signing') as typeof import('./signing')).createSigner(options.signing) : undefined;
    this.requestTimeout = options.requestTimeout ?? 30_000;
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    let body: Uint8Array | undefined = options.body;
    const headers: Record<string, string> = { accept: 'application/json', ...(await this.staticHeaders()), ...options.headers };
    if (options.json !== undefined) {
      body = Buffer.from(JSON.stringify(options.json), 'utf8');
      headers['content-type'] ??= 'application/json';
    }
    const policy = this.policyFor(options.retry);
    for (let attempt = 0; ; attempt++) {
      let error: StrandApiError | StrandConnectionError;
      try {
        const res = await this.attempt(method, url, headers, body, options);
        if (res.status < 400 || options.accept?.includes(res.status)) return res;
        const retryAfter = Number(res.headers.get('retry-after') ?? NaN);
        error = apiErrorFrom(res.status, res.json, { method, path, retryAfterSeconds: Number.isFinite(retryAfter) ? retryAfter : undefined });
        if (!isRetriableStatus(res.status)) throw error;
      } catch (err) {
        if (err instanceof StrandApiError) throw err;
        if (options.signal?.aborted) throw options.signal.reason ?? err;
        error = connectionError(this.baseUrl, err);
      }
      if (attempt >= policy.retries || options.signal?.aborted) throw error;
      const delayMs = backoffMs(policy, attempt, error instanceof StrandApiError ? error.retryAfterSeconds : undefined);
      this.onRetry?.({ attempt: attempt + 1, delayMs, error, method, path });
      await sleep(delayMs, options.signal);
    }
  }

  /** The client's retry policy, with a call's overrides on top. */
  policyFor(overrides?: RetryOptions): RetryPolicy {
    return overrides ? retryPolicy({ ...this.policy, ...overrides }) : this.policy;
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.request(method, path, options)).json as T;
  }

  /**
   * The headers a WebSocket upgrade to `url` carries: every request's headers
   * (API key, custom headers) and, with signing, a SigV4 signature of the
   * upgrade's GET (API Gateway checks it on the WebSocket API's $connect route
   * when IAM authorizes it).
   */
  async upgradeHeaders(url: string): Promise<Record<string, string>> {
    const headers = await this.staticHeaders();
    if (!this.signer) return headers;
    const https = new URL(url.replace(/^ws/, 'http'));
    return this.signer({ method: 'GET', url: https, headers });
  }

  /** The headers every request carries (API key, custom headers): the notice socket's upgrade sends them too. */
  private async staticHeaders(): Promise<Record<string, string>> {
    const h = this.options.headers;
    if (!h) return {};
    return typeof h === 'function' ? await h() : h;
  }

  private async attempt(method: string, url: URL, headers: Record<string, string>, body: Uint8Array | undefined, options: RequestOptions): Promise<Response> {
    const sendHeaders = this.signer ? await this.signer({ method, url, headers, body }) : headers;
    const timeout = AbortSignal.timeout(options.timeout ?? this.requestTimeout);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const res = await fetch(url, { method, headers: sendHeaders, body, signal });
    const bytes = Buffer.from(await res.arrayBuffer());
    let json: unknown;
    const type = res.headers.get('content-type') ?? '';
    if (type.includes('json') && bytes.length > 0) {
      try {
        json = JSON.parse(bytes.toString('utf8'));
      } catch {
        json = undefined;
      }
    }
    return { status: res.status, headers: res.headers, body: bytes, json };
  }
}

/** Unwraps undici's `fetch failed` to the system error that caused it. */
function connectionError(baseUrl: string, err: unknown): StrandConnectionError {
  let e: unknown = err;
  let code: string | undefined;
  for (let depth = 0; e && depth < 5; depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') {
      code = c;
      break;
    }
    e = (e as { cause?: unknown }).cause;
  }
  if (!code && (err as { name?: string })?.name === 'TimeoutError') code = 'ETIMEDOUT';
  const reason =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'ETIMEDOUT'
        ? 'timed out'
        : code === 'ENOTFOUND'
          ? 'host not found'
          : (err as Error)?.message ?? String(err);
  return new StrandConnectionError(baseUrl, code, `Could not reach Strand at ${baseUrl}: ${reason}.`, { cause: err });
}
