/**
 * Waiting at the end of the log without holding a Lambda (docs/notifications.md):
 * one WebSocket per consumer to the deployment's notice socket. A partition
 * worker that fetched nothing arms a watch ("tell me when there is a record at
 * or after N") and waits; the server sends one `moved` notice when a commit
 * gets there, and the worker fetches. Nothing is read or billed per second
 * while nothing arrives.
 *
 * Outcomes of a wait:
 *   moved    a notice came (or the wait was interrupted): fetch now
 *   recheck  recheckMs passed without one: fetch anyway (a notice lost in a
 *            failed notifier run costs at most this much delay)
 *   down     the socket is not open (dropped, refused, reconnecting): fall back
 *            to slow polling until it is back
 *   absent   the deployment has no notice socket (GET …/notifications is 404):
 *            long-poll as before
 *
 * Arms that arrive together (the workers of one answer) go out as one
 * subscribe message of at most 100 watches. The socket reconnects at the next
 * wait after it closed (API Gateway closes every connection after 2 hours),
 * with backoff after failed attempts, and re-arms every wait still pending.
 */
import WebSocket from 'ws';
import type { StrandClient } from './StrandClient';

export type WaitOutcome = 'moved' | 'recheck' | 'down' | 'absent';

/** How long arms are gathered into one subscribe message. */
export const armGatherMs = 2;
/** The server's watchesPerMessageMax. */
export const watchesPerMessageMax = 100;
/** Backoff between failed connection attempts: doubling from 500 ms to this. */
export const reconnectBackoffMsMax = 30_000;
/** How long a connection attempt may take. */
export const connectTimeoutMs = 10_000;

interface Wait {
  key: string;
  topic: string;
  partition: number;
  offset: number;
  settle: (outcome: WaitOutcome) => void;
}

interface Discovery {
  url: string;
  keepalive_interval_ms: number;
}

export class NoticeWaiter {
  private discovery: Discovery | 'absent' | undefined;
  private ws: WebSocket | undefined;
  private opening: Promise<boolean> | undefined;
  private failures = 0;
  private retryAt = 0;
  /** Bumped by close(): a connection attempt that started before it closes what it opened. */
  private epoch = 0;
  private readonly waits = new Map<string, Set<Wait>>();
  private armQueue = new Map<string, Wait>();
  /**
   * Watches armed on the open connection, by partition, at the offset armed: a
   * wait at the same offset (a recheck found nothing) needs no subscribe, as
   * the server still holds the watch. A notice disarms it there and here.
   */
  private readonly armed = new Map<string, number>();
  private armTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private nextRequestId = 0;
  /** This connection's id (from its first pong), which a group member names in heartbeats to be nudged here. */
  private currentConnectionId: string | undefined;
  /** A failed connection was reported; reset by the next connection. */
  private warned = false;
  /** Ends the wait for the first pong of a new connection. */
  private helloDone: (() => void) | undefined;
  /** Called with a group's id when the server nudges a member of it listening here. */
  onGroupNudge: ((groupId: string) => void) | undefined;
  /** Counted for tests and the bench. */
  readonly stats = { connects: 0, subscribes: 0, notices: 0 };

  constructor(
    private readonly client: StrandClient,
    private readonly recheckMs: number,
  ) {}

  /** True once the deployment said it has no notice socket (or the client cannot use it). */
  get absent(): boolean {
    return this.discovery === 'absent';
  }

  /** The open connection's id, once known; undefined while the socket is not open. */
  get connectionId(): string | undefined {
    return this.ws?.readyState === WebSocket.OPEN ? this.currentConnectionId : undefined;
  }

  /** Opens the socket now (a group member wants its id for its heartbeats); failures are handled as in wait(). */
  prepare(): Promise<boolean> {
    return this.open();
  }

  async wait(topic: string, partition: number, offset: number, signal: AbortSignal): Promise<WaitOutcome> {
    if (signal.aborted) return 'moved';
    if (!(await this.open())) return this.absent ? 'absent' : 'down';
    // Interrupted while the socket opened: an abort listener added now would never fire.
    if (signal.aborted) return 'moved';
    return new Promise<WaitOutcome>((resolve) => {
      const key = `${topic}\u0000${partition}`;
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => wait.settle('moved');
      const wait: Wait = {
        key,
        topic,
        partition,
        offset,
        settle: (outcome) => {
          const set = this.waits.get(key);
          if (!set?.delete(wait)) return;
          if (set.size === 0) this.waits.delete(key);
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          resolve(outcome);
        },
      };
      let set = this.waits.get(key);
      if (!set) this.waits.set(key, (set = new Set()));
      set.add(wait);
      timer = setTimeout(() => wait.settle('recheck'), this.recheckMs);
      timer.unref?.();
      signal.addEventListener('abort', onAbort, { once: true });
      this.arm(wait);
    });
  }

  /** Closes the socket (a later wait opens a new one); pending waits end as 'moved'. */
  close(): void {
    this.epoch++;
    clearTimeout(this.armTimer);
    clearInterval(this.pingTimer);
    this.ws?.close();
    this.ws = undefined;
    this.settleAll('moved');
  }

  private settleAll(outcome: WaitOutcome): void {
    for (const set of [...this.waits.values()]) for (const w of [...set]) w.settle(outcome);
  }

  private arm(wait: Wait): void {
    if (this.armed.get(wait.key) === wait.offset) return;
    this.armQueue.set(wait.key, wait);
    this.armTimer ??= setTimeout(() => {
      this.armTimer = undefined;
      const watches = [...this.armQueue.values()];
      this.armQueue.clear();
      for (let i = 0; i < watches.length; i += watchesPerMessageMax) this.subscribe(watches.slice(i, i + watchesPerMessageMax));
    }, armGatherMs);
  }

