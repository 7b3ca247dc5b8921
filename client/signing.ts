/**
 * SigV4 signing for a Strand deployed behind API Gateway with IAM authorization.
 * Credentials come from the AWS SDK's default chain (environment, SSO, web
 * identity, shared ini files, container and instance metadata), resolved lazily
 * and refreshed by the provider when they expire.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SigningOptions {
  /** The API's region, e.g. `eu-west-1`. */
  region: string;
  /** @default 'execute-api' */
  service?: string;
  /** Fixed credentials or a provider; @default the AWS SDK's default credential chain. */
  credentials?: AwsCredentials | (() => Promise<AwsCredentials>);
}

export interface UnsignedRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: Uint8Array;
}

export type RequestSigner = (request: UnsignedRequest) => Promise<Record<string, string>>;

/** Returns a function that gives the headers to send (the input's plus the signature's). */
export function createSigner(options: SigningOptions): RequestSigner {
  const signer = new SignatureV4({
    credentials: options.credentials ?? defaultProvider(),
    region: options.region,
    service: options.service ?? 'execute-api',
    sha256: Sha256,
  });
  return async ({ method, url, headers, body }) => {
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of url.searchParams) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      headers: { ...headers, host: url.host },
      body,
    });
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(signed.headers)) if (k !== 'host') out[k] = String(v);
    return out;
  };
}
