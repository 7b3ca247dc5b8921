/**
 * JSON Schema through ajv: parsing a schema as the registry stores it, and
 * validating values against it (produce-side validation).
 *
 * Dialects, chosen by `$schema` as Confluent's registry chooses them: draft-06
 * and draft-07 (also when `$schema` is absent), 2019-09 and 2020-12. Draft-04
 * is refused (ajv 8 dropped it). `format` is an annotation here, not checked:
 * ajv's formats live in another package, and a value that a registry's
 * validator refuses for a format a producer's serializer never checks would be
 * refused for nothing. Unknown keywords are allowed (`strict: false`), as
 * schemas generated from code carry their own (`connect.index`, `javaType`).
 *
 * References: each referenced schema is added to the validator under its
 * reference name, and also under that name resolved against the schema's
 * `$id` (so `"$ref": "address.json"` in a schema with `$id`
 * `https://example.com/order.json` finds it).
 *
 * Identity: the canonical text is the JSON with object keys sorted, so key
 * order and whitespace do not make another schema.
 */
import Ajv, { type AnySchema, type ValidateFunction } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json';
import { schemaJson } from './avro';
import { invalidSchema } from './errors';
import type { ResolvedReference } from './references';

export interface JsonSchemaParsed {
  canonical: string;
  /** The schema as JSON (an object or a boolean schema). */
  schema: unknown;
  /** The referenced schemas by reference name, for compatibility checks that follow a `$ref` out of the schema. */
  referenced: ReadonlyMap<string, unknown>;
  validate: ValidateFunction;
}

/** A JSON value with object keys sorted: equal for texts that differ only in key order and whitespace. */
export function sortedJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedJson);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortedJson((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

type Dialect = 'draft-07' | '2019-09' | '2020-12';

function dialectOf(schema: unknown): Dialect {
  const uri = schema !== null && typeof schema === 'object' ? (schema as Record<string, unknown>).$schema : undefined;
  if (uri === undefined) return 'draft-07';
  if (typeof uri !== 'string') throw invalidSchema(`Invalid JSON Schema: '$schema' must be a string.`);
  if (/draft-0[67]\/schema#?$/.test(uri)) return 'draft-07';
  if (uri.includes('/2019-09/')) return '2019-09';
  if (uri.includes('/2020-12/')) return '2020-12';
  throw invalidSchema(`Invalid JSON Schema: '$schema' ${uri} is not a supported dialect (draft-06, draft-07, 2019-09, 2020-12).`);
}

const ajvOptions = { strict: false, validateFormats: false, allErrors: false, logger: false as const };

/**
 * One checker per dialect, kept: it only validates schemas against their
 * meta-schema, which it compiles once. Compiling the meta-schema again for
 * every schema cost ~150 ms a parse.
 */
const metaCheckers = new Map<Dialect, Ajv>();

function metaCheckerFor(dialect: Dialect): Ajv {
  let ajv = metaCheckers.get(dialect);
  if (!ajv) {
    ajv = dialect === '2019-09' ? new Ajv2019(ajvOptions) : dialect === '2020-12' ? new Ajv2020(ajvOptions) : new Ajv(ajvOptions);
    if (dialect === 'draft-07') ajv.addMetaSchema(draft06);
    metaCheckers.set(dialect, ajv);
  }
  return ajv;
}

/** A validator for one schema and its references: its own instance, so the referenced schemas added to it are that schema's scope alone. */
function validatorFor(dialect: Dialect): Ajv {
  const options = { ...ajvOptions, meta: false, validateSchema: false };
  if (dialect === '2019-09') return new Ajv2019(options);
  if (dialect === '2020-12') return new Ajv2020(options);
  return new Ajv(options);
}

/** 42201 unless the schema is valid against its dialect's meta-schema. */
function checkAgainstMetaSchema(dialect: Dialect, schema: unknown, what: string): void {
  const checker = metaCheckerFor(dialect);
  if (!checker.validateSchema(schema as AnySchema)) {
    throw invalidSchema(`Invalid JSON Schema${what}: ${checker.errorsText(checker.errors, { dataVar: 'schema' })}.`);
  }
}

function idOf(schema: unknown): string | undefined {
  const id = schema !== null && typeof schema === 'object' ? (schema as Record<string, unknown>).$id : undefined;
  return typeof id === 'string' ? id : undefined;
}

/** The names a referenced schema answers to: its reference name, and that name resolved against the referring schema's `$id`. */
function namesFor(refName: string, baseId: string | undefined): string[] {
  const names = [refName];
  if (baseId !== undefined) {
    try {
      const resolved = new URL(refName, baseId).href;
      if (resolved !== refName) names.push(resolved);
    } catch {
      // A base that is not a URL: the plain name is all there is.
    }
  }
  return names;
}

/** A schema object without its `$id`, so it can be added under other names than the one it declares. */
function withoutId(schema: unknown): unknown {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const { $id: _id, ...rest } = schema as Record<string, unknown>;
  return rest;
}

export function parseJsonSchema(text: string, resolved: readonly ResolvedReference[] = []): JsonSchemaParsed {
  const schema = schemaJson(text);
  if (typeof schema !== 'boolean' && (schema === null || typeof schema !== 'object' || Array.isArray(schema))) {
    throw invalidSchema('Invalid JSON Schema: a schema is an object or a boolean.');
  }
  const dialect = dialectOf(schema);
  checkAgainstMetaSchema(dialect, schema, '');
  const ajv = validatorFor(dialect);
  const referenced = new Map<string, unknown>();
  const baseId = idOf(schema);
  try {
    for (const ref of resolved) {
      const refSchema = schemaJson(ref.schema);
      checkAgainstMetaSchema(dialectOf(refSchema), refSchema, ` (referenced as '${ref.name}')`);
      referenced.set(ref.name, refSchema);
      for (const name of namesFor(ref.name, baseId)) ajv.addSchema(withoutId(refSchema) as AnySchema, name);
      // Its own $id too, where it declares one (how serializers that add references by $id find them).
      const ownId = idOf(refSchema);
      if (ownId !== undefined && !namesFor(ref.name, baseId).includes(ownId) && ajv.getSchema(ownId) === undefined) ajv.addSchema(refSchema as AnySchema, ownId);
    }
  } catch (err) {
    throw invalidSchema(`Invalid JSON Schema: a referenced schema does not load: ${(err as Error).message}.`);
  }
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema as AnySchema);
  } catch (err) {
    throw invalidSchema(`Invalid JSON Schema: ${(err as Error).message}.`);
  }
  return { canonical: JSON.stringify(sortedJson(schema)), schema, referenced, validate };
}

/** Why a value does not satisfy the schema (ajv's first error, with where), or undefined when it does. */
export function jsonSchemaProblem(parsed: JsonSchemaParsed, value: unknown): string | undefined {
  if (parsed.validate(value)) return undefined;
  const e = parsed.validate.errors?.[0];
  if (!e) return 'does not match the schema';
  return `${e.instancePath === '' ? 'the document' : `'${e.instancePath}'`} ${e.message ?? 'does not match the schema'}`;
}
