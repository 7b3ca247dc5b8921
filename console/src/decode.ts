/**
 * How a key or value is shown. The console fetches with
 * `embedded_format=avro`: the server decodes Avro in Confluent's wire format
 * (magic 0, 4-byte schema id, Avro binary) through its registry and answers
 * `{type: AVRO, data, schema_id}`; everything else comes as BINARY (base64),
 * decoded here as text, JSON, or — for a JSON Schema or Protobuf record in
 * the wire format — its schema id and the rest.
 */
import type { Embedded } from './api';

export type ShowAs = 'auto' | 'text' | 'json' | 'hex';

export interface Shown {
  /** What the console shows. */
  text: string;
  /** What it was decoded as: text, json, avro, wire, binary, null. */
  kind: string;
  schemaId?: number;
}

export function base64Bytes(b64: string): Uint8Array {
  const raw = atob(b64);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

export function bytesBase64(bytes: Uint8Array): string {
  let raw = '';
  for (const b of bytes) raw += String.fromCharCode(b);
  return btoa(raw);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function asText(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

export function hex(bytes: Uint8Array, max = 256): string {
  const shown = Array.from(bytes.slice(0, max), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return bytes.length > max ? `${shown} … (${bytes.length} bytes)` : shown;
}

function pretty(text: string): string | undefined {
  const t = text.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return undefined;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return undefined;
  }
}

/** Confluent's wire format: magic byte 0, then the schema id as a big-endian int32. */
export function wireSchemaId(bytes: Uint8Array): number | undefined {
  if (bytes.length < 5 || bytes[0] !== 0) return undefined;
  const id = ((bytes[1]! << 24) | (bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]!) >>> 0;
  return id > 0 && id < 2 ** 31 ? id : undefined;
}

export function show(e: Embedded | null, as: ShowAs): Shown {
  if (e === null) return { text: 'null', kind: 'null' };
  if (e.type === 'AVRO') {
    return { text: as === 'text' ? JSON.stringify(e.data) : JSON.stringify(e.data, null, 2), kind: 'avro', schemaId: e.schema_id };
  }
  if (e.type === 'JSON') return { text: JSON.stringify(e.data, null, as === 'text' ? 0 : 2), kind: 'json' };
  if (e.type === 'STRING') return { text: String(e.data), kind: 'text' };
  const bytes = base64Bytes(String(e.data));
  if (as === 'hex') return { text: hex(bytes), kind: 'binary' };
  const schemaId = wireSchemaId(bytes);
  if (schemaId !== undefined) {
    const rest = bytes.slice(5);
    const text = asText(rest);
    const json = text === undefined ? undefined : pretty(text);
    if (json !== undefined && as !== 'text') return { text: json, kind: 'wire', schemaId };
    return { text: text ?? hex(rest), kind: 'wire', schemaId };
  }
  const text = asText(bytes);
  if (text === undefined) return { text: hex(bytes), kind: 'binary' };
  if (as === 'text') return { text, kind: 'text' };
  const json = pretty(text);
  if (json !== undefined) return { text: json, kind: 'json' };
  if (as === 'json') return { text, kind: 'text' };
  return { text, kind: 'text' };
}

export function headerText(value: string | null): string {
  if (value === null) return 'null';
  const bytes = base64Bytes(value);
  return asText(bytes) ?? hex(bytes);
}

export function formatTime(ts: number | string): string {
  const d = new Date(typeof ts === 'number' ? ts : Date.parse(ts));
  return Number.isNaN(d.getTime()) ? String(ts) : d.toISOString().replace('T', ' ').replace('Z', '');
}
