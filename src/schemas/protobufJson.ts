/**
 * Protobuf's JSON mapping, as Confluent uses it on both sides of REST Proxy:
 *
 *   produce  `data` → message: ProtobufSchemaUtils.toObject, which is
 *            `JsonFormat.parser().merge(json, schema.newMessageBuilder())`
 *   consume  message → JSON: ProtobufSchemaUtils.toJson, which is
 *            `JsonFormat.printer().includingDefaultValueFields()
 *               .omittingInsignificantWhitespace().print(message)`
 *
 * (io.confluent.kafka.schemaregistry.protobuf.ProtobufSchemaUtils; kafka-rest's
 * ProtobufConverter and SchemaRecordSerializerImpl call them.) What that means,
 * per protobuf-java-util's JsonFormat and the proto3 JSON mapping:
 *
 * - field names: printed as their JSON name (`json_name`, else lowerCamelCase
 *   of the proto name); parsed from either the JSON name or the proto name;
 *   an unknown field is refused; fields print in field-number order
 * - int64, uint64, sint64, fixed64, sfixed64: printed as decimal strings;
 *   parsed from strings or numbers; 32-bit integers as numbers
 * - float and double: numbers, "NaN", "Infinity", "-Infinity"
 * - bytes: base64 (parsed also URL-safe, padding optional)
 * - enums: the value's name (its number when it has none); parsed from a
 *   name or a number; google.protobuf.NullValue is `null`
 * - repeated fields: arrays; maps: objects with string keys
 * - defaults (includingDefaultValueFields): a scalar, repeated or map field
 *   that is not set is printed with its default; an unset message field and
 *   the unset members of a oneof (proto3 `optional` included) are not
 * - well-known types: Timestamp (RFC 3339, `Z`), Duration (`"1.5s"`), the
 *   wrappers (their value), Struct / Value / ListValue (plain JSON),
 *   FieldMask (comma-separated lowerCamelCase paths), Empty (`{}`), Any
 *   (`{"@type": url, …}`, the packed type looked up in the schema's types)
 * - `null` for a field means the field is not set (for a google.protobuf.Value
 *   field, a JSON null)
 *
 * The parser builds the plain object protobufjs's `fromObject` takes (every
 * value already checked), so the message encodes exactly what was parsed.
 */
import * as protobuf from 'protobufjs';

/** A `data` value that does not fit its message; `path` names the field (`value.data.items[0].price`). */
export class ProtobufJsonError extends Error {
  override name = 'ProtobufJsonError';
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`Field '${path}' ${problem}.`);
  }
}

/** Nesting depth a value may have: recursive messages must not recurse forever on hostile input. */
const valueDepthMax = 256;

/** The `long` package protobufjs carries (protobuf.util.Long), typed for what is used here. */
interface LongLike {
  low: number;
  high: number;
  unsigned: boolean;
  toString(): string;
  toNumber(): number;
}
interface LongStatic {
  fromBits(low: number, high: number, unsigned?: boolean): LongLike;
  fromString(text: string, unsigned?: boolean): LongLike;
  fromNumber(n: number, unsigned?: boolean): LongLike;
}
const Long = protobuf.util.Long as unknown as LongStatic;
const keyTypeOf = (field: protobuf.Field) => (field as unknown as protobuf.MapField).keyType;

const int32Types = new Set(['int32', 'sint32', 'sfixed32']);
const uint32Types = new Set(['uint32', 'fixed32']);
const int64Types = new Set(['int64', 'sint64', 'sfixed64']);
const uint64Types = new Set(['uint64', 'fixed64']);

const wellKnown = '.google.protobuf.';
const wrapperTypes = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue'].map((n) => wellKnown + n));
/** The types JsonFormat prints in a form of their own: inside an Any, their JSON goes under "value". */
const ownFormTypes = new Set([...wrapperTypes, ...['Timestamp', 'Duration', 'FieldMask', 'Struct', 'Value', 'ListValue', 'Any'].map((n) => wellKnown + n)]);

/** JsonFormat's field name: `json_name` when declared, else the proto name in lowerCamelCase (protoc's ToJsonName). */
export function jsonNameOf(field: protobuf.Field): string {
  const declared = (field.options as Record<string, unknown> | undefined)?.json_name;
  if (typeof declared === 'string') return declared;
  return lowerCamel(field.name);
}

