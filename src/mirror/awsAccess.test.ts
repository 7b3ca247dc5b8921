/**
 * The Lambda's two AWS calls, made by the real SDK clients against a local
 * HTTP stand-in for Secrets Manager and STS: the request each sends (signed,
 * the right operation) and how each answer is read.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { assumedRoleCredentials, readApiKeySecret } from './awsAccess';

interface Seen { url: string; headers: IncomingMessage['headers']; body: string }

const saved = { ...process.env };
let server: Server;
let endpoint: string;
let seen: Seen[] = [];
let answer: (req: Seen) => { status: number; type: string; body: string } = () => ({ status: 500, type: 'text/plain', body: '' });

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret';
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(s);
      const a = answer(s);
      res.writeHead(a.status, { 'content-type': a.type }).end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  process.env = saved;
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  seen = [];
});

const arn = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:west-key-AbCdEf';
const json = (status: number, body: unknown) => ({ status, type: 'application/x-amz-json-1.1', body: JSON.stringify(body) });

describe('readApiKeySecret', () => {
  test("GetSecretValue in the secret's region, signed; a plain string is the key, JSON gives its apiKey", async () => {
    answer = () => json(200, { ARN: arn, SecretString: 'strand_abc\n' });
    expect(await readApiKeySecret(arn, { secretsManager: endpoint })).toBe('strand_abc');
    expect(seen[0]!.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(seen[0]!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d+\/eu-west-1\/secretsmanager\/aws4_request/);
    expect(JSON.parse(seen[0]!.body)).toEqual({ SecretId: arn });
    answer = () => json(200, { ARN: arn, SecretString: JSON.stringify({ apiKey: 'strand_json' }) });
    expect(await readApiKeySecret(arn, { secretsManager: endpoint })).toBe('strand_json');
  });

  test('a refusal is an error naming what was refused', async () => {
    answer = () => json(400, { __type: 'AccessDeniedException', message: 'not allowed to read west-key' });
    await expect(readApiKeySecret(arn, { secretsManager: endpoint })).rejects.toThrow(/not allowed to read west-key/);
  });

  test('a secret with no string value is an error', async () => {
    answer = () => json(200, { ARN: arn, SecretBinary: Buffer.from('x').toString('base64') });
    await expect(readApiKeySecret(arn, { secretsManager: endpoint })).rejects.toThrow(/no string value/);
  });
});

describe('assumedRoleCredentials', () => {
  test('AssumeRole once, reused until shortly before it expires', async () => {
    const expiration = new Date(Date.now() + 3_600_000).toISOString();
    answer = () => ({
      status: 200,
      type: 'text/xml',
      body: `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s1</SecretAccessKey><SessionToken>t1</SessionToken><Expiration>${expiration}</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>`,
    });
    const provider = assumedRoleCredentials('arn:aws:iam::222222222222:role/reader', 'us-east-1', 'strand-mirror-east', { sts: endpoint });
    expect(await provider()).toEqual({ accessKeyId: 'ASIA1', secretAccessKey: 's1', sessionToken: 't1' });
    expect(await provider()).toEqual({ accessKeyId: 'ASIA1', secretAccessKey: 's1', sessionToken: 't1' });
    expect(seen).toHaveLength(1);
    expect(Object.fromEntries(new URLSearchParams(seen[0]!.body))).toEqual(
      expect.objectContaining({ Action: 'AssumeRole', RoleArn: 'arn:aws:iam::222222222222:role/reader', RoleSessionName: 'strand-mirror-east', DurationSeconds: '3600' }),
    );
    expect(seen[0]!.headers.authorization).toMatch(/\/us-east-1\/sts\/aws4_request/);
  });

  test('credentials about to expire are asked for again', async () => {
    let n = 0;
    answer = () => {
      n += 1;
      const expiration = new Date(Date.now() + 60_000).toISOString();
      return { status: 200, type: 'text/xml', body: `<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA${n}</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>${expiration}</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>` };
    };
    const provider = assumedRoleCredentials('arn:aws:iam::222222222222:role/reader', 'us-east-1', 'strand-mirror-east', { sts: endpoint });
    expect((await provider()).accessKeyId).toBe('ASIA1');
    expect((await provider()).accessKeyId).toBe('ASIA2');
  });
});
