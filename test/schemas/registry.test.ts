/**
 * The schema registry over HTTP, at the Confluent Schema Registry's paths, with
 * its bodies and error codes. How: a real local Strand; each test uses its own
 * subjects, so tests do not see each other's versions.
 */
import { expectError, expectStatus } from '../support/api';
import { startTestStrand, type TestStrand } from '../support/localStrand';
import { registryOf } from '../../src/schemas/SchemaRegistry';
import { expectIncompatible, register, registryRequest, registryType, setCompatibility, user } from './support';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

const req = (method: string, path: string, body?: unknown) => registryRequest(strand.http, method, path, body);
const schemaBody = (schema: unknown) => ({ schema: JSON.stringify(schema) });

describe('register and read', () => {
  test('registering is idempotent: the same schema gets the same id, under any subject and whatever its whitespace', async () => {
    const id = await register(strand.http, 'reg-a', user.v1);
    expect(id).toBeGreaterThan(0);
    expect(await register(strand.http, 'reg-a', user.v1)).toBe(id);
    const spaced = await req('POST', '/subjects/reg-a/versions', { schema: JSON.stringify(user.v1, null, 4) });
    expect(spaced.json).toEqual({ id });
    expect(await register(strand.http, 'reg-b', user.v1)).toBe(id);
    const versions = await req('GET', '/subjects/reg-a/versions');
    expect(versions.json).toEqual([1]);
    const other = await register(strand.http, 'reg-a', user.addFieldWithDefault);
    expect(other).not.toBe(id);
    expect((await req('GET', '/subjects/reg-a/versions')).json).toEqual([1, 2]);
  });

  test('concurrent registrations of one new schema under many subjects agree on one id', async () => {
    const schema = { type: 'record', name: 'Race', fields: [{ name: 'n', type: 'int' }] };
    const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => register(strand.http, `race-${i % 3}`, schema)));
    expect(new Set(ids).size).toBe(1);
    for (let i = 0; i < 3; i++) expect((await req('GET', `/subjects/race-${i}/versions`)).json).toEqual([1]);
  });

  test('get by id, raw schema, and where an id is used', async () => {
    const schema = { type: 'record', name: 'ById', fields: [{ name: 'x', type: 'string' }] };
    const id = await register(strand.http, 'byid-1', schema);
    await register(strand.http, 'byid-2', schema);
    const res = await req('GET', `/schemas/ids/${id}`);
    expectStatus(res, 200);
    expect(res.headers.get('content-type')).toContain(registryType);
    expect(JSON.parse(res.json.schema)).toEqual(schema);
    expect((await req('GET', `/schemas/ids/${id}/schema`)).json).toEqual(schema);
    expect((await req('GET', `/schemas/ids/${id}/subjects`)).json.sort()).toEqual(['byid-1', 'byid-2']);
    expect((await req('GET', `/schemas/ids/${id}/versions`)).json).toEqual(
      expect.arrayContaining([{ subject: 'byid-1', version: 1 }, { subject: 'byid-2', version: 1 }]),
    );
    expectError(await req('GET', '/schemas/ids/999999'), 40403);
    expectError(await req('GET', '/schemas/ids/abc'), 40403);
    expect((await req('GET', '/schemas/types')).json).toEqual(['AVRO', 'JSON', 'PROTOBUF']);
  });

  test('subjects, versions, a version by number, latest and -1', async () => {
    await register(strand.http, 'ver', user.v1);
    const v2 = await register(strand.http, 'ver', user.addFieldWithDefault);
    expect((await req('GET', '/subjects')).json).toEqual(expect.arrayContaining(['ver']));
    const latest = await req('GET', '/subjects/ver/versions/latest');
    expectStatus(latest, 200);
    expect(latest.json).toEqual({ subject: 'ver', version: 2, id: v2, schema: JSON.stringify(user.addFieldWithDefault) });
    expect((await req('GET', '/subjects/ver/versions/-1')).json.version).toBe(2);
    expect((await req('GET', '/subjects/ver/versions/1')).json.version).toBe(1);
    expect((await req('GET', '/subjects/ver/versions/1/schema')).json).toEqual(user.v1);
    expectError(await req('GET', '/subjects/ver/versions/3'), 40402);
    expectError(await req('GET', '/subjects/ver/versions/abc'), 42202);
    expectError(await req('GET', '/subjects/ver/versions/0'), 42202);
    expectError(await req('GET', '/subjects/nope/versions'), 40401);
    expectError(await req('GET', '/subjects/nope/versions/latest'), 40401);
  });

  test('looking a schema up under a subject: 40401 for an unknown subject, 40403 for an unregistered schema', async () => {
    const id = await register(strand.http, 'look', user.v1);
    const found = await req('POST', '/subjects/look', schemaBody(user.v1));
    expectStatus(found, 200);
    expect(found.json).toEqual({ subject: 'look', id, version: 1, schema: JSON.stringify(user.v1) });
    expectError(await req('POST', '/subjects/look', schemaBody(user.removeField)), 40403);
    expectError(await req('POST', '/subjects/look-nope', schemaBody(user.v1)), 40401);
  });

  test('an invalid schema is 42201; plain application/json is accepted and other content types are 415', async () => {
    expectError(await req('POST', '/subjects/bad/versions', { schema: '{"type": "record", "name": "X", "fields": [{"name": "a", "type": "nope"}]}' }), 42201);
    expectError(await req('POST', '/subjects/bad/versions', { schema: '{not json' }), 42201);
    expectError(await req('POST', '/subjects/bad/versions', { schema: '' }), 42201);
    expectError(await req('POST', '/subjects/bad/versions', { schema: '"string"', schemaType: 'PROTOBUF' }), 42201);
    expectError(await req('POST', '/subjects/bad/versions', { schema: '"string"', references: [{ name: 'x', subject: 'y', version: 1 }] }), 42201);
    expectError(await strand.http.request('POST', '/subjects/bad/versions', { body: 'x', headers: { 'content-type': 'text/plain' } }), 41501);
    expectError(await strand.http.request('POST', '/subjects/bad/versions', { body: '{', headers: { 'content-type': 'application/json' } }), 40001);
    const plain = await strand.http.post('/subjects/plain-json/versions', { schema: '"string"' });
    expectStatus(plain, 200);
    expectError(await req('GET', '/subjects/bad/versions'), 40401);
  });
});