function lowerCamel(name: string): string {
  let out = '';
  let upper = false;
  for (const c of name) {
    if (c === '_') upper = true;
    else if (upper) {
      out += c.toUpperCase();
      upper = false;
    } else out += c;
  }
  return out;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

const messageName = (t: protobuf.Type) => t.fullName.replace(/^\./, '');
const fieldName = (t: protobuf.Type, id: number) => t.fieldsById[id]!.name;

// ---------------------------------------------------------------- printing

/** A decoded message as JsonFormat prints it (includingDefaultValueFields). */
export function protobufToJson(type: protobuf.Type, message: protobuf.Message | Record<string, unknown>): unknown {
  return printMessage(type, message as unknown as Record<string, unknown>, 0);
}

function isSet(message: Record<string, unknown>, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(message, name) && message[name] !== null && message[name] !== undefined;
}

function printMessage(type: protobuf.Type, m: Record<string, unknown>, depth: number): unknown {
  if (depth > valueDepthMax) throw new Error(`message nests more than ${valueDepthMax} levels deep`);
  const special = printWellKnown(type, m, depth);
  if (special !== undefined) return special.value;
  const out: Record<string, unknown> = {};
  for (const field of [...type.fieldsArray].sort((a, b) => a.id - b.id)) {
    const set = isSet(m, field.name);
    if (!set && field.partOf) continue;
    if (field.map) {
      const entries = set ? Object.entries(m[field.name] as Record<string, unknown>) : [];
      const obj: Record<string, unknown> = {};
      for (const [k, v] of entries) obj[printMapKey(keyTypeOf(field), k)] = printValue(field, v, depth);
      out[jsonNameOf(field)] = obj;
    } else if (field.repeated) {
      out[jsonNameOf(field)] = set ? (m[field.name] as unknown[]).map((v) => printValue(field, v, depth)) : [];
    } else if (field.resolvedType instanceof protobuf.Type) {
      if (set) out[jsonNameOf(field)] = printValue(field, m[field.name], depth);
    } else {
      out[jsonNameOf(field)] = printValue(field, set ? m[field.name] : field.defaultValue, depth);
    }
  }
  return out;
}

function printMapKey(keyType: string, key: string): string {
  // protobufjs keys 64-bit map entries by an 8-character hash of the value.
  if (int64Types.has(keyType) || uint64Types.has(keyType)) {
    return String(protobuf.util.LongBits.fromHash(key).toLong(uint64Types.has(keyType)));
  }
  return key;
}

function printValue(field: protobuf.Field, v: unknown, depth: number): unknown {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) return printMessage(rt, v as Record<string, unknown>, depth + 1);
  if (rt instanceof protobuf.Enum) return printEnum(rt, v);
  return printScalar(field.type, v);
}

function printEnum(e: protobuf.Enum, v: unknown): unknown {
  if (e.fullName === `${wellKnown}NullValue`) return null;
  const n = typeof v === 'string' ? e.values[v] : (v as number | undefined);
  if (n === undefined) return v;
  return e.valuesById[n] ?? n;
}

function printScalar(type: string, v: unknown): unknown {
  if (int64Types.has(type) || uint64Types.has(type)) {
    if (v === null || v === undefined) return '0';
    if (typeof v === 'number') return String(v);
    if (typeof v === 'string') return v;
    const long = v as LongLike;
    return Long.fromBits(long.low, long.high, uint64Types.has(type)).toString();
  }
  if (type === 'double' || type === 'float') {
    const n = typeof v === 'number' ? v : 0;
    if (Number.isNaN(n)) return 'NaN';
    if (n === Infinity) return 'Infinity';
    if (n === -Infinity) return '-Infinity';
    return type === 'float' ? shortestFloat(n) : n;
  }
  if (type === 'bytes') return Buffer.from((v as Uint8Array | undefined) ?? []).toString('base64');
  if (type === 'bool') return v === true;
  if (type === 'string') return typeof v === 'string' ? v : '';
  return typeof v === 'number' ? v : 0;
}

/** A float32 as Java's Float.toString shows it: the shortest decimal that reads back as the same float (0.1, not 0.10000000149011612). */
function shortestFloat(n: number): number {
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(n.toPrecision(digits));
    if (Math.fround(candidate) === n) return candidate;
  }
  return n;
}

