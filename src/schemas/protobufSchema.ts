/**
 * Protobuf through protobufjs: parsing a .proto schema as the registry stores
 * it, finding the message a value's message indexes name, and decoding values
 * (produce-side validation).
 *
 * Identity: the canonical text is the schema's tokens without comments, laid
 * out one statement per line with two-space indents (src/schemas/protoText.ts),
 * so whitespace and comments do not make another schema. It is still .proto
 * text: what GET returns parses with protoc, protobufjs or Confluent's parser.
 *
 * Imports: every `import "<name>"` must be a reference's name, or one of the
 * well-known types protobufjs ships (`google/protobuf/timestamp.proto`, …,
 * which Confluent's registry also resolves without a reference). The
 * referenced files are parsed into one protobufjs Root with the schema, and
 * every type name must resolve there.
 *
 * Messages: a value's message indexes (src/schemas/wireFormat.ts) count the
 * messages declared in the schema's text — its top-level messages in
 * declaration order, then the messages nested in the one chosen, and so on;
 * enums and services are not counted — as Confluent's
 * ProtobufSchema.toMessageIndexes counts them on the parsed text.
 */
import * as protobuf from 'protobufjs';
import { invalidSchema } from './errors';
import { canonicalProtoText } from './protoText';
import type { ResolvedReference } from './references';

export interface ProtobufParsed {
  canonical: string;
  /** The package the schema declares ('' when none). */
  packageName: string;
  /** The schema's own top-level messages, in declaration order, resolved against its references. */
  messages: protobuf.Type[];
  root: protobuf.Root;
}

/** Most message indexes a value may carry: one per level of message nesting. */
export const messageIndexesMax = 64;

const parseOptions = { keepCase: true };
const wellKnown = new Set(Object.keys(protobuf.common).filter((k) => k.endsWith('.proto')));

function parseInto(text: string, root: protobuf.Root, what: string): protobuf.IParserResult {
  try {
    return protobuf.parse(text, root, parseOptions);
  } catch (err) {
    throw invalidSchema(`Invalid Protobuf schema${what}: ${(err as Error).message}.`);
  }
}

/** Top-level messages of a file: the types directly in its package's namespace, in declaration order. */
function topLevelMessages(parsed: protobuf.IParserResult): protobuf.Type[] {
  const ns = parsed.package ? parsed.root.lookup(parsed.package) : parsed.root;
  if (!(ns instanceof protobuf.Namespace)) return [];
  return ns.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
}

export function parseProtobufSchema(text: string, resolved: readonly ResolvedReference[] = []): ProtobufParsed {
  const canonical = canonicalProtoText(text);
  // The schema alone first, in a Root of its own: which messages are its own, in its order.
  const alone = parseInto(canonical, new protobuf.Root(), '');
  const available = new Set(resolved.map((r) => r.name));
  const root = new protobuf.Root();
  const addedWellKnown = new Set<string>();
  const needImports = (imports: string[] | undefined, of: string) => {
    for (const name of imports ?? []) {
      if (available.has(name)) continue;
      if (wellKnown.has(name)) {
        if (!addedWellKnown.has(name)) root.addJSON((protobuf.common.get(name) as protobuf.INamespace).nested ?? {});
        addedWellKnown.add(name);
        continue;
      }
      throw invalidSchema(`Invalid Protobuf schema: ${of} imports "${name}", which is not among its references.`);
    }
  };
  for (const ref of resolved) {
    const r = parseInto(canonicalProtoText(ref.schema), root, ` (referenced as '${ref.name}')`);
    needImports([...(r.imports ?? []), ...(r.weakImports ?? [])], `reference '${ref.name}'`);
  }
  const main = parseInto(canonical, root, '');
  needImports([...(main.imports ?? []), ...(main.weakImports ?? [])], 'the schema');
  try {
    root.resolveAll();
  } catch (err) {
    throw invalidSchema(`Invalid Protobuf schema: ${(err as Error).message}.`);
  }
  const messages = topLevelMessages(alone).map((t) => root.lookupType(t.fullName));
  return { canonical, packageName: alone.package ?? '', messages, root };
}

/** Messages nested directly in a message, in declaration order. */
export function nestedMessages(t: protobuf.Type): protobuf.Type[] {
  return t.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
}

/** The message a value's indexes name, or why none. */
export function messageAt(parsed: ProtobufParsed, indexes: readonly number[]): protobuf.Type | string {
  let candidates = parsed.messages;
  let found: protobuf.Type | undefined;
  for (const [depth, i] of indexes.entries()) {
    found = candidates[i];
    if (!found) return `names message index ${i} at depth ${depth}, but there ${candidates.length === 1 ? 'is 1 message' : `are ${candidates.length} messages`} there`;
    candidates = nestedMessages(found);
  }
  return found ?? 'names no message';
}

/** Decodes a message's bytes fully; why not, or undefined when they decode (required fields of proto2 included). */
export function protobufProblem(type: protobuf.Type, payload: Uint8Array): string | undefined {
  try {
    decodeMessage(type, payload);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Decodes a message from a plain Uint8Array view of the bytes: protobufjs
 * reads a Node Buffer with its BufferReader, whose strings are not
 * bounds-checked (a string whose length runs past the end decodes short
 * instead of failing), while its Uint8Array reader checks every length.
 */
export function decodeMessage(type: protobuf.Type, payload: Uint8Array): protobuf.Message {
  return type.decode(new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength));
}
