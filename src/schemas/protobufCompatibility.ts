/**
 * Protobuf compatibility, after Confluent's registry (its protobuf `SchemaDiff`
 * of an original and an updated schema): the differences between two schemas'
 * messages, of which these are incompatible —
 *
 *   MESSAGE_REMOVED              a message of the original is not in the update
 *   FIELD_KIND_CHANGED           a field changed between scalar (enums count as
 *                                scalars), message and map
 *   FIELD_SCALAR_KIND_CHANGED    a scalar changed wire group: {int32, int64,
 *                                uint32, uint64, bool, enums}, {sint32, sint64},
 *                                {string, bytes}, {fixed32, sfixed32},
 *                                {fixed64, sfixed64}, {float}, {double}
 *   FIELD_NUMERIC_LABEL_CHANGED  a numeric field's label changed between
 *                                optional, required and repeated (a proto3
 *                                field without a label counts as optional;
 *                                Confluent leaves it unlabelled and so does
 *                                not see implicit ⇄ repeated)
 *   FIELD_NAMED_TYPE_CHANGED     a message field names another message
 *   REQUIRED_FIELD_ADDED / _REMOVED   (proto2)
 *   ONEOF_FIELD_REMOVED          a field of a oneof removed
 *   MULTIPLE_FIELDS_MOVED_TO_ONEOF, FIELD_MOVED_TO_EXISTING_ONEOF
 *
 * and everything else is compatible: fields added or removed (by number),
 * renamed, a type changed within its wire group, string ⇄ bytes labels,
 * messages and enums added, enum values changed, oneofs added or removed, the
 * package changed (messages are matched by their names inside the package).
 *
 * BACKWARD compares (original = earlier version, update = new schema), FORWARD
 * the other way round: so adding a message is backward compatible, and under
 * FORWARD it reads as a message removed, as in Confluent. Messages are matched
 * by name within the schema's own file; messages of referenced files are
 * compared by name only (a change inside a referenced file is that file's
 * subject's own compatibility question).
 */
import type * as protobuf from 'protobufjs';
import { nestedMessages, type ProtobufParsed } from './protobufSchema';

/** Messages one comparison visits at most (each side); past it the comparison reports that it gave up. */
export const protobufMessagesComparedMax = 10_000;

function localName(fullName: string, packageName: string): string {
  const name = fullName.replace(/^\./, '');
  return packageName !== '' && name.startsWith(`${packageName}.`) ? name.slice(packageName.length + 1) : name;
}

/** Every message of the schema's own file, nested ones included, by name inside the package. */
function messagesByName(parsed: ProtobufParsed): Map<string, protobuf.Type> | undefined {
  const out = new Map<string, protobuf.Type>();
  const stack = [...parsed.messages];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (out.size >= protobufMessagesComparedMax) return undefined;
    out.set(localName(t.fullName, parsed.packageName), t);
    stack.push(...nestedMessages(t));
  }
  return out;
}

type Kind = 'SCALAR' | 'MESSAGE' | 'MAP';

const scalarGroups: Record<string, string> = {
  int32: 'GENERAL_NUMBER', int64: 'GENERAL_NUMBER', uint32: 'GENERAL_NUMBER', uint64: 'GENERAL_NUMBER', bool: 'GENERAL_NUMBER',
  sint32: 'SIGNED_NUMBER', sint64: 'SIGNED_NUMBER',
  string: 'STRING_OR_BYTES', bytes: 'STRING_OR_BYTES',
  fixed32: 'FIXED32', sfixed32: 'FIXED32',
  fixed64: 'FIXED64', sfixed64: 'FIXED64',
  float: 'FLOAT', double: 'DOUBLE',
};

interface TypeRef {
  type: string;
  resolved: protobuf.Type | protobuf.Enum | null;
}

function kindOf(f: protobuf.Field): Kind {
  if (f.map) return 'MAP';
  return f.resolvedType !== null && 'fieldsArray' in f.resolvedType ? 'MESSAGE' : 'SCALAR';
}

function scalarGroup(t: TypeRef): string {
  return t.resolved !== null ? 'GENERAL_NUMBER' : scalarGroups[t.type] ?? t.type;
}

interface Compared {
  original: ProtobufParsed;
  update: ProtobufParsed;
  problems: string[];
}

