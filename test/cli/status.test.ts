/**
 * `strand status` and consume's Avro decoding, run as child processes against
 * a real local Strand. How: topics with known records and a group with known
 * lag are summed by hand; an Avro schema registered through the CLI encodes
 * records that consume then prints as JSON.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestStrand, type TestStrand } from '../support/localStrand';
import { freePort, runCli } from './run';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

const strandCli = (args: string[], options: { input?: string; env?: Record<string, string> } = {}) => runCli(strand.url, args, options);

describe('strand status', () => {
  test('one row per topic: partitions, records, the last minute, groups with their lag; totals; --json', async () => {
    expect((await strandCli(['status'])).stdout).toMatch(/^No topics\.\n0 topics, 0 partitions, 0 records .* 0 groups, 0 members, total lag 0 at http/);
    await strandCli(['topics', 'create', 'cli-st-orders', '--partitions', '3']);
    await strandCli(['topics', 'create', 'cli-st-one']);
    await strandCli(['produce', 'cli-st-orders', '-K', ':'], { input: Array.from({ length: 12 }, (_, i) => `k${i}:v${i}`).join('\n') + '\n' });
    await strandCli(['produce', 'cli-st-one'], { input: Array.from({ length: 10 }, (_, i) => `r${i}`).join('\n') + '\n' });
    // A group that read 4 of the 10 (one partition, so the 4 are known): lag 6.
    expect((await strandCli(['consume', 'cli-st-one', '-g', 'cli-st-billing', '-o', 'beginning', '-c', '4'])).code).toBe(0);

    const status = await strandCli(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/TOPIC\s+PARTITIONS\s+RECORDS\s+LAST MIN\s+GROUPS \(LAG\)\s+LAG/);
    expect(status.stdout).toMatch(/cli-st-one\s+1\s+10\s+10\s+cli-st-billing \(6\)\s+6\n/);
    expect(status.stdout).toMatch(/cli-st-orders\s+3\s+12\s+12\s+-\s+0\n/);
    expect(status.stdout).toMatch(/2 topics, 4 partitions, 22 records \(22 in the last minute\); 1 group, 0 members, total lag 6 at http:\/\/127\.0\.0\.1:\d+\n$/);

    const json = JSON.parse((await strandCli(['--json', 'status'])).stdout);
    expect(json.totals).toEqual({ topics: 2, partitions: 4, records: 22, recordsLastMinute: 22, groups: 1, members: 0, lag: 6 });
    expect(json.topics.find((t: { topic: string }) => t.topic === 'cli-st-one')).toEqual({
      topic: 'cli-st-one',
      partitions: 1,
      records: 10,
      recordsLastMinute: 10,
      groups: [{ group: 'cli-st-billing', lag: 6 }],
      lag: 6,
    });
    expect(json.groups).toEqual([{ group: 'cli-st-billing', state: 'EMPTY', members: 0, lag: 6 }]);
  });

  test('an unreachable server: exit 1, one line (JSON under --json)', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const run = await strandCli(['--json', 'status'], { env: { STRAND_URL: dead } });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(JSON.parse(run.stderr)).toMatchObject({ error_code: 50300 });
  });
});

describe('consume decodes the Confluent wire format', () => {
  test('Avro values produced with a schema id print as JSON (with value_schema_id under --json); --no-decode prints the stored bytes; other values are untouched', async () => {
    const schema = join(strand.dataDir, 'user.avsc');
    writeFileSync(schema, JSON.stringify({ type: 'record', name: 'User', fields: [{ name: 'id', type: 'int' }, { name: 'name', type: 'string' }] }));
    const registered = await strandCli(['--json', 'schemas', 'register', 'cli-st-users-value', '--file', schema]);
    const { id } = JSON.parse(registered.stdout) as { id: number };
    await strandCli(['topics', 'create', 'cli-st-users']);
    expect((await strandCli(['produce', 'cli-st-users', '--value-schema-id', String(id)], { input: '{"id":1,"name":"ada"}\n{"id":2,"name":"bo"}\n' })).code).toBe(0);
    // A plain value beside them, and one that starts with a zero byte but names no schema: both print as they are.
    await strandCli(['produce', 'cli-st-users'], { input: 'plain text\n' });
    const fake = Buffer.concat([Buffer.from([0, 0, 0, 0x30, 0x39]), Buffer.from('not avro')]);
    expect((await strand.http.request('POST', '/v3/clusters/local/topics/cli-st-users/records', { json: { value: { type: 'BINARY', data: fake.toString('base64') } } })).status).toBe(200);

    const decoded = await strandCli(['consume', 'cli-st-users', '-o', 'beginning', '-e']);
    expect(decoded.code).toBe(0);
    expect(decoded.stderr).not.toContain('strand:');
    expect(decoded.stdout).toBe(`{"id":1,"name":"ada"}\n{"id":2,"name":"bo"}\nplain text\n${fake.toString('utf8')}\n`);
    const json = (await strandCli(['--json', 'consume', 'cli-st-users', '-o', 'beginning', '-c', '1'])).stdout;
    expect(JSON.parse(json)).toMatchObject({ offset: 0, value: { id: 1, name: 'ada' }, value_schema_id: id });

    const raw = await strandCli(['consume', 'cli-st-users', '-o', 'beginning', '-c', '1', '--no-decode', '--format', '%S']);
    // 5 bytes of prefix, then Avro: zigzag int 1 (1 byte), a string of 3 (1 + 3 bytes).
    expect(raw.stdout).toBe('10\n');
  });

  test('a JSON Schema value prints as its JSON; a Protobuf one as stored, with one warning naming its schema id', async () => {
    const register = async (subject: string, body: object) =>
      (await strand.http.request('POST', `/subjects/${subject}/versions`, { json: body, headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' } })).json.id as number;
    const jsonId = await register('cli-st-json-value', { schemaType: 'JSON', schema: JSON.stringify({ type: 'object', properties: { n: { type: 'integer' } } }) });
    const protoId = await register('cli-st-proto-value', { schemaType: 'PROTOBUF', schema: 'syntax = "proto3";\nmessage M { int32 n = 1; }\n' });
    const wire = (id: number, payload: Buffer) => Buffer.concat([Buffer.from([0]), Buffer.from([id >>> 24, (id >>> 16) & 255, (id >>> 8) & 255, id & 255]), payload]);
    await strandCli(['topics', 'create', 'cli-st-formats']);
    const values = [wire(jsonId, Buffer.from('{"n":7}')), wire(protoId, Buffer.from([0, 8, 7])), wire(protoId, Buffer.from([0, 8, 8]))];
    for (const v of values) {
      expect((await strand.http.request('POST', '/v3/clusters/local/topics/cli-st-formats/records', { json: { value: { type: 'BINARY', data: v.toString('base64') } } })).status).toBe(200);
    }
    const run = await strandCli(['--json', 'consume', 'cli-st-formats', '-o', 'beginning', '-e']);
    expect(run.code).toBe(0);
    const [json, proto1, proto2] = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(json).toMatchObject({ value: { n: 7 }, value_schema_id: jsonId });
    expect(proto1.value_schema_id).toBeUndefined();
    expect(Buffer.from(proto1.value as string, 'utf8').subarray(0, 5)).toEqual(values[1]!.subarray(0, 5));
    expect(proto2.value_schema_id).toBeUndefined();
    expect(run.stderr.match(/strand: schema id \d+: could not decode/g)).toHaveLength(1);
    expect(run.stderr).toContain(`schema id ${protoId}: could not decode a value (a PROTOBUF schema)`);
  });
});
