/**
 * Reference resolution without a registry: a fake lookup over an in-memory
 * map of (subject, version) → schema stands in for the store.
 */
import { referenceDepthMax, referencesFromBody, referencesPerSchemaMax, resolveReferences, type SchemaReference, type VersionLookup } from './references';

type Stored = { schema: string; references: SchemaReference[] };

function lookupOver(versions: Record<string, Stored[]>): VersionLookup {
  return async (subject, spec) => {
    const all = versions[subject];
    if (!all) return undefined;
    const version = spec === 'latest' ? all.length : spec;
    const found = all[version - 1];
    return found && { version, schema: found.schema, schemaType: 'PROTOBUF', references: found.references };
  };
}

const ref = (name: string, subject: string, version = 1): SchemaReference => ({ name, subject, version });

describe('resolving references', () => {
  test('every schema comes after the schemas it references, and a schema reached twice is resolved once', async () => {
    const lookup = lookupOver({
      common: [{ schema: 'common', references: [] }],
      a: [{ schema: 'a', references: [ref('common.proto', 'common')] }],
      b: [{ schema: 'b', references: [ref('common.proto', 'common')] }],
    });
    const { resolved } = await resolveReferences([ref('a.proto', 'a'), ref('b.proto', 'b')], lookup);
    expect(resolved.map((r) => r.schema)).toEqual(['common', 'a', 'b']);
  });

  test('version -1 is pinned to the latest version', async () => {
    const lookup = lookupOver({ s: [{ schema: 'v1', references: [] }, { schema: 'v2', references: [] }] });
    const { pinned, resolved } = await resolveReferences([ref('x', 's', -1)], lookup);
    expect(pinned).toEqual([ref('x', 's', 2)]);
    expect(resolved[0]!.schema).toBe('v2');
  });

  test('a missing subject or version is 42201', async () => {
    const lookup = lookupOver({ s: [{ schema: 'v1', references: [] }] });
    await expect(resolveReferences([ref('x', 'nope')], lookup)).rejects.toMatchObject({ registryCode: 42201 });
    await expect(resolveReferences([ref('x', 's', 2)], lookup)).rejects.toMatchObject({ registryCode: 42201, message: expect.stringMatching(/version 2 of subject 's'/) });
  });

  test(`references nested deeper than ${referenceDepthMax} are refused`, async () => {
    const chain: Record<string, Stored[]> = {};
    for (let i = 0; i <= referenceDepthMax + 1; i++) chain[`s${i}`] = [{ schema: `s${i}`, references: i <= referenceDepthMax ? [ref(`n${i + 1}`, `s${i + 1}`)] : [] }];
    await expect(resolveReferences([ref('n0', 's0')], lookupOver(chain))).rejects.toMatchObject({ registryCode: 42201, message: expect.stringMatching(/nest more than/) });
  });
});

describe('references in a request body', () => {
  test('absent or null is none; a list of {name, subject, version} is taken', () => {
    expect(referencesFromBody(undefined)).toEqual([]);
    expect(referencesFromBody(null)).toEqual([]);
    expect(referencesFromBody([ref('a', 's', 3)])).toEqual([ref('a', 's', 3)]);
  });

  test('anything malformed, a name given twice, or too many references is 42201', () => {
    for (const bad of ['x', [null], [{ name: 'a', subject: 's' }], [{ name: '', subject: 's', version: 1 }], [{ name: 'a', subject: 's', version: 0 }], [ref('a', 's'), ref('a', 't')]]) {
      expect(() => referencesFromBody(bad)).toThrow(expect.objectContaining({ registryCode: 42201 }));
    }
    expect(() => referencesFromBody(Array.from({ length: referencesPerSchemaMax + 1 }, (_, i) => ref(`n${i}`, 's')))).toThrow(expect.objectContaining({ registryCode: 42201 }));
  });
});
