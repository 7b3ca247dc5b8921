/**
 * Confluent's Python client (`confluent_kafka`'s SchemaRegistryClient and
 * JSONSerializer / JSONDeserializer) against a local Strand, when a Python
 * with `confluent_kafka` is installed (Debian's python3-confluent-kafka and
 * python3-jsonschema give one); without it these tests are skipped, and say so.
 * AvroSerializer needs fastavro, which Debian does not package: the Avro part
 * is registering and looking up only. How: the script in python/ runs in a
 * child process against the Strand's URL and prints JSON.
 */
import { execFile, execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { expectStatus } from '../support/api';
import { createTopic, topicPath, startTestStrand, type TestStrand } from '../support/localStrand';

const script = path.join(__dirname, 'python', 'confluent_kafka_client.py');

/** The first Python that can import confluent_kafka's registry client and JSON serializer. */
function pythonWithConfluentKafka(): string | undefined {
  for (const python of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(python, ['-c', 'import confluent_kafka.schema_registry.json_schema'], { stdio: 'ignore', timeout: 20_000 });
      return python;
    } catch {
      // Not this one.
    }
  }
  return undefined;
}

const python = pythonWithConfluentKafka();
const whenInstalled = python ? describe : describe.skip;

let strand: TestStrand;
/** Runs the script; asynchronously, as the Strand it talks to answers from this process. */
const run = async (...args: string[]) => JSON.parse((await promisify(execFile)(python!, [script, strand.url, ...args], { encoding: 'utf8', timeout: 60_000 })).stdout);

whenInstalled('confluent_kafka (Python) against Strand', () => {
  beforeAll(async () => {
    strand = await startTestStrand();
  });
  afterAll(() => strand.dispose());

  test('SchemaRegistryClient registers and looks up an Avro schema; JSONSerializer bytes are accepted by a validating topic and read back by JSONDeserializer', async () => {
    await createTopic(strand.http, 'py-json', 1, { 'confluent.value.schema.validation': 'true' });
    const encoded = await run('py-json', 'encode');
    expect(encoded.avroLookupId).toBe(encoded.avroId);
    const value = Buffer.from(encoded.value, 'hex');
    expect(value.readUInt32BE(1)).toBe(encoded.jsonId);
    const res = await strand.http.post(`${topicPath('py-json')}/records`, { value: { type: 'BINARY', data: value.toString('base64') } });
    expectStatus(res, 200);
    const fetched = await strand.http.get(`${topicPath('py-json')}/partitions/0/records?offset=0&embedded_format=binary`);
    const stored = Buffer.from(fetched.json.records[0].value.data, 'base64');
    expect(await run('py-json', 'decode', stored.toString('hex'))).toEqual({ decoded: { id: 1, name: 'Ada' } });
  });
});
