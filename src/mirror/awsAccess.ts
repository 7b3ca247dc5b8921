/**
 * The two AWS calls the mirror's Lambda makes for a side's credentials, over
 * SigV4-signed HTTPS with the function's own credentials (the deployment
 * bundles no Secrets Manager or STS client, and each is one request):
 *
 *   Secrets Manager GetSecretValue  an API key stored as a secret (its SecretString,
 *                                   or the `apiKey` field when it is JSON)
 *   STS AssumeRole                  a role in the other side's account, whose
 *                                   temporary credentials then sign that side's requests
 */
import { createSigner, type AwsCredentials } from '../../client/signing';

/** How long assumed-role credentials are asked for, and how early they are renewed. */
export const assumedRoleSeconds = 3600;
const renewBeforeMs = 5 * 60_000;
const awsRequestTimeoutMs = 10_000;

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<{ status: number; text(): Promise<string> }>;

async function signedRequest(
  service: string,
  region: string,
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  fetchImpl: FetchLike,
): Promise<string> {
  const sign = createSigner({ region, service });
  const signed = await sign({ method, url, headers, ...(body !== undefined ? { body: Buffer.from(body) } : {}) });
  const res = await fetchImpl(url.toString(), { method, headers: signed, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(awsRequestTimeoutMs) });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${service} answered ${res.status}: ${text.slice(0, 300)}`);
  return text;
}

/** The API key held by a Secrets Manager secret: its SecretString, or its `apiKey` (or `api_key`) field when that is JSON. */
export async function readApiKeySecret(secretArn: string, fetchImpl: FetchLike = fetch as unknown as FetchLike): Promise<string> {
  const region = secretArn.split(':')[3];
  if (!region) throw new Error(`not a secret ARN: ${secretArn}`);
  const text = await signedRequest(
    'secretsmanager',
    region,
    new URL(`https://secretsmanager.${region}.amazonaws.com/`),
    'POST',
    { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue' },
    JSON.stringify({ SecretId: secretArn }),
    fetchImpl,
  );
  const secret = (JSON.parse(text) as { SecretString?: string }).SecretString;
  if (!secret) throw new Error(`the secret ${secretArn} has no string value`);
  try {
    const json = JSON.parse(secret) as Record<string, unknown>;
    const key = json.apiKey ?? json.api_key;
    if (typeof key === 'string') return key;
  } catch {
    // not JSON: the string is the key
  }
  return secret.trim();
}

/** A credential provider for a role assumed with STS (renewed shortly before it expires). */
export function assumedRoleCredentials(roleArn: string, region: string, sessionName: string, fetchImpl: FetchLike = fetch as unknown as FetchLike): () => Promise<AwsCredentials> {
  let current: { credentials: AwsCredentials; expiresAt: number } | undefined;
  return async () => {
    if (current && current.expiresAt - renewBeforeMs > Date.now()) return current.credentials;
    const url = new URL(`https://sts.${region}.amazonaws.com/`);
    url.searchParams.set('Action', 'AssumeRole');
    url.searchParams.set('Version', '2011-06-15');
    url.searchParams.set('RoleArn', roleArn);
    url.searchParams.set('RoleSessionName', sessionName.slice(0, 64));
    url.searchParams.set('DurationSeconds', String(assumedRoleSeconds));
    const xml = await signedRequest('sts', region, url, 'GET', {}, undefined, fetchImpl);
    const field = (name: string) => {
      const m = new RegExp(`<${name}>([^<]+)</${name}>`).exec(xml);
      if (!m) throw new Error(`STS AssumeRole of ${roleArn}: no ${name} in the answer`);
      return m[1]!;
    };
    current = {
      credentials: { accessKeyId: field('AccessKeyId'), secretAccessKey: field('SecretAccessKey'), sessionToken: field('SessionToken') },
      expiresAt: Date.parse(field('Expiration')),
    };
    return current.credentials;
  };
}
