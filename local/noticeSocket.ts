/**
 * The local stand-in for API Gateway's WebSocket API: a real WebSocket server
 * on the gateway's port, at /v3/notifications, invoking the same route
 * handlers (src/notify/socketHandlers.ts) with the same events, and posting
 * notices as PostToConnection does. It enforces what API Gateway enforces:
 *
 *   $connect answers non-2xx     the upgrade is refused with that status
 *   message over 128 KB          closed with 1009 (API Gateway: "Message too big")
 *   10 minutes without a frame   closed with 1001 (idle timeout)
 *   2 hours after connect        closed with 1001 (maximum connection duration)
 *   post to a closed connection  'gone' (GoneException, 410)
 *
 * Routing is API Gateway's `$request.body.action`: a known action reaches its
 * route, anything else (including non-JSON) reaches $default. Every route is
 * one handler here, as on AWS, so the route key only tells the handler which.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ConnectionPoster } from '../src/notify/ConnectionPoster';
import { clientActions, connectionIdleMsMax, connectionLifetimeMsMax, messageBytesMax, noticeSocketPath, type ServerMessage } from '../src/notify/protocol';
import { createSocketHandler, type SocketEvent, type SocketResult } from '../src/notify/socketHandlers';
import type { Runtime } from '../src/runtime';

export interface NoticeSocketOptions {
  /** Tests shorten API Gateway's limits rather than wait for them. */
  idleMsMax?: number;
  lifetimeMsMax?: number;
}

/** What the socket counted, for the bench's idle-cost measurement (API Gateway bills connection-minutes and messages). */
export interface NoticeSocketStats {
  connections: number;
  open: number;
  /** Messages from clients (each a billed message and a Lambda invocation on AWS). */
  messagesIn: number;
  /** Messages to clients: route replies and notices (billed messages). */
  messagesOut: number;
  notices: number;
  /** Connection time of closed connections plus open ones so far. */
  connectionMs: number;
  /** Invocations of the route handler ($connect and $disconnect included): Lambda requests on AWS. */
  invocations: number;
  /** Handler wall time: Lambda duration on AWS. */
  invocationMs: number;
}

export interface NoticeSocket {
  poster: ConnectionPoster;
  stats(): NoticeSocketStats;
  close(): Promise<void>;
}

interface Connection {
  id: string;
  ws: WebSocket;
  openedAt: number;
  idleTimer: NodeJS.Timeout;
  lifeTimer: NodeJS.Timeout;
}

/** API Gateway's connection ids look like "L0SM9cOFvHcCIhw=": 10 random bytes, base64. */
const newConnectionId = () => randomBytes(10).toString('base64');

export function attachNoticeSocket(server: Server, runtime: Runtime, options: NoticeSocketOptions = {}): NoticeSocket {
  const idleMsMax = options.idleMsMax ?? connectionIdleMsMax;
  const lifetimeMsMax = options.lifetimeMsMax ?? connectionLifetimeMsMax;
  const connections = new Map<string, Connection>();
  const counts = { connections: 0, messagesIn: 0, messagesOut: 0, notices: 0, closedMs: 0, invocations: 0, invocationMs: 0 };
  const running = new Set<Promise<unknown>>();
  let closing = false;

  const send = (c: Connection, message: ServerMessage | string): void => {
    counts.messagesOut++;
    c.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  };
  const poster: ConnectionPoster = {
    async post(connectionId, message) {
      const c = connections.get(connectionId);
      if (!c || c.ws.readyState !== c.ws.OPEN) return 'gone';
      counts.notices++;
      send(c, message);
      return 'sent';
    },
  };
  const handler = createSocketHandler(() => runtime, () => poster);
  const invoke = async (event: SocketEvent): Promise<SocketResult> => {
    const started = Date.now();
    counts.invocations++;
    const call = handler(event);
    running.add(call);
    try {
      return await call;
    } finally {
      running.delete(call);
      counts.invocationMs += Date.now() - started;
    }
  };

  const wss = new WebSocketServer({ noServer: true, maxPayload: messageBytesMax });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== noticeSocketPath) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const id = newConnectionId();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
    invoke({ requestContext: { connectionId: id, routeKey: '$connect', eventType: 'CONNECT' }, headers }).then(
      (result) => {
        if (result.statusCode < 200 || result.statusCode > 299) {
          const body = result.body ?? '';
          socket.end(`HTTP/1.1 ${result.statusCode} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => opened(id, ws));
      },
      (err: unknown) => {
        runtime.logger.error('notice socket: $connect failed', { error: String(err) });
        socket.end('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      },
    );
  };
  server.on('upgrade', onUpgrade);

  const opened = (id: string, ws: WebSocket) => {
    counts.connections++;
    const c: Connection = {
      id,
      ws,
      openedAt: Date.now(),
      idleTimer: setTimeout(() => ws.close(1001, 'Going away: idle timeout'), idleMsMax),
      lifeTimer: setTimeout(() => ws.close(1001, 'Going away: maximum connection duration'), lifetimeMsMax),
    };
    c.idleTimer.unref();
    c.lifeTimer.unref();
    connections.set(id, c);
    ws.on('message', (data, isBinary) => {
      c.idleTimer.refresh();
      counts.messagesIn++;
      const body = isBinary ? Buffer.from(data as Buffer).toString('base64') : String(data);
      invoke({ requestContext: { connectionId: id, routeKey: routeOf(body), eventType: 'MESSAGE' }, body, isBase64Encoded: isBinary }).then(
        (result) => {
          if (result.body !== undefined && ws.readyState === ws.OPEN) send(c, result.body);
        },
        (err: unknown) => {
          runtime.logger.error('notice socket: route failed', { error: String(err) });
          // API Gateway answers a failed integration with this message.
          if (ws.readyState === ws.OPEN) send(c, JSON.stringify({ message: 'Internal server error', connectionId: id }));
        },
      );
    });
    // Over maxPayload, ws closes with 1009 itself, as API Gateway does.
    ws.on('error', () => {});
    ws.on('close', () => {
      clearTimeout(c.idleTimer);
      clearTimeout(c.lifeTimer);
      connections.delete(id);
      counts.closedMs += Date.now() - c.openedAt;
      // Storage closes right after the socket on shutdown; the items expire (ttl) instead.
      if (closing) return;
      invoke({ requestContext: { connectionId: id, routeKey: '$disconnect', eventType: 'DISCONNECT' } }).catch((err: unknown) =>
        runtime.logger.warn('notice socket: $disconnect failed', { error: String(err) }),
      );
    });
  };

  return {
    poster,
    stats: () => {
      const now = Date.now();
      let openMs = 0;
      for (const c of connections.values()) openMs += now - c.openedAt;
      const { closedMs, ...rest } = counts;
      return { ...rest, open: connections.size, connectionMs: closedMs + openMs };
    },
    close: async () => {
      closing = true;
      server.off('upgrade', onUpgrade);
      for (const c of connections.values()) c.ws.terminate();
      wss.close();
      await Promise.allSettled([...running]);
    },
  };
}

/** API Gateway's route selection on `$request.body.action`. */
function routeOf(body: string): string {
  try {
    const action = (JSON.parse(body) as { action?: unknown }).action;
    return typeof action === 'string' && (clientActions as readonly string[]).includes(action) ? action : '$default';
  } catch {
    return '$default';
  }
}
