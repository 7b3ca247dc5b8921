/**
 * An Avro schema's identity, as Confluent's registry sees it: the parsed
 * schema, not its text. Two texts that parse to the same schema — keys in
 * another order, `{"type":"int"}` for `"int"`, a full name `x.y.W` for name `W`
 * in namespace `x.y`, a reference by short name inside that namespace — have
 * one canonical form here, so they register once (one id, one version) and a
 * lookup by either finds it. Confluent gets the same from Java's
 * `Schema.toString()` of the parsed schema.
 *
 * Kept, as Java keeps them: defaults, docs, aliases, field order, logical
 * types and other attributes (they change what the schema means or says).
 * Pure and bounded by the schema's nesting (src/schemas/avro.ts checks it first).
 */
const primitives = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
const named = new Set(['record', 'error', 'enum', 'fixed']);

/**
 * Keys in the order Java's Schema.toString() writes them (type first, then
 * name and namespace, then what the type has); any others follow, sorted.
 */
const typeKeyOrder = ['type', 'name', 'namespace', 'doc', 'fields', 'symbols', 'default', 'items', 'values', 'size', 'aliases', 'logicalType', 'precision', 'scale'];
const fieldKeyOrder = ['name', 'type', 'doc', 'default', 'order', 'aliases'];

function ordered(o: Record<string, unknown>, order: readonly string[] = typeKeyOrder): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of order) if (o[k] !== undefined) out[k] = o[k];
  for (const k of Object.keys(o).filter((k) => !order.includes(k)).sort()) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** A JSON value with object keys sorted (defaults and custom attributes: their meaning does not depend on key order). */
function sortedValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedValue);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortedValue((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

function fullName(name: string, namespace: string | undefined): string {
  return name.includes('.') || !namespace ? name : `${namespace}.${name}`;
}

function namespaceOf(full: string): string | undefined {
  const i = full.lastIndexOf('.');
  return i < 0 ? undefined : full.slice(0, i);
}

function shortName(full: string): string {
  return full.slice(full.lastIndexOf('.') + 1);
}

/** A reference to a named type, as Java writes it: short inside its own namespace, else full. */
function reference(full: string, namespace: string | undefined): string {
  return namespaceOf(full) === namespace ? shortName(full) : full;
}

function canon(schema: unknown, namespace: string | undefined): unknown {
  if (typeof schema === 'string') return primitives.has(schema) ? schema : reference(fullName(schema, namespace), namespace);
  if (Array.isArray(schema)) return schema.map((s) => canon(s, namespace));
  if (schema === null || typeof schema !== 'object') return schema;
  const o = schema as Record<string, unknown>;
  const { type } = o;
  const extras = (skip: string[]) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) if (!skip.includes(k)) out[k] = sortedValue(v);
    return out;
  };
  if (typeof type === 'string' && named.has(type) && typeof o.name === 'string') {
    const full = fullName(o.name, typeof o.namespace === 'string' && o.namespace !== '' ? o.namespace : namespace);
    const own = namespaceOf(full);
    const out: Record<string, unknown> = { ...extras(['namespace', 'name', 'fields', 'aliases']), type, name: shortName(full) };
    // Java writes the namespace where it differs from the enclosing one.
    if (own !== namespace && own !== undefined) out.namespace = own;
    if (Array.isArray(o.aliases)) out.aliases = o.aliases.map((a) => (typeof a === 'string' ? reference(fullName(a, own), own) : a));
    if (Array.isArray(o.fields)) {
      out.fields = o.fields.map((f) => {
        if (f === null || typeof f !== 'object') return f;
        const field = f as Record<string, unknown>;
        const rest: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(field)) if (k !== 'type') rest[k] = sortedValue(v);
        return ordered({ ...rest, type: canon(field.type, own) }, fieldKeyOrder);
      });
    }
    return ordered(out);
  }
  if (type === 'array') return ordered({ ...extras(['items']), type, items: canon(o.items, namespace) });
  if (type === 'map') return ordered({ ...extras(['values']), type, values: canon(o.values, namespace) });
  if (typeof type === 'string') {
    const rest = extras(['type']);
    const t = primitives.has(type) ? type : reference(fullName(type, namespace), namespace);
    // {"type":"int"} is "int"; with attributes (a logical type) it stays an object.
    return Object.keys(rest).length === 0 ? t : ordered({ ...rest, type: t });
  }
  // {"type": {...}} or {"type": [...]}: the inner schema, with any attributes beside it.
  const rest = extras(['type']);
  const inner = canon(type, namespace);
  return Object.keys(rest).length === 0 ? inner : ordered({ ...rest, type: inner });
}

/** The canonical JSON text of a parsed Avro schema (see the file comment). */
export function canonicalAvroText(schema: unknown): string {
  return JSON.stringify(canon(schema, undefined));
}