describe('deleting', () => {
  test('a soft-deleted version is hidden unless deleted=true, and a permanent delete needs the soft delete first', async () => {
    await register(strand.http, 'del-v', user.v1);
    await register(strand.http, 'del-v', user.addFieldWithDefault);
    await register(strand.http, 'del-v', { ...user.addFieldWithDefault, doc: 'third' });
    expectError(await req('DELETE', '/subjects/del-v/versions/2?permanent=true'), 40407);
    const soft = await req('DELETE', '/subjects/del-v/versions/2');
    expectStatus(soft, 200);
    expect(soft.json).toBe(2);
    expect((await req('GET', '/subjects/del-v/versions')).json).toEqual([1, 3]);
    expect((await req('GET', '/subjects/del-v/versions?deleted=true')).json).toEqual([1, 2, 3]);
    expectError(await req('GET', '/subjects/del-v/versions/2'), 40402);
    expect((await req('GET', '/subjects/del-v/versions/2?deleted=true')).json.version).toBe(2);
    expectError(await req('DELETE', '/subjects/del-v/versions/2'), 40406);
    expect((await req('DELETE', '/subjects/del-v/versions/2?permanent=true')).json).toBe(2);
    expect((await req('GET', '/subjects/del-v/versions?deleted=true')).json).toEqual([1, 3]);
    expectError(await req('DELETE', '/subjects/del-v/versions/9'), 40402);
    // latest
    expect((await req('DELETE', '/subjects/del-v/versions/latest')).json).toBe(3);
    expect((await req('GET', '/subjects/del-v/versions/latest')).json.version).toBe(1);
  });

  test('a subject: soft delete hides it, a second soft delete is 40404, permanent needs the soft delete (40405); ids stay readable', async () => {
    const id = await register(strand.http, 'del-s', { type: 'record', name: 'DelS', fields: [{ name: 'a', type: 'int' }] });
    await req('PUT', '/config/del-s', { compatibility: 'NONE' });
    await register(strand.http, 'del-s', { type: 'record', name: 'DelS', fields: [{ name: 'b', type: 'int' }] });
    expectError(await req('DELETE', '/subjects/del-s?permanent=true'), 40405);
    const soft = await req('DELETE', '/subjects/del-s');
    expect(soft.json).toEqual([1, 2]);
    expect((await req('GET', '/subjects')).json).not.toContain('del-s');
    expect((await req('GET', '/subjects?deleted=true')).json).toContain('del-s');
    expectError(await req('GET', '/subjects/del-s/versions'), 40401);
    expectError(await req('DELETE', '/subjects/del-s'), 40404);
    expect((await req('DELETE', '/subjects/del-s?permanent=true')).json).toEqual([1, 2]);
    expect((await req('GET', '/subjects?deleted=true')).json).not.toContain('del-s');
    expectError(await req('DELETE', '/subjects/del-s'), 40401);
    expectError(await req('GET', '/config/del-s'), 40408);
    expectStatus(await req('GET', `/schemas/ids/${id}`), 200);
    // Registering again starts the subject afresh at version 1, with the same global id.
    expect(await register(strand.http, 'del-s', { type: 'record', name: 'DelS', fields: [{ name: 'a', type: 'int' }] })).toBe(id);
    expect((await req('GET', '/subjects/del-s/versions')).json).toEqual([1]);
  });
});

