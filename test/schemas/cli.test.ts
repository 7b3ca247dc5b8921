/**
 * `strand schemas …` and `strand produce --value-schema-id`, run as child
 * processes against a real local Strand. How: what the CLI registers is read
 * back over HTTP, and what it produces is fetched and read by the test's own
 * wire-format reader plus avsc.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as avro from 'avsc';
import { runCli } from '../cli/run';
import { highWatermark } from '../support/api';
import { createTopic, startTestStrand, type TestStrand } from '../support/localStrand';
import { readWire, registryRequest, user } from './support';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

const strandCli = (args: string[], input?: string) => runCli(strand.url, args, input === undefined ? {} : { input });
function schemaFile(name: string, schema: unknown): string {
  const path = join(strand.dataDir, name);
  writeFileSync(path, JSON.stringify(schema, null, 2));
  return path;
}

describe('strand schemas', () => {
  test('register, list, get (latest and --version), --json', async () => {
    const v1 = schemaFile('v1.avsc', user.v1);
    const v2 = schemaFile('v2.avsc', user.addFieldWithDefault);
    const reg = await strandCli(['schemas', 'register', 'cli-users-value', '--file', v1]);
    expect(reg.stderr).toBe('');
    expect(reg.code).toBe(0);
    expect(reg.stdout).toMatch(/^Registered schema id \d+ as version 1 of subject 'cli-users-value'\./);
    const reg2 = await strandCli(['--json', 'schemas', 'register', 'cli-users-value', '--file', v2]);
    expect(reg2.code).toBe(0);
    const { id, version } = JSON.parse(reg2.stdout);
    expect(version).toBe(2);

    const list = await strandCli(['schemas', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`cli-users-value\\s+2\\s+${id}`));

    const latest = await strandCli(['schemas', 'get', 'cli-users-value']);
    expect(latest.code).toBe(0);
    expect(latest.stdout).toContain(`Subject 'cli-users-value' version 2, schema id ${id}:`);
    expect(latest.stdout).toContain('"email"');
    const first = await strandCli(['--json', 'schemas', 'get', 'cli-users-value', '--version', '1']);
    expect(JSON.parse(first.stdout)).toEqual(expect.objectContaining({ version: 1, schema: user.v1 }));

    const missing = await strandCli(['schemas', 'get', 'cli-nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Subject 'cli-nope' not found\. \(error 40401\)\n/);
  });

  test('check: exit 0 when compatible, exit 1 with the reason when not; nothing is registered', async () => {
    await registryRequest(strand.http, 'POST', '/subjects/cli-check/versions', { schema: JSON.stringify(user.v1) });
    const ok = await strandCli(['schemas', 'check', 'cli-check', '--file', schemaFile('ok.avsc', user.addFieldWithDefault)]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^Compatible: .*\(BACKWARD\)/);
    const bad = await strandCli(['schemas', 'check', 'cli-check', '--file', schemaFile('bad.avsc', user.addFieldWithoutDefault)]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Incompatible with subject 'cli-check' \(BACKWARD\): .*email/);
    expect((await registryRequest(strand.http, 'GET', '/subjects/cli-check/versions')).json).toEqual([1]);
    const noFile = await strandCli(['schemas', 'check', 'cli-check']);
    expect(noFile.code).toBe(2);
  });
});

describe('strand produce --value-schema-id', () => {
  test('JSON lines are encoded with the schema and stored in the wire format', async () => {
    await createTopic(strand.http, 'cli-avro');
    const reg = await registryRequest(strand.http, 'POST', '/subjects/cli-avro-value/versions', { schema: JSON.stringify(user.v1) });
    const id = reg.json.id as number;
    const lines = [{ id: 1, name: 'a' }, { id: 2, name: 'b' }, { id: 3, name: 'c' }].map((l) => JSON.stringify(l)).join('\n') + '\n';
    const produced = await strandCli(['produce', 'cli-avro', '--value-schema-id', String(id)], lines);
    expect(produced.stderr).toBe('');
    expect(produced.code).toBe(0);
    expect(produced.stdout).toMatch(/^Produced 3 records/);

    const res = await strand.http.get('/v3/clusters/local/topics/cli-avro/partitions/0/records?offset=0&embedded_format=binary');
    const type = avro.Type.forSchema(user.v1 as avro.Schema);
    const values = (res.json.records as { value: { data: string } }[]).map((r) => {
      const wire = readWire(Buffer.from(r.value.data, 'base64'));
      expect(wire.schemaId).toBe(id);
      return { ...type.fromBuffer(wire.payload) };
    });
    expect(values).toEqual([{ id: 1, name: 'a' }, { id: 2, name: 'b' }, { id: 3, name: 'c' }]);
  });

  test('a line that does not fit the schema stops the run naming the line and field; an unknown id fails before reading', async () => {
    await createTopic(strand.http, 'cli-avro-bad');
    const reg = await registryRequest(strand.http, 'POST', '/subjects/cli-avro-bad-value/versions', { schema: JSON.stringify(user.v1) });
    const bad = await strandCli(['produce', 'cli-avro-bad', '--value-schema-id', String(reg.json.id)], '{"id": 1, "name": "a"}\n{"id": "two", "name": "b"}\n');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/line 2: Field 'data\.id' must be an int/);
    expect(await highWatermark(strand.http, 'cli-avro-bad')).toBe(0);
    const notJson = await strandCli(['produce', 'cli-avro-bad', '--value-schema-id', String(reg.json.id)], 'not json\n');
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/line 1 is not JSON/);
    const unknown = await strandCli(['produce', 'cli-avro-bad', '--value-schema-id', '98765'], '{}\n');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/Schema with id 98765 not found\. \(error 40403\)/);
  });
});