function printWellKnown(type: protobuf.Type, m: Record<string, unknown>, depth: number): { value: unknown } | undefined {
  const name = type.fullName;
  if (!name.startsWith(wellKnown)) return undefined;
  const get = (id: number) => m[fieldName(type, id)];
  if (wrapperTypes.has(name)) return { value: printScalar(type.fieldsById[1]!.type, get(1)) };
  switch (name) {
    case `${wellKnown}Timestamp`:
      return { value: printTimestamp(longNumber(get(1)), Number(get(2) ?? 0)) };
    case `${wellKnown}Duration`:
      return { value: printDuration(longNumber(get(1)), Number(get(2) ?? 0)) };
    case `${wellKnown}Struct`: {
      const fields = (get(1) ?? {}) as Record<string, unknown>;
      const valueType = type.fieldsById[1]!.resolvedType as protobuf.Type;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(fields)) out[k] = printMessage(valueType, v as Record<string, unknown>, depth + 1);
      return { value: out };
    }
    case `${wellKnown}Value`: {
      for (const field of type.fieldsArray) {
        if (isSet(m, field.name)) return { value: printValue(field, m[field.name], depth) };
      }
      return { value: null };
    }
    case `${wellKnown}ListValue`: {
      const valueType = type.fieldsById[1]!.resolvedType as protobuf.Type;
      return { value: ((get(1) ?? []) as Record<string, unknown>[]).map((v) => printMessage(valueType, v, depth + 1)) };
    }
    case `${wellKnown}FieldMask`:
      return { value: ((get(1) ?? []) as string[]).map(lowerCamel).join(',') };
    case `${wellKnown}Any`: {
      const url = (get(1) ?? '') as string;
      if (url === '') return { value: {} };
      const packed = lookupTypeUrl(type, url);
      if (!packed) throw new Error(`Any names type '${url}', which the schema does not define`);
      const inner = printMessage(packed, packed.decode((get(2) as Uint8Array | undefined) ?? new Uint8Array()) as unknown as Record<string, unknown>, depth + 1);
      return { value: ownFormTypes.has(packed.fullName) ? { '@type': url, value: inner } : { '@type': url, ...(inner as Record<string, unknown>) } };
    }
    default:
      return undefined;
  }
}

function lookupTypeUrl(any: protobuf.Type, url: string): protobuf.Type | undefined {
  const name = url.slice(url.lastIndexOf('/') + 1);
  try {
    return any.root.lookupType(name);
  } catch {
    return undefined;
  }
}

function longNumber(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  return Long.fromBits((v as LongLike).low, (v as LongLike).high, false).toNumber();
}

/** Fractional seconds as JsonFormat writes them: none, or 3, 6 or 9 digits. */
function fraction(nanos: number): string {
  if (nanos === 0) return '';
  const nine = String(nanos).padStart(9, '0');
  if (nanos % 1_000_000 === 0) return `.${nine.slice(0, 3)}`;
  if (nanos % 1_000 === 0) return `.${nine.slice(0, 6)}`;
  return `.${nine}`;
}

function printTimestamp(seconds: number, nanos: number): string {
  const iso = new Date(seconds * 1000).toISOString(); // 2024-01-02T03:04:05.000Z
  return `${iso.slice(0, 19)}${fraction(nanos)}Z`;
}

function printDuration(seconds: number, nanos: number): string {
  const negative = seconds < 0 || nanos < 0;
  return `${negative ? '-' : ''}${Math.abs(seconds)}${fraction(Math.abs(nanos))}s`;
}

// ---------------------------------------------------------------- parsing

/** `data` (JSON) → a message of `type`, checked field by field (ProtobufJsonError naming the field when it does not fit). */
export function protobufFromJson(type: protobuf.Type, data: unknown, path: string): protobuf.Message {
  const plain = parseMessage(type, data, path, 0);
  return type.fromObject(plain as Record<string, unknown>);
}

