/**
 * kcat-style output formats for `strand consume --format`:
 *
 *   %t topic   %p partition   %o offset   %T timestamp (ms)   %k key   %v value
 *   %h headers (name=value, comma separated)   %K key length   %S value length
 *   %%  a percent sign;   \n \t \r \\  escapes
 *
 * A null key or value prints as an empty string (kcat's default -Z off). A
 * format with no newline of its own gets one per message. A key or value that
 * consume decoded from Avro (cli/decode.ts) prints as its JSON (Avro's JSON
 * encoding); %K and %S stay the stored lengths.
 */
import type { KafkaMessage } from '../client';
import { UsageError } from './context';

export interface FormattedMessage {
  topic: string;
  partition: number;
  message: KafkaMessage;
  /** Keys and values in the Confluent wire format, decoded through the schema registry. */
  decoded?: DecodedMessage;
}

export interface Decoded {
  schemaId: number;
  /** Avro's JSON encoding of the data. */
  data: unknown;
}

export interface DecodedMessage {
  key?: Decoded;
  value?: Decoded;
}

export const defaultFormat = '%v\\n';

type Piece = string | ((m: FormattedMessage) => string);

const text = (b: Buffer | null) => (b === null ? '' : b.toString('utf8'));

function headersText(headers: KafkaMessage['headers']): string {
  const parts: string[] = [];
  for (const [name, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : [v]) parts.push(`${name}=${text(one)}`);
  return parts.join(',');
}

const fields: Record<string, (m: FormattedMessage) => string> = {
  t: (m) => m.topic,
  p: (m) => String(m.partition),
  o: (m) => String(m.message.offset),
  T: (m) => String(m.message.timestamp),
  k: (m) => (m.decoded?.key ? JSON.stringify(m.decoded.key.data) : text(m.message.key)),
  v: (m) => (m.decoded?.value ? JSON.stringify(m.decoded.value.data) : text(m.message.value)),
  h: (m) => headersText(m.message.headers),
  K: (m) => String(m.message.key?.length ?? -1),
  S: (m) => String(m.message.value?.length ?? -1),
};

const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\' };

/** Compiles a format once; the result formats one message. Unknown directives are an error naming them. */
export function compileFormat(format: string): (m: FormattedMessage) => string {
  const pieces: Piece[] = [];
  let literal = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    const next = format[i + 1];
    if (c === '%' && next !== undefined) {
      i++;
      if (next === '%') {
        literal += '%';
        continue;
      }
      const field = fields[next];
      if (!field) throw new UsageError(`unknown format directive %${next} (known: ${Object.keys(fields).map((k) => `%${k}`).join(' ')})`);
      if (literal) pieces.push(literal);
      literal = '';
      pieces.push(field);
    } else if (c === '\\' && next !== undefined && escapes[next] !== undefined) {
      literal += escapes[next];
      i++;
    } else {
      literal += c;
    }
  }
  if (literal) pieces.push(literal);
  const hasNewline = pieces.some((p) => typeof p === 'string' && p.includes('\n'));
  if (!hasNewline) pieces.push('\n');
  return (m) => pieces.map((p) => (typeof p === 'string' ? p : p(m))).join('');
}

/**
 * One message as a JSON line (--json). Keys and values are UTF-8 text; a
 * decoded one is its data as JSON, with `key_schema_id` / `value_schema_id`.
 */
export function jsonLine(m: FormattedMessage): string {
  const headers: Record<string, string | null | (string | null)[]> = {};
  for (const [name, v] of Object.entries(m.message.headers)) headers[name] = Array.isArray(v) ? v.map((x) => (x === null ? null : text(x))) : v === null ? null : text(v);
  return (
    JSON.stringify({
      topic: m.topic,
      partition: m.partition,
      offset: m.message.offset,
      timestamp: m.message.timestamp,
      key: m.decoded?.key ? m.decoded.key.data : m.message.key === null ? null : text(m.message.key),
      value: m.decoded?.value ? m.decoded.value.data : m.message.value === null ? null : text(m.message.value),
      headers,
      ...(m.decoded?.key ? { key_schema_id: m.decoded.key.schemaId } : {}),
      ...(m.decoded?.value ? { value_schema_id: m.decoded.value.schemaId } : {}),
    }) + '\n'
  );
}
