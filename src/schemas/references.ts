/**
 * Schema references, as Confluent's registry has them: a schema names other
 * registered schemas by `{name, subject, version}`, and is parsed with them in
 * scope — Avro named types defined in a referenced schema, a JSON Schema
 * `$ref` to the reference's name, a Protobuf `import "<name>"`.
 *
 * Resolution walks the references of references too (a referenced .proto may
 * import another), depth first, so every schema comes after the schemas it
 * needs; one (subject, version) reached twice (a diamond) is resolved once.
 * A reference to a subject or version that does not exist makes the schema
 * invalid (42201), as Confluent answers.
 */
import { subjectCharsMax } from './schemaBounds';
import { invalidSchema } from './errors';
import type { SchemaType } from './schemaTypes';

export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

/** A referenced schema's text, in scope under `name` while parsing the schema that (transitively) references it. */
export interface ResolvedReference {
  name: string;
  subject: string;
  version: number;
  schema: string;
  schemaType: SchemaType;
}

/** References one schema may list. */
export const referencesPerSchemaMax = 64;
/** Longest chain of references of references followed. */
export const referenceDepthMax = 16;
/** Schemas one parse may pull in through references, transitively. */
export const referencedSchemasMax = 256;
/** Longest reference name (a file name for Protobuf, a URI for JSON Schema, a type name for Avro). */
export const referenceNameCharsMax = 1_024;

const int32Max = 2 ** 31 - 1;

/** The `references` of a request body, checked: absent or null is none; anything malformed is 42201. */
export function referencesFromBody(raw: unknown): SchemaReference[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalidSchema(`Field 'references' must be an array of {name, subject, version}.`);
  if (raw.length > referencesPerSchemaMax) throw invalidSchema(`A schema may have at most ${referencesPerSchemaMax} references, not ${raw.length}.`);
  const names = new Set<string>();
  return raw.map((r, i) => {
    const at = `references[${i}]`;
    if (r === null || typeof r !== 'object' || Array.isArray(r)) throw invalidSchema(`Field '${at}' must be an object {name, subject, version}.`);
    const { name, subject, version } = r as Record<string, unknown>;
    if (typeof name !== 'string' || name === '' || name.length > referenceNameCharsMax) throw invalidSchema(`Field '${at}.name' must be a non-empty string of at most ${referenceNameCharsMax} characters.`);
    if (typeof subject !== 'string' || subject === '' || subject.length > subjectCharsMax) throw invalidSchema(`Field '${at}.subject' must be a non-empty string of at most ${subjectCharsMax} characters.`);
    if (typeof version !== 'number' || !Number.isInteger(version) || (version < 1 && version !== -1) || version > int32Max) {
      throw invalidSchema(`Field '${at}.version' must be a version number (1 to 2^31-1) or -1 for the latest.`);
    }
    if (names.has(name)) throw invalidSchema(`Reference name '${name}' is given twice.`);
    names.add(name);
    return { name, subject, version };
  });
}

/** A registered version as resolution needs it; undefined when the subject or version does not exist (or is soft-deleted). */
export type VersionLookup = (subject: string, version: number | 'latest') => Promise<
  { version: number; schema: string; schemaType: SchemaType; references: SchemaReference[] } | undefined
>;

/**
 * The references' schemas, each after the schemas it references, with `-1`
 * versions pinned to the version they resolved to (what is stored: a reference
 * names one schema for good, as Confluent stores it).
 */
export async function resolveReferences(
  references: readonly SchemaReference[],
  lookup: VersionLookup,
): Promise<{ pinned: SchemaReference[]; resolved: ResolvedReference[] }> {
  const resolved: ResolvedReference[] = [];
  const seen = new Set<string>();
  const visit = async (refs: readonly SchemaReference[], depth: number, path: string): Promise<SchemaReference[]> => {
    if (depth > referenceDepthMax) throw invalidSchema(`Invalid schema: references nest more than ${referenceDepthMax} levels deep (${path}).`);
    const pinned: SchemaReference[] = [];
    for (const ref of refs) {
      const found = await lookup(ref.subject, ref.version === -1 ? 'latest' : ref.version);
      if (!found) {
        throw invalidSchema(`Invalid schema: reference '${ref.name}' names version ${ref.version === -1 ? 'latest' : ref.version} of subject '${ref.subject}', which does not exist.`);
      }
      pinned.push({ name: ref.name, subject: ref.subject, version: found.version });
      const key = `${found.version}\u0000${ref.subject}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (seen.size > referencedSchemasMax) throw invalidSchema(`Invalid schema: it pulls in more than ${referencedSchemasMax} schemas through references.`);
      await visit(found.references, depth + 1, `${path} → ${ref.name}`);
      resolved.push({ name: ref.name, subject: ref.subject, version: found.version, schema: found.schema, schemaType: found.schemaType });
    }
    return pinned;
  };
  const pinned = await visit(references, 1, 'schema');
  return { pinned, resolved };
}