function parseMessage(type: protobuf.Type, v: unknown, path: string, depth: number): unknown {
  if (depth > valueDepthMax) throw new ProtobufJsonError(path, `nests more than ${valueDepthMax} levels deep`);
  const special = parseWellKnown(type, v, path, depth);
  if (special !== undefined) return special.value;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ProtobufJsonError(path, `must be an object (message ${messageName(type)}), not ${describe(v)}`);
  const byName = new Map<string, protobuf.Field>();
  for (const f of type.fieldsArray) {
    byName.set(jsonNameOf(f), f);
    byName.set(f.name, f);
  }
  const out: Record<string, unknown> = {};
  const oneofSet = new Map<string, string>();
  for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
    const at = `${path}.${key}`;
    const field = byName.get(key);
    if (!field) throw new ProtobufJsonError(at, `is not a field of message ${messageName(type)}`);
    if (Object.prototype.hasOwnProperty.call(out, field.name)) throw new ProtobufJsonError(at, `sets field ${field.name} a second time (as '${jsonNameOf(field)}' and '${field.name}')`);
    if (value === null && !(field.resolvedType instanceof protobuf.Type && field.resolvedType.fullName === `${wellKnown}Value` && !field.repeated && !field.map)) continue;
    if (field.partOf) {
      const other = oneofSet.get(field.partOf.name);
      if (other !== undefined) throw new ProtobufJsonError(at, `cannot be set: field ${other} of the same oneof ${field.partOf.name} is already set`);
      oneofSet.set(field.partOf.name, field.name);
    }
    out[field.name] = parseField(field, value, at, depth);
  }
  for (const f of type.fieldsArray) {
    if (f.required && !Object.prototype.hasOwnProperty.call(out, f.name)) throw new ProtobufJsonError(`${path}.${jsonNameOf(f)}`, `is required (message ${messageName(type)})`);
  }
  return out;
}

function parseField(field: protobuf.Field, v: unknown, path: string, depth: number): unknown {
  if (field.map) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ProtobufJsonError(path, `must be an object (a map), not ${describe(v)}`);
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
      const at = `${path}.${k}`;
      if (item === null) throw new ProtobufJsonError(at, 'must not be null (a map value)');
      out[mapKey(keyTypeOf(field), k, at)] = parseSingle(field, item, at, depth);
    }
    return out;
  }
  if (field.repeated) {
    if (!Array.isArray(v)) throw new ProtobufJsonError(path, `must be an array (a repeated field), not ${describe(v)}`);
    return v.map((item, i) => {
      if (item === null) throw new ProtobufJsonError(`${path}[${i}]`, 'must not be null (an element of a repeated field)');
      return parseSingle(field, item, `${path}[${i}]`, depth);
    });
  }
  return parseSingle(field, v, path, depth);
}

/** A map key as the plain object protobufjs's fromObject takes: the key's canonical decimal text (its encoder parses 64-bit keys from it). */
function mapKey(keyType: string, k: string, path: string): string {
  if (keyType === 'string') return k;
  if (keyType === 'bool') {
    if (k !== 'true' && k !== 'false') throw new ProtobufJsonError(path, `must be a bool map key ("true" or "false"), not ${JSON.stringify(k)}`);
    return k;
  }
  const value = parseScalar(keyType, k, path);
  return String(value);
}

function parseSingle(field: protobuf.Field, v: unknown, path: string, depth: number): unknown {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) return parseMessage(rt, v, path, depth + 1);
  if (rt instanceof protobuf.Enum) return parseEnum(rt, v, path);
  return parseScalar(field.type, v, path);
}

function parseEnum(e: protobuf.Enum, v: unknown, path: string): number {
  if (e.fullName === `${wellKnown}NullValue` && (v === null || v === 'NULL_VALUE')) return 0;
  if (typeof v === 'string') {
    const n = e.values[v];
    if (n === undefined) throw new ProtobufJsonError(path, `must be one of ${Object.keys(e.values).join(', ')} (enum ${e.fullName.replace(/^\./, '')}), not ${describe(v)}`);
    return n;
  }
  if (typeof v === 'number' && Number.isInteger(v) && e.valuesById[v] !== undefined) return v;
  throw new ProtobufJsonError(path, `must be the name or number of a value of enum ${e.fullName.replace(/^\./, '')}, not ${describe(v)}`);
}