  private subscribe(watches: Wait[]): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return; // re-armed on the next open
    this.stats.subscribes++;
    ws.send(
      JSON.stringify({
        action: 'subscribe',
        request_id: `s${++this.nextRequestId}`,
        watches: watches.map((w) => ({ topic_name: w.topic, partition_id: w.partition, offset: w.offset })),
      }),
    );
    this.pending.set(`s${this.nextRequestId}`, watches);
    for (const w of watches) this.armed.set(w.key, w.offset);
  }

  /** Subscribes waiting for their reply, by request id: an error reply ends their waits as 'down'. */
  private readonly pending = new Map<string, Wait[]>();

  private onMessage(text: string): void {
    let m: { type?: string; request_id?: string; topic_name?: string; partition_id?: number; message?: string };
    try {
      m = JSON.parse(text);
    } catch {
      return;
    }
    if (m.type === 'group') {
      const groupId = (m as { group_id?: unknown }).group_id;
      if (typeof groupId === 'string') this.onGroupNudge?.(groupId);
      return;
    }
    if (m.type === 'pong') {
      const id = (m as { connection_id?: unknown }).connection_id;
      if (typeof id === 'string') this.currentConnectionId = id;
      this.helloDone?.();
      return;
    }
    if (m.type === 'moved') {
      this.stats.notices++;
      this.armed.delete(`${m.topic_name}\u0000${m.partition_id}`);
      for (const w of [...(this.waits.get(`${m.topic_name}\u0000${m.partition_id}`) ?? [])]) w.settle('moved');
      return;
    }
    if (m.request_id === undefined) return;
    const watches = this.pending.get(m.request_id);
    this.pending.delete(m.request_id);
    if (m.type === 'error' && watches) {
      // The fetch that follows reports the real problem (unknown topic, no permission).
      this.client.logger.warn(`Strand: the notice socket refused a subscribe (${m.message ?? 'error'}); polling instead.`);
      for (const w of watches) {
        this.armed.delete(w.key);
        w.settle('down');
      }
    }
  }

  /** True when the socket is open (connecting first if needed); false when it cannot be now. */
  private async open(quiet = false): Promise<boolean> {
    if (this.ws?.readyState === WebSocket.OPEN) return true;
    if (this.absent || Date.now() < this.retryAt) return false;
    this.opening ??= this.connect(quiet).finally(() => (this.opening = undefined));
    return this.opening;
  }

  /** `quiet`: a reconnect nobody asked for (the server closed the socket) logs nothing when it fails; the next wait's attempt does. */
  private async connect(quiet = false): Promise<boolean> {
    const epoch = this.epoch;
    try {
      if (this.discovery === undefined) {
        try {
          this.discovery = await this.client.transport.json<Discovery>('GET', `${this.client.clusterPath}/notifications`, { retry: { retries: 1 } });
        } catch (err) {
          if ((err as { status?: number }).status === 404) {
            this.discovery = 'absent';
            return false;
          }
          throw err;
        }
      }
      if (this.discovery === 'absent') return false;
      const discovery = this.discovery;
      const headers = await this.client.transport.upgradeHeaders(discovery.url);
      const ws = await new Promise<WebSocket>((resolve, reject) => {
        const socket = new WebSocket(discovery.url, { headers, handshakeTimeout: connectTimeoutMs });
        socket.once('open', () => resolve(socket));
        socket.once('unexpected-response', (_req, res) => reject(new Error(`the notice socket refused the connection (${res.statusCode})`)));
        socket.once('error', reject);
      });
      if (epoch !== this.epoch) {
        ws.close();
        return false;
      }
      this.stats.connects++;
      this.failures = 0;
      this.warned = false;
      this.ws = ws;
      this.armed.clear();
      this.currentConnectionId = undefined;
      ws.on('message', (data) => this.onMessage(String(data)));
      // The first ping tells this connection's id (the pong carries it); a
      // joining group member names it, so the socket counts as open once it is known.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, connectTimeoutMs);
        this.helloDone = () => {
          clearTimeout(timer);
          resolve();
        };
        ws.send(JSON.stringify({ action: 'ping' }));
      });
      this.helloDone = undefined;
      ws.on('error', () => {});
      ws.on('close', () => this.onClose(ws));
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ action: 'ping' }));
      }, discovery.keepalive_interval_ms);
      this.pingTimer.unref?.();
      return true;
    } catch (err) {
      this.failures++;
      this.retryAt = Date.now() + Math.min(reconnectBackoffMsMax, 500 * 2 ** (this.failures - 1));
      if (!quiet && !this.warned) {
        this.warned = true;
        this.client.logger.warn(`Strand: no notice socket (${(err as Error).message}); polling until it is back.`);
      }
      return false;
    }
  }

  private onClose(ws: WebSocket): void {
    if (this.ws !== ws) return;
    this.ws = undefined;
    clearInterval(this.pingTimer);
    this.pending.clear();
    this.armed.clear();
    // The server closed it (API Gateway does after 2 hours, or its idle timeout):
    // connect again at once and re-arm what still waits. Watches of the old
    // connection went with it. If that fails, the waits end as 'down' and their
    // workers poll until a later wait reconnects.
    const epoch = this.epoch;
    // Nobody waits: the next wait connects.
    if (this.waits.size === 0) return;
    void this.open(true).then((open) => {
      if (epoch !== this.epoch) return;
      if (!open) return this.settleAll('down');
      // A commit may have come while no connection was armed: end the waits so
      // each worker fetches once and arms again on this connection.
      this.settleAll('moved');
    });
  }
}
