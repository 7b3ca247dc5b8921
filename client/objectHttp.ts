/**
 * The SDK's requests straight to S3 on the direct data plane: presigned PUTs
 * of batch objects and presigned ranged GETs. Plain node:http(s) rather than
 * fetch: the bodies are large and already in memory, and undici's web streams
 * cost the consumer about as much CPU per MiB as decoding the records (measured
 * in `npm run bench`). Network errors reject; statuses are returned, not thrown.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface ObjectResponse {
  status: number;
  body: Buffer;
}

export function objectRequest(
  method: 'GET' | 'PUT',
  url: string,
  headers: Record<string, string>,
  body?: Buffer,
  signal?: AbortSignal,
): Promise<ObjectResponse> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<ObjectResponse>((resolve, reject) => {
    const req = send(
      target,
      { method, headers: body ? { ...headers, 'content-length': String(body.length) } : headers, ...(signal ? { signal } : {}) },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let length = 0;
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          length += chunk.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
