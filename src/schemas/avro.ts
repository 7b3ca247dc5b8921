/**
 * Avro through avsc: parsing a schema as the registry stores it, and the
 * conversion between Avro's JSON encoding (what REST Proxy clients send and
 * receive: unions wrapped as `{"branch": value}`, bytes and fixed as strings of
 * code points 0–255) and avsc's in-memory values.
 *
 * Every avsc Type here is built with `wrapUnions: true`, so avsc's union values
 * are exactly the JSON encoding's wrapped form, and one schema always means one
 * union representation.
 *
 * The JSON → Avro direction is written out rather than left to avsc, so a value
 * that does not fit says where: `Field 'value.data.address.zip' must be an int`.
 */
import * as avro from 'avsc';
import { jsonNestsDeeperThan } from '../jsonNesting';
import { invalidSchema } from './errors';
import { canonicalAvroText } from './avroCanonical';
import type { ResolvedReference } from './references';
import { schemaNestingDepthMax } from './schemaBounds';

export { schemaNestingDepthMax, schemaTextBytesMax } from './schemaBounds';

/** The JSON of a schema text, bounded in nesting before it is parsed: everything after JSON.parse (canonical form, avsc, ajv) recurses per level. */
export function schemaJson(text: string): unknown {
  if (jsonNestsDeeperThan(text, schemaNestingDepthMax)) {
    throw invalidSchema(`Invalid schema: it nests arrays and objects more than ${schemaNestingDepthMax} levels deep.`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalidSchema(`Invalid schema: not JSON (${(err as Error).message}).`);
  }
}

/**
 * An Avro schema text → its avsc Type and canonical text. Referenced schemas
 * are parsed first into one avsc registry, so the schema can name the types
 * they define (Confluent's Avro references); the canonical text is the
 * schema's own, as Confluent stores it, with the references beside it.
 */
export function parseAvroSchema(text: string, resolved: readonly ResolvedReference[] = []): { canonical: string; type: avro.Type } {
  const registry: Record<string, avro.Type> = {};
  for (const ref of resolved) {
    try {
      avro.Type.forSchema(schemaJson(ref.schema) as avro.Schema, { wrapUnions: true, registry });
    } catch (err) {
      throw invalidSchema(`Invalid Avro schema: referenced schema '${ref.name}' does not parse here: ${(err as Error).message}.`);
    }
  }
  const json = schemaJson(text);
  return { canonical: canonicalAvroText(json), type: avroType(json, registry) };
}

export function avroType(schema: unknown, registry: Record<string, avro.Type> = {}): avro.Type {
  try {
    return avro.Type.forSchema(schema as avro.Schema, { wrapUnions: true, registry });
  } catch (err) {
    throw invalidSchema(`Invalid Avro schema: ${(err as Error).message}.`);
  }
}

/** A value that does not fit its schema; `path` names the field (`value.data.address.zip`). */
export class AvroDataError extends Error {
  override name = 'AvroDataError';
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`Field '${path}' ${problem}.`);
  }
}

/** Nesting depth a value may have: recursive schemas must not recurse forever on hostile input. */
const valueDepthMax = 256;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function typeLabel(t: avro.Type): string {
  return t.name ?? t.typeName;
}

/** Bytes and fixed in Avro's JSON encoding: one character per byte, code points 0–255. */
function latin1Bytes(v: unknown, path: string, what: string): Buffer {
  if (typeof v !== 'string') throw new AvroDataError(path, `must be ${what} (a string of code points 0-255), not ${describe(v)}`);
  for (let i = 0; i < v.length; i++) {
    if (v.charCodeAt(i) > 255) throw new AvroDataError(path, `must be ${what}: character ${i} is above code point 255`);
  }
  return Buffer.from(v, 'latin1');
}

/**
 * Avro JSON encoding → avsc value, checking every field. Unions take the wrapped
 * form `{"<branch>": value}`; as a convenience a bare value is also taken when
 * exactly one branch accepts it (so `"x"` works for `["null","string"]`).
 */