/** An integer from a JSON number or a decimal string (as JsonFormat takes both), as a BigInt. */
function integerOf(v: unknown, path: string, what: string): bigint {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new ProtobufJsonError(path, `must be ${what}, not ${describe(v)}`);
    return BigInt(v);
  }
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return BigInt(v.trim());
  if (typeof v === 'string' && /^-?\d+(\.0*)?([eE]\+?\d+)?$/.test(v.trim()) && Number.isInteger(Number(v))) return BigInt(Number(v));
  throw new ProtobufJsonError(path, `must be ${what}, not ${describe(v)}`);
}

function inRange(n: bigint, min: bigint, max: bigint, path: string, what: string): bigint {
  if (n < min || n > max) throw new ProtobufJsonError(path, `must be ${what}, and ${n} is out of its range`);
  return n;
}

const float32Max = 3.4028234663852886e38;

function parseScalar(type: string, v: unknown, path: string): unknown {
  if (int32Types.has(type)) return Number(inRange(integerOf(v, path, `an integer (${type})`), -(2n ** 31n), 2n ** 31n - 1n, path, `a 32-bit integer (${type})`));
  if (uint32Types.has(type)) return Number(inRange(integerOf(v, path, `an unsigned integer (${type})`), 0n, 2n ** 32n - 1n, path, `an unsigned 32-bit integer (${type})`));
  if (int64Types.has(type)) return Long.fromString(inRange(integerOf(v, path, `an integer (${type})`), -(2n ** 63n), 2n ** 63n - 1n, path, `a 64-bit integer (${type})`).toString(), false);
  if (uint64Types.has(type)) return Long.fromString(inRange(integerOf(v, path, `an unsigned integer (${type})`), 0n, 2n ** 64n - 1n, path, `an unsigned 64-bit integer (${type})`).toString(), true);
  switch (type) {
    case 'double':
    case 'float': {
      let n: number;
      if (typeof v === 'number') n = v;
      else if (v === 'NaN') n = NaN;
      else if (v === 'Infinity') n = Infinity;
      else if (v === '-Infinity') n = -Infinity;
      else if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) n = Number(v);
      else throw new ProtobufJsonError(path, `must be a number (${type}), not ${describe(v)}`);
      if (type === 'float' && Number.isFinite(n) && Math.abs(n) > float32Max) throw new ProtobufJsonError(path, `must be a float, and ${n} is out of its range`);
      return n;
    }
    case 'bool':
      if (v === true || v === 'true') return true;
      if (v === false || v === 'false') return false;
      throw new ProtobufJsonError(path, `must be a boolean, not ${describe(v)}`);
    case 'string':
      // JsonFormat reads any JSON primitive as a string (Gson's getAsString).
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'boolean') return String(v);
      throw new ProtobufJsonError(path, `must be a string, not ${describe(v)}`);
    case 'bytes': {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) throw new ProtobufJsonError(path, `must be base64 (bytes), not ${describe(v)}`);
      const standard = v.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
      if (standard.length % 4 === 1) throw new ProtobufJsonError(path, `must be base64 (bytes), not ${describe(v)}`);
      return Buffer.from(standard, 'base64');
    }
    default:
      throw new ProtobufJsonError(path, `has type ${type}, which this mapping does not know`);
  }
}

const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
/** Timestamp's range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z. */
const timestampSecondsMin = -62_135_596_800;
const timestampSecondsMax = 253_402_300_799;

