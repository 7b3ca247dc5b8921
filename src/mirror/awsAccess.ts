/**
 * The two AWS calls the mirror's Lambda makes for a side's credentials, through
 * the AWS SDK with the function's own credentials:
 *
 *   Secrets Manager GetSecretValue  an API key stored as a secret (its SecretString,
 *                                   or the `apiKey` field when it is JSON)
 *   STS AssumeRole                  a role in the other side's account, whose
 *                                   temporary credentials then sign that side's requests
 *
 * Both are reads as far as retries go: the SDK may repeat either after it
 * applied, and the answer is the same secret or another set of credentials.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentials } from '../../client/signing';

/** How long assumed-role credentials are asked for, and how early they are renewed. */
export const assumedRoleSeconds = 3600;
const renewBeforeMs = 5 * 60_000;
/** Each AWS call's bound, well inside the mirror's run. */
const awsRequestTimeoutMs = 10_000;

/** Where the SDK clients send their requests: AWS by default; a stand-in in tests. */
export interface AwsEndpoints {
  secretsManager?: string;
  sts?: string;
}

/** The API key held by a Secrets Manager secret: its SecretString, or its `apiKey` (or `api_key`) field when that is JSON. */
export async function readApiKeySecret(secretArn: string, endpoints: AwsEndpoints = {}): Promise<string> {
  const region = secretArn.split(':')[3];
  if (!region) throw new Error(`not a secret ARN: ${secretArn}`);
  const client = new SecretsManagerClient({ region, ...(endpoints.secretsManager ? { endpoint: endpoints.secretsManager } : {}) });
  try {
    const answer = await client.send(new GetSecretValueCommand({ SecretId: secretArn }), { abortSignal: AbortSignal.timeout(awsRequestTimeoutMs) });
    const secret = answer.SecretString;
    if (!secret) throw new Error(`the secret ${secretArn} has no string value`);
    try {
      const json = JSON.parse(secret) as Record<string, unknown>;
      const key = json.apiKey ?? json.api_key;
      if (typeof key === 'string') return key;
    } catch {
      // not JSON: the string is the key
    }
    return secret.trim();
  } finally {
    client.destroy();
  }
}

/** A credential provider for a role assumed with STS (renewed shortly before it expires). */
export function assumedRoleCredentials(roleArn: string, region: string, sessionName: string, endpoints: AwsEndpoints = {}): () => Promise<AwsCredentials> {
  let current: { credentials: AwsCredentials; expiresAt: number } | undefined;
  const client = new STSClient({ region, ...(endpoints.sts ? { endpoint: endpoints.sts } : {}) });
  return async () => {
    if (current && current.expiresAt - renewBeforeMs > Date.now()) return current.credentials;
    const answer = await client.send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName.slice(0, 64), DurationSeconds: assumedRoleSeconds }),
      { abortSignal: AbortSignal.timeout(awsRequestTimeoutMs) },
    );
    const c = answer.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) throw new Error(`STS AssumeRole of ${roleArn}: no credentials in the answer`);
    current = {
      credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
      expiresAt: c.Expiration.getTime(),
    };
    return current.credentials;
  };
}
