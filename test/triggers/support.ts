/**
 * What the trigger tests share: a local Strand whose runner retries quickly,
 * a webhook receiver that checks every signature, and readers of what was
 * delivered.
 */
import { createServer, type Server } from 'node:http';
import type { MSKEvent } from 'aws-lambda';
import { verifySignature } from '../../src/triggers/signature';
import { cluster, startTestStrand, type HttpClient, type TestStrand } from '../support/localStrand';
import type { LocalStrandOptions } from '../../local/startLocalStrand';

/** Backoffs short enough for a test, long enough to see them; no rescans (head changes must wake the runner). */
export const fastTriggers = { retryBackoffBaseMs: 20, retryBackoffMaxMs: 100, rescanIntervalMs: 0, deliveryTimeoutMs: 5_000 };

export function startTriggerStrand(options: LocalStrandOptions = {}): Promise<TestStrand> {
  return startTestStrand({ triggers: fastTriggers, ...options });
}

export interface Delivered {
  topic: string;
  partition: number;
  offset: number;
  key: string | undefined;
  value: string | undefined;
  headers: Record<string, string>;
}

/** The records of an MSK-shaped event, decoded. */
export function recordsOf(event: MSKEvent): Delivered[] {
  return Object.values(event.records).flatMap((rs) =>
    rs.map((r) => ({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      key: r.key === undefined ? undefined : Buffer.from(r.key, 'base64').toString('utf8'),
      value: r.value === undefined ? undefined : Buffer.from(r.value, 'base64').toString('utf8'),
      headers: Object.fromEntries(r.headers.flatMap((h) => Object.entries(h).map(([k, bytes]) => [k, Buffer.from(bytes).toString('utf8')]))),
    })),
  );
}

export interface Receiver {
  url: string;
  /** Every request, in arrival order, with whether its signature verified. */
  requests: { event: MSKEvent; verified: boolean; deliveryId: string; answered: boolean }[];
  /** Delay before answering (a slow receiver), the status to answer, and whether to never answer (a delivery kept in flight). */
  behaviour: { delayMs: number; status: number; hold: boolean; reply?: (event: MSKEvent) => unknown };
  close(): Promise<void>;
}

/** A webhook receiver verifying X-Strand-Signature against the raw body, as docs/triggers.md shows. */
export async function startReceiver(secret: string): Promise<Receiver> {
  const requests: Receiver['requests'] = [];
  const behaviour: Receiver['behaviour'] = { delayMs: 0, status: 200, hold: false };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const verified = verifySignature(secret, req.headers['x-strand-signature'] as string | undefined, raw);
      const request = { event: JSON.parse(raw.toString('utf8')) as MSKEvent, verified, deliveryId: String(req.headers['x-strand-delivery']), answered: false };
      requests.push(request);
      setTimeout(() => {
        if (behaviour.hold) return; // left hanging until the sender gives up
        request.answered = true;
        const reply = verified && behaviour.reply ? behaviour.reply(request.event) : undefined;
        if (reply === undefined) res.writeHead(verified ? behaviour.status : 401).end();
        else res.writeHead(behaviour.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
      }, behaviour.delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/orders`,
    requests,
    behaviour,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Polls `check` every 20 ms until it is true; fails after `timeoutMs` with `what`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const triggersPath = `${cluster}/triggers`;

export async function createTrigger(http: HttpClient, body: Record<string, unknown>) {
  const res = await http.post(triggersPath, body);
  if (res.status !== 201) throw new Error(`create trigger: ${res.status} ${res.body.toString()}`);
  return res.json;
}

/** Produces `values` to one partition in one request (one stored batch), keys k<i>. */
export async function produceValues(http: HttpClient, topic: string, values: string[], partition?: number) {
  const res = await http.post(`${cluster}/topics/${topic}/records:batch`, {
    entries: values.map((v, i) => ({ id: i, value: { type: 'STRING', data: v }, ...(partition !== undefined ? { partition_id: partition } : { key: { type: 'STRING', data: `k-${v}` } }) })),
  });
  if (res.status !== 200 && res.status !== 207) throw new Error(`produce: ${res.status} ${res.body.toString()}`);
  return res.json;
}

export async function lagOf(http: HttpClient, trigger: string): Promise<number> {
  const res = await http.get(`${cluster}/consumer-groups/trigger-${trigger}/lag-summary`);
  if (res.status !== 200) throw new Error(`lag-summary: ${res.status} ${res.body.toString()}`);
  return res.json.total_lag as number;
}
