/**
 * The Lambda's two AWS calls, against a stubbed fetch: the request each sends
 * (signed, to the right endpoint) and how each answer is read.
 */
import { assumedRoleCredentials, readApiKeySecret, type FetchLike } from './awsAccess';

const saved = { ...process.env };
beforeAll(() => {
  process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret';
});
afterAll(() => {
  process.env = saved;
});

function stub(answer: (url: string, body?: string) => { status: number; body: string }) {
  const calls: { url: string; headers: Record<string, string>; body?: string }[] = [];
  const fetchImpl: FetchLike = async (url, init) => {
    calls.push({ url, headers: init.headers, body: init.body });
    const a = answer(url, init.body);
    return { status: a.status, text: async () => a.body };
  };
  return { calls, fetchImpl };
}

const arn = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:west-key-AbCdEf';

describe('readApiKeySecret', () => {
  test('GetSecretValue in the secret\'s region, signed; a plain string is the key, JSON gives its apiKey', async () => {
    const plain = stub(() => ({ status: 200, body: JSON.stringify({ SecretString: 'strand_abc\n' }) }));
    expect(await readApiKeySecret(arn, plain.fetchImpl)).toBe('strand_abc');
    expect(plain.calls[0]!.url).toBe('https://secretsmanager.eu-west-1.amazonaws.com/');
    expect(plain.calls[0]!.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(plain.calls[0]!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d+\/eu-west-1\/secretsmanager\/aws4_request/);
    expect(JSON.parse(plain.calls[0]!.body!)).toEqual({ SecretId: arn });
    const json = stub(() => ({ status: 200, body: JSON.stringify({ SecretString: JSON.stringify({ apiKey: 'strand_json' }) }) }));
    expect(await readApiKeySecret(arn, json.fetchImpl)).toBe('strand_json');
  });

  test('a refusal is an error naming the service and status', async () => {
    const denied = stub(() => ({ status: 400, body: '{"__type":"AccessDeniedException"}' }));
    await expect(readApiKeySecret(arn, denied.fetchImpl)).rejects.toThrow(/secretsmanager answered 400: .*AccessDenied/);
  });
});

describe('assumedRoleCredentials', () => {
  test('AssumeRole once, reused until shortly before it expires', async () => {
    const expiration = new Date(Date.now() + 3_600_000).toISOString();
    const sts = stub(() => ({
      status: 200,
      body: `<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s1</SecretAccessKey><SessionToken>t1</SessionToken><Expiration>${expiration}</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>`,
    }));
    const provider = assumedRoleCredentials('arn:aws:iam::222222222222:role/reader', 'us-east-1', 'strand-mirror-east', sts.fetchImpl);
    expect(await provider()).toEqual({ accessKeyId: 'ASIA1', secretAccessKey: 's1', sessionToken: 't1' });
    expect(await provider()).toEqual({ accessKeyId: 'ASIA1', secretAccessKey: 's1', sessionToken: 't1' });
    expect(sts.calls).toHaveLength(1);
    const url = new URL(sts.calls[0]!.url);
    expect(url.host).toBe('sts.us-east-1.amazonaws.com');
    expect(Object.fromEntries(url.searchParams)).toEqual(expect.objectContaining({ Action: 'AssumeRole', RoleArn: 'arn:aws:iam::222222222222:role/reader', RoleSessionName: 'strand-mirror-east' }));
    expect(sts.calls[0]!.headers.authorization).toMatch(/\/us-east-1\/sts\/aws4_request/);
  });
});