function parseWellKnown(type: protobuf.Type, v: unknown, path: string, depth: number): { value: unknown } | undefined {
  const name = type.fullName;
  if (!name.startsWith(wellKnown)) return undefined;
  const f = (id: number) => fieldName(type, id);
  if (wrapperTypes.has(name)) return { value: { [f(1)]: parseScalar(type.fieldsById[1]!.type, v, path) } };
  switch (name) {
    case `${wellKnown}Timestamp`: {
      const m = typeof v === 'string' ? rfc3339.exec(v) : null;
      if (!m) throw new ProtobufJsonError(path, `must be an RFC 3339 timestamp (google.protobuf.Timestamp), not ${describe(v)}`);
      const [, y, mo, d, h, mi, s, frac, , sign, oh, om] = m;
      const at = new Date(0);
      at.setUTCFullYear(Number(y), Number(mo) - 1, Number(d)); // not Date.UTC: it reads years 0-99 as 1900-1999
      at.setUTCHours(Number(h), Number(mi), Number(s), 0);
      // No rolling over: 2024-02-30 or 24:00:00 are not dates, as java.time refuses them.
      if (at.getUTCMonth() !== Number(mo) - 1 || at.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
        throw new ProtobufJsonError(path, `must be an RFC 3339 timestamp (google.protobuf.Timestamp), not ${describe(v)}`);
      }
      let seconds = at.getTime() / 1000;
      if (sign) seconds -= (sign === '-' ? -1 : 1) * (Number(oh) * 3600 + Number(om) * 60);
      if (!Number.isFinite(seconds) || seconds < timestampSecondsMin || seconds > timestampSecondsMax) throw new ProtobufJsonError(path, `is out of the range of google.protobuf.Timestamp`);
      return { value: { [f(1)]: Long.fromNumber(seconds), [f(2)]: frac ? Number(frac.padEnd(9, '0')) : 0 } };
    }
    case `${wellKnown}Duration`: {
      const m = typeof v === 'string' ? /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(v) : null;
      if (!m) throw new ProtobufJsonError(path, `must be a duration such as "1.5s" (google.protobuf.Duration), not ${describe(v)}`);
      const sign = m[1] ? -1 : 1;
      const seconds = BigInt(m[2]!);
      if (seconds > 315_576_000_000n) throw new ProtobufJsonError(path, 'is out of the range of google.protobuf.Duration');
      const nanos = m[3] ? Number(m[3].padEnd(9, '0')) : 0;
      return { value: { [f(1)]: Long.fromString(`${sign < 0 ? '-' : ''}${seconds}`), [f(2)]: sign * nanos } };
    }
    case `${wellKnown}Struct`: {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ProtobufJsonError(path, `must be an object (google.protobuf.Struct), not ${describe(v)}`);
      const valueType = type.fieldsById[1]!.resolvedType as protobuf.Type;
      const fields: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) fields[k] = parseMessage(valueType, item, `${path}.${k}`, depth + 1);
      return { value: { [f(1)]: fields } };
    }
    case `${wellKnown}Value`: {
      if (v === null) return { value: { [f(1)]: 0 } };
      if (typeof v === 'number') return { value: { [f(2)]: v } };
      if (typeof v === 'string') return { value: { [f(3)]: v } };
      if (typeof v === 'boolean') return { value: { [f(4)]: v } };
      if (Array.isArray(v)) return { value: { [f(6)]: parseMessage(type.fieldsById[6]!.resolvedType as protobuf.Type, v, path, depth + 1) } };
      return { value: { [f(5)]: parseMessage(type.fieldsById[5]!.resolvedType as protobuf.Type, v, path, depth + 1) } };
    }
    case `${wellKnown}ListValue`: {
      if (!Array.isArray(v)) throw new ProtobufJsonError(path, `must be an array (google.protobuf.ListValue), not ${describe(v)}`);
      const valueType = type.fieldsById[1]!.resolvedType as protobuf.Type;
      return { value: { [f(1)]: v.map((item, i) => parseMessage(valueType, item, `${path}[${i}]`, depth + 1)) } };
    }
    case `${wellKnown}FieldMask`: {
      if (typeof v !== 'string') throw new ProtobufJsonError(path, `must be a string of comma-separated paths (google.protobuf.FieldMask), not ${describe(v)}`);
      const paths = v === '' ? [] : v.split(',').map((p) => p.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
      return { value: { [f(1)]: paths } };
    }
    case `${wellKnown}Any`: {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ProtobufJsonError(path, `must be an object with "@type" (google.protobuf.Any), not ${describe(v)}`);
      const { '@type': url, ...rest } = v as Record<string, unknown>;
      if (url === undefined && Object.keys(rest).length === 0) return { value: {} };
      if (typeof url !== 'string') throw new ProtobufJsonError(`${path}.@type`, `must be a type URL string (google.protobuf.Any), not ${describe(url)}`);
      const packed = lookupTypeUrl(type, url);
      if (!packed) throw new ProtobufJsonError(`${path}.@type`, `names type '${url}', which the schema does not define`);
      const inner = ownFormTypes.has(packed.fullName) ? rest.value : rest;
      const message = packed.fromObject(parseMessage(packed, inner, path, depth + 1) as Record<string, unknown>);
      return { value: { [f(1)]: url, [f(2)]: packed.encode(message).finish() } };
    }
    default:
      return undefined;
  }
}