export function fromAvroJson(type: avro.Type, v: unknown, path: string, depth = 0): unknown {
  if (depth > valueDepthMax) throw new AvroDataError(path, `is nested deeper than ${valueDepthMax} levels`);
  switch (type.typeName) {
    case 'null':
      if (v !== null) throw new AvroDataError(path, `must be null, not ${describe(v)}`);
      return null;
    case 'boolean':
      if (typeof v !== 'boolean') throw new AvroDataError(path, `must be a boolean, not ${describe(v)}`);
      return v;
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
        throw new AvroDataError(path, `must be an int (32-bit integer), not ${describe(v)}`);
      }
      return v;
    case 'long':
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new AvroDataError(path, `must be a long (an integer within ±2^53), not ${describe(v)}`);
      return v;
    case 'float':
    case 'double':
      if (typeof v !== 'number') throw new AvroDataError(path, `must be a ${type.typeName} (a number), not ${describe(v)}`);
      return v;
    case 'string':
      if (typeof v !== 'string') throw new AvroDataError(path, `must be a string, not ${describe(v)}`);
      return v;
    case 'bytes':
      return latin1Bytes(v, path, 'bytes');
    case 'fixed': {
      const size = (type as avro.types.FixedType).size;
      const b = latin1Bytes(v, path, `fixed ${typeLabel(type)}`);
      if (b.length !== size) throw new AvroDataError(path, `must be ${size} bytes for fixed ${typeLabel(type)}, not ${b.length}`);
      return b;
    }
    case 'enum': {
      const symbols = (type as avro.types.EnumType).symbols;
      if (typeof v !== 'string' || !symbols.includes(v)) {
        throw new AvroDataError(path, `must be one of ${symbols.join(', ')} (enum ${typeLabel(type)}), not ${describe(v)}`);
      }
      return v;
    }
    case 'array': {
      if (!Array.isArray(v)) throw new AvroDataError(path, `must be an array, not ${describe(v)}`);
      const items = (type as avro.types.ArrayType).itemsType;
      return v.map((item, i) => fromAvroJson(items, item, `${path}[${i}]`, depth + 1));
    }
    case 'map': {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new AvroDataError(path, `must be an object (map), not ${describe(v)}`);
      const values = (type as avro.types.MapType).valuesType as avro.Type;
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) out[k] = fromAvroJson(values, item, `${path}.${k}`, depth + 1);
      return out;
    }
    case 'record':
    case 'error': {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new AvroDataError(path, `must be an object (record ${typeLabel(type)}), not ${describe(v)}`);
      const fields = (type as avro.types.RecordType).fields;
      const obj = v as Record<string, unknown>;
      for (const key of Object.keys(obj)) {
        if (!fields.some((f) => f.name === key)) throw new AvroDataError(`${path}.${key}`, `is not a field of record ${typeLabel(type)}`);
      }
      const out: Record<string, unknown> = {};
      for (const f of fields) {
        if (obj[f.name] === undefined) {
          const fallback = f.defaultValue();
          if (fallback === undefined) throw new AvroDataError(`${path}.${f.name}`, `is required by record ${typeLabel(type)} (it has no default)`);
          out[f.name] = fallback;
        } else {
          out[f.name] = fromAvroJson(f.type, obj[f.name], `${path}.${f.name}`, depth + 1);
        }
      }
      return out;
    }
    case 'union:wrapped':
      return unionFromJson(type as avro.types.WrappedUnionType, v, path, depth);
    default:
      // Logical types resolve to their underlying type (we do not register logical type implementations).
      throw new AvroDataError(path, `has Avro type ${type.typeName}, which Strand cannot convert from JSON`);
  }
}

function branchName(t: avro.Type): string {
  return t.branchName ?? t.typeName;
}

function unionFromJson(type: avro.types.WrappedUnionType, v: unknown, path: string, depth: number): unknown {
  const branches = type.types;
  if (v === null) {
    if (branches.some((b) => b.typeName === 'null')) return null;
    throw new AvroDataError(path, `must be one of ${branches.map(branchName).join(', ')}, not null`);
  }
  if (typeof v === 'object' && !Array.isArray(v)) {
    const keys = Object.keys(v);
    const branch = keys.length === 1 ? branches.find((b) => branchName(b) === keys[0]) : undefined;
    if (branch) return { [branchName(branch)]: fromAvroJson(branch, (v as Record<string, unknown>)[keys[0]!], `${path}.${keys[0]}`, depth + 1) };
  }
  // A bare value: taken when exactly one non-null branch accepts it.
  const fits: { name: string; value: unknown }[] = [];
  for (const b of branches) {
    if (b.typeName === 'null') continue;
    try {
      fits.push({ name: branchName(b), value: fromAvroJson(b, v, path, depth + 1) });
    } catch (err) {
      if (!(err instanceof AvroDataError)) throw err;
    }
  }
  if (fits.length === 1) return { [fits[0]!.name]: fits[0]!.value };
  const names = branches.map(branchName).join(', ');
  if (fits.length > 1) throw new AvroDataError(path, `matches several branches of union [${names}]; wrap it as {"<branch>": value}`);
  throw new AvroDataError(path, `must be one of union [${names}] (wrapped as {"<branch>": value}), not ${describe(v)}`);
}

/** avsc value → Avro JSON encoding (wrapped unions, bytes as code points 0–255), as REST Proxy returns it. */
export function toAvroJson(type: avro.Type, value: unknown): unknown {
  return JSON.parse(type.toString(value));
}

/** Encodes Avro JSON data to Avro binary, or throws AvroDataError naming the field. */
export function encodeAvroJson(type: avro.Type, data: unknown, path: string): Buffer {
  const value = fromAvroJson(type, data, path);
  let bad: string | undefined;
  if (!type.isValid(value, { errorHook: (p) => (bad ??= p.join('.')) })) {
    throw new AvroDataError(bad ? `${path}.${bad}` : path, 'does not match the schema');
  }
  return type.toBuffer(value);
}