function compareTypes(c: Compared, at: string, o: TypeRef, u: TypeRef, labels: [string | undefined, string | undefined]): void {
  const oMessage = o.resolved !== null && 'fieldsArray' in o.resolved;
  const uMessage = u.resolved !== null && 'fieldsArray' in u.resolved;
  if (oMessage !== uMessage) return void c.problems.push(`${at}: the field's kind changed (${o.type} → ${u.type}) (FIELD_KIND_CHANGED)`);
  if (oMessage) {
    const on = localName(o.resolved!.fullName, c.original.packageName);
    const un = localName(u.resolved!.fullName, c.update.packageName);
    if (on !== un) c.problems.push(`${at}: the field's message type changed (${on} → ${un}) (FIELD_NAMED_TYPE_CHANGED)`);
    return;
  }
  const og = scalarGroup(o);
  const ug = scalarGroup(u);
  if (og !== ug) return void c.problems.push(`${at}: the field's type changed (${o.type} → ${u.type}) (FIELD_SCALAR_KIND_CHANGED)`);
  const [ol, ul] = labels;
  if (ol !== undefined && ul !== undefined && ol !== ul && og !== 'STRING_OR_BYTES') c.problems.push(`${at}: the field's label changed (${ol} → ${ul}) (FIELD_NUMERIC_LABEL_CHANGED)`);
}

/** A field's label; a proto3 field without one counts as optional (Confluent leaves it unlabelled, so it would not see implicit ⇄ repeated). */
function labelOf(f: protobuf.Field): string {
  return f.repeated ? 'repeated' : f.required ? 'required' : 'optional';
}

function compareField(c: Compared, at: string, o: protobuf.Field, u: protobuf.Field): void {
  const ok = kindOf(o);
  const uk = kindOf(u);
  if (ok !== uk) return void c.problems.push(`${at}: the field's kind changed (${ok} → ${uk}) (FIELD_KIND_CHANGED)`);
  if (ok === 'MAP') {
    const om = o as unknown as protobuf.MapField;
    const um = u as unknown as protobuf.MapField;
    compareTypes(c, `${at} (map key)`, { type: om.keyType, resolved: null }, { type: um.keyType, resolved: null }, [undefined, undefined]);
    compareTypes(c, `${at} (map value)`, { type: om.type, resolved: om.resolvedType }, { type: um.type, resolved: um.resolvedType }, [undefined, undefined]);
    return;
  }
  compareTypes(c, at, { type: o.type, resolved: o.resolvedType }, { type: u.type, resolved: u.resolvedType }, [labelOf(o), labelOf(u)]);
}

function compareMessage(c: Compared, name: string, o: protobuf.Type, u: protobuf.Type): void {
  const movedInto = new Map<string, number>();
  for (const of of o.fieldsArray) {
    const at = `${name}.${of.name} (field ${of.id})`;
    const uf = u.fieldsById[of.id];
    if (!uf) {
      if (of.required) c.problems.push(`${at}: a required field was removed (REQUIRED_FIELD_REMOVED)`);
      else if (of.partOf) c.problems.push(`${at}: a field of oneof '${of.partOf.name}' was removed (ONEOF_FIELD_REMOVED)`);
      continue;
    }
    compareField(c, at, of, uf);
    if (!of.partOf && uf.partOf) {
      if (o.oneofs?.[uf.partOf.name]) c.problems.push(`${at}: the field moved into the existing oneof '${uf.partOf.name}' (FIELD_MOVED_TO_EXISTING_ONEOF)`);
      else movedInto.set(uf.partOf.name, (movedInto.get(uf.partOf.name) ?? 0) + 1);
    }
  }
  for (const [oneof, n] of movedInto) if (n > 1) c.problems.push(`${name}: ${n} existing fields moved into the new oneof '${oneof}' (MULTIPLE_FIELDS_MOVED_TO_ONEOF)`);
  for (const uf of u.fieldsArray) {
    if (!o.fieldsById[uf.id] && uf.required) c.problems.push(`${name}.${uf.name} (field ${uf.id}): a required field was added (REQUIRED_FIELD_ADDED)`);
  }
}

/** The incompatible differences from `original` to `update` (Confluent's SchemaDiff.compare(original, update)); empty when compatible. */
export function protobufDifferences(original: ProtobufParsed, update: ProtobufParsed): string[] {
  const c: Compared = { original, update, problems: [] };
  const om = messagesByName(original);
  const um = messagesByName(update);
  if (!om || !um) return [`the schemas have more than ${protobufMessagesComparedMax} messages to compare`];
  for (const [name, o] of om) {
    const u = um.get(name);
    if (!u) c.problems.push(`${name}: the message was removed (MESSAGE_REMOVED)`);
    else compareMessage(c, name, o, u);
  }
  return c.problems;
}
