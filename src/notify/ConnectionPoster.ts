/**
 * Sends a message down a notice connection: API Gateway's management API on
 * AWS (PostToConnection), the local gateway's socket locally. A connection
 * that is gone (closed, timed out, never existed) answers 'gone', and its
 * watches are then deleted.
 */
import type { ServerMessage } from './protocol';

export interface ConnectionPoster {
  post(connectionId: string, message: ServerMessage): Promise<'sent' | 'gone'>;
}

/** Lazily created, one per process: the client is loaded only by functions that post. */
export function apiGatewayPoster(endpoint: string): ConnectionPoster {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('@aws-sdk/client-apigatewaymanagementapi') as typeof import('@aws-sdk/client-apigatewaymanagementapi');
  const client = new sdk.ApiGatewayManagementApiClient({ endpoint });
  return {
    async post(connectionId, message) {
      try {
        await client.send(new sdk.PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(JSON.stringify(message)) }));
        return 'sent';
      } catch (err) {
        if ((err as { name?: string }).name === 'GoneException') return 'gone';
        throw err;
      }
    },
  };
}