describe('registering while the last version is deleted permanently', () => {
  const race = (name: string) => ({ type: 'record', name, fields: [{ name: 'a', type: 'int' }] });

  test('a version registered after the delete read the subject stays listed', async () => {
    await register(strand.http, 'race-unlist', race('RaceA'));
    expectStatus(await req('DELETE', '/subjects/race-unlist/versions/1'), 200);
    const registry = registryOf(strand.runtime);
    const versions = registry.store.versions.bind(registry.store);
    const spy = jest.spyOn(registry.store, 'versions');
    let raced = false;
    // The registration reads [v1 (soft-deleted)]; before it writes v2, v1 is deleted permanently and the subject unlisted.
    spy.mockImplementation(async (subject) => {
      const out = await versions(subject);
      if (subject === 'race-unlist' && !raced) {
        raced = true;
        spy.mockImplementation(versions);
        await registry.deleteVersion('race-unlist', 1, true);
      }
      return out;
    });
    try {
      expect(await registry.register('race-unlist', JSON.stringify(race('RaceB')))).toMatchObject({ version: 2 });
    } finally {
      spy.mockRestore();
    }
    expect(raced).toBe(true);
    expect((await req('GET', '/subjects/race-unlist/versions')).json).toEqual([2]);
    expect((await req('GET', '/subjects')).json).toContain('race-unlist');
  });

  test('a version registered before the delete unlists the subject keeps it listed', async () => {
    await register(strand.http, 'race-relist', race('RaceC'));
    expectStatus(await req('DELETE', '/subjects/race-relist/versions/1'), 200);
    const registry = registryOf(strand.runtime);
    const removeSubject = registry.store.removeSubject.bind(registry.store);
    const spy = jest.spyOn(registry.store, 'removeSubject').mockImplementation(async (subject) => {
      // The delete read [v1] only; a whole registration lands before it unlists the subject.
      if (subject === 'race-relist') await registry.register('race-relist', JSON.stringify(race('RaceD')));
      await removeSubject(subject);
    });
    try {
      expect((await req('DELETE', '/subjects/race-relist/versions/1?permanent=true')).json).toBe(1);
    } finally {
      spy.mockRestore();
    }
    // The registration saw no versions left, so it started afresh at 1 (as after any permanent delete).
    expect((await req('GET', '/subjects/race-relist/versions')).json).toEqual([1]);
    expect((await req('GET', '/subjects/race-relist/versions/1')).json.schema).toContain('RaceD');
    expect((await req('GET', '/subjects')).json).toContain('race-relist');
  });
});

describe('compatibility configuration', () => {
  test('global level: BACKWARD by default, set, reset', async () => {
    expect((await req('GET', '/config')).json).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect((await req('PUT', '/config', { compatibility: 'FULL' })).json).toEqual({ compatibility: 'FULL' });
    expect((await req('GET', '/config')).json).toEqual({ compatibilityLevel: 'FULL' });
    expectError(await req('PUT', '/config', { compatibility: 'SIDEWAYS' }), 42203);
    expect((await req('DELETE', '/config')).json).toEqual({ compatibilityLevel: 'FULL' });
    expect((await req('GET', '/config')).json).toEqual({ compatibilityLevel: 'BACKWARD' });
  });

  test('per subject: 40408 until set, defaultToGlobal, and the subject level wins over the global one', async () => {
    expectError(await req('GET', '/config/cfg'), 40408);
    expect((await req('GET', '/config/cfg?defaultToGlobal=true')).json).toEqual({ compatibilityLevel: 'BACKWARD' });
    await setCompatibility(strand.http, 'cfg', 'NONE');
    expect((await req('GET', '/config/cfg')).json).toEqual({ compatibilityLevel: 'NONE' });
    await register(strand.http, 'cfg', user.v1);
    // NONE lets an incompatible change through on this subject while the global level is BACKWARD.
    await register(strand.http, 'cfg', user.changeType);
    expect((await req('DELETE', '/config/cfg')).json).toEqual({ compatibilityLevel: 'NONE' });
    expectError(await req('DELETE', '/config/cfg'), 40408);
    expectIncompatible(await req('POST', '/subjects/cfg/versions', schemaBody(user.promoteIntToLong)));
  });

  test('the check endpoint answers is_compatible (with messages when verbose) against a version or latest', async () => {
    await register(strand.http, 'chk', user.v1);
    const yes = await req('POST', '/compatibility/subjects/chk/versions/latest', schemaBody(user.addFieldWithDefault));
    expectStatus(yes, 200);
    expect(yes.json).toEqual({ is_compatible: true });
    const no = await req('POST', '/compatibility/subjects/chk/versions/1?verbose=true', schemaBody(user.addFieldWithoutDefault));
    expect(no.json.is_compatible).toBe(false);
    expect(no.json.messages.join(' ')).toMatch(/email/);
    expect((await req('POST', '/compatibility/subjects/chk/versions', schemaBody(user.changeType))).json).toEqual({ is_compatible: false });
    expectError(await req('POST', '/compatibility/subjects/chk-nope/versions/latest', schemaBody(user.v1)), 40401);
    expectError(await req('POST', '/compatibility/subjects/chk/versions/5', schemaBody(user.v1)), 40402);
    expectError(await req('POST', '/compatibility/subjects/chk/versions/x', schemaBody(user.v1)), 42202);
    // Nothing was registered by checking.
    expect((await req('GET', '/subjects/chk/versions')).json).toEqual([1]);
  });
});

describe('identity is the parsed schema (as Confluent compares it), not the text', () => {
  const forms = [
    '{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"int"},{"name":"next","type":["null","Order"],"default":null}]}',
    '{"fields":[{"type":{"type":"int"},"name":"id"},{"default":null,"name":"next","type":["null","shop.Order"]}],"name":"shop.Order","type":"record"}',
    '{"name":"Order","type":"record","namespace":"shop","fields":[{"name":"id","type":"int"},{"name":"next","type":[{"type":"null"},"Order"],"default":null}]}',
  ];

  test('every form of one schema registers as one id and one version', async () => {
    const ids = [];
    for (const schema of forms) {
      const res = await req('POST', '/subjects/forms-value/versions', { schema });
      expectStatus(res, 200);
      ids.push(res.json.id);
    }
    expect(new Set(ids).size).toBe(1);
    expect((await req('GET', '/subjects/forms-value/versions')).json).toEqual([1]);
    // The stored text is the canonical form, as Confluent returns it.
    expect((await req('GET', '/subjects/forms-value/versions/1')).json.schema).toBe(forms[0]);
  });

  test('a lookup by another form of a registered schema finds it; a different schema is still 40403', async () => {
    await req('POST', '/subjects/forms-lookup/versions', { schema: forms[0] });
    const found = await req('POST', '/subjects/forms-lookup', { schema: forms[1] });
    expectStatus(found, 200);
    expect(found.json).toMatchObject({ subject: 'forms-lookup', version: 1 });
    const other = forms[0]!.replace('"default":null', '"default":null,"doc":"changed"');
    expectError(await req('POST', '/subjects/forms-lookup', { schema: other }), 40403);
  });
});

describe("Confluent's listing routes", () => {
  test('GET /subjects?subjectPrefix= lists the subjects that start with it', async () => {
    for (const s of ['pfx-a-value', 'pfx-b-value', 'other-pfx-value']) expectStatus(await req('POST', `/subjects/${s}/versions`, schemaBody('string')), 200);
    expect((await req('GET', '/subjects?subjectPrefix=pfx-')).json).toEqual(['pfx-a-value', 'pfx-b-value']);
  });

  test('GET /schemas lists every version, latestOnly each subject\'s newest, with subject, version, id and schema', async () => {
    expectStatus(await req('POST', '/subjects/lst-value/versions', schemaBody({ type: 'record', name: 'L', fields: [] })), 200);
    expectStatus(await req('POST', '/subjects/lst-value/versions', schemaBody({ type: 'record', name: 'L', fields: [{ name: 'x', type: 'int', default: 0 }] })), 200);
    const all = (await req('GET', '/schemas?subjectPrefix=lst-')).json;
    expect(all.map((s: { subject: string; version: number }) => [s.subject, s.version])).toEqual([['lst-value', 1], ['lst-value', 2]]);
    expect(all[1].schema).toContain('"x"');
    const latest = (await req('GET', '/schemas?subjectPrefix=lst-&latestOnly=true')).json;
    expect(latest.map((s: { version: number }) => s.version)).toEqual([2]);
    expect((await req('GET', '/schemas?subjectPrefix=lst-&offset=1&limit=1')).json.map((s: { version: number }) => s.version)).toEqual([2]);
  });

  test('GET / answers an empty object, as Confluent does', async () => {
    const res = await req('GET', '/');
    expectStatus(res, 200);
    expect(res.json).toEqual({});
  });
});

describe("the registry's mode (Confluent's /mode)", () => {
  afterEach(async () => {
    await req('DELETE', '/mode');
  });

  test('READWRITE by default; a read-only subject refuses registering and deleting with 42205 and changes nothing, and reads still work', async () => {
    expect((await req('GET', '/mode')).json).toEqual({ mode: 'READWRITE' });
    expectStatus(await req('POST', '/subjects/ro-value/versions', schemaBody('string')), 200);
    expect((await req('PUT', '/mode/ro-value', { mode: 'READONLY' })).json).toEqual({ mode: 'READONLY' });
    expect((await req('GET', '/mode/ro-value')).json).toEqual({ mode: 'READONLY' });
    expectError(await req('POST', '/subjects/ro-value/versions', schemaBody('int')), 42205);
    expectError(await req('DELETE', '/subjects/ro-value'), 42205);
    expect((await req('GET', '/subjects/ro-value/versions')).json).toEqual([1]);
    expectStatus(await req('POST', '/subjects/ro-value', schemaBody('string')), 200);
    // Other subjects keep the global mode.
    expectStatus(await req('POST', '/subjects/rw-value/versions', schemaBody('string')), 200);
    expect((await req('DELETE', '/mode/ro-value')).json).toEqual({ mode: 'READONLY' });
    expectStatus(await req('POST', '/subjects/ro-value/versions', schemaBody('string')), 200);
    expectStatus(await req('DELETE', '/subjects/ro-value'), 200);
  });

  test('a global READONLY applies to every subject without its own mode; an invalid mode is 42204; a subject without one is 40409 unless defaultToGlobal', async () => {
    expectStatus(await req('PUT', '/mode', { mode: 'READONLY' }), 200);
    expectError(await req('POST', '/subjects/glob-value/versions', schemaBody('string')), 42205);
    expectError(await req('PUT', '/mode', { mode: 'SOMETIMES' }), 42204);
    expectError(await req('GET', '/mode/glob-value'), 40409);
    expect((await req('GET', '/mode/glob-value?defaultToGlobal=true')).json).toEqual({ mode: 'READONLY' });
  });
});
