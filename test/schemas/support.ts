/**
 * Helpers for the schema tests: registry calls over HTTP, Avro schema fixtures
 * (one evolution of a `User` record), and a Confluent wire-format reader written
 * here, independently of src/schemas/wireFormat.ts, from Confluent's spec:
 * magic byte 0, a 4-byte big-endian schema id, then the Avro binary payload.
 */
import type { HttpClient, HttpResult } from '../support/localStrand';
import { expectStatus } from '../support/api';

export const registryType = 'application/vnd.schemaregistry.v1+json';

export function registryRequest(http: HttpClient, method: string, path: string, body?: unknown): Promise<HttpResult> {
  return http.request(method, path, body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': registryType } });
}

export async function register(http: HttpClient, subject: string, schema: unknown): Promise<number> {
  const res = await registryRequest(http, 'POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema: JSON.stringify(schema) });
  expectStatus(res, 200);
  return res.json.id as number;
}

/** Confluent's 409: status 409 and error_code 409 (not the first three digits of a five-digit code). */
export function expectIncompatible(res: HttpResult): void {
  expect({ status: res.status, error_code: res.json?.error_code }).toEqual({ status: 409, error_code: 409 });
  expect(res.json.message).toMatch(/incompatible/);
}

export async function setCompatibility(http: HttpClient, subject: string | undefined, level: string): Promise<void> {
  const res = await registryRequest(http, 'PUT', subject === undefined ? '/config' : `/config/${encodeURIComponent(subject)}`, { compatibility: level });
  expectStatus(res, 200);
}

/** The test's own reader of Confluent's framing. */
export function readWire(bytes: Buffer): { schemaId: number; payload: Buffer } {
  if (bytes.length < 5) throw new Error(`wire value is ${bytes.length} bytes`);
  if (bytes[0] !== 0) throw new Error(`magic byte is ${bytes[0]}`);
  return { schemaId: bytes.readUInt32BE(1), payload: bytes.subarray(5) };
}

const record = (fields: unknown[]) => ({ type: 'record', name: 'User', namespace: 'com.example', fields });

/** The evolutions the compatibility tests use, each a change to `v1`. */
export const user = {
  v1: record([
    { name: 'id', type: 'int' },
    { name: 'name', type: 'string' },
  ]),
  addFieldWithDefault: record([
    { name: 'id', type: 'int' },
    { name: 'name', type: 'string' },
    { name: 'email', type: 'string', default: '' },
  ]),
  addFieldWithoutDefault: record([
    { name: 'id', type: 'int' },
    { name: 'name', type: 'string' },
    { name: 'email', type: 'string' },
  ]),
  removeField: record([{ name: 'id', type: 'int' }]),
  renameField: record([
    { name: 'id', type: 'int' },
    { name: 'fullName', type: 'string' },
  ]),
  renameFieldWithAlias: record([
    { name: 'id', type: 'int' },
    { name: 'fullName', type: 'string', aliases: ['name'] },
  ]),
  changeType: record([
    { name: 'id', type: 'string' },
    { name: 'name', type: 'string' },
  ]),
  promoteIntToLong: record([
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string' },
  ]),
};

/** A richer schema for produce validation: nested record, union, enum, array, map, bytes. */
export const order = {
  type: 'record',
  name: 'Order',
  namespace: 'com.example',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID', 'SHIPPED'] } },
    {
      name: 'address',
      type: { type: 'record', name: 'Address', fields: [{ name: 'street', type: 'string' }, { name: 'zip', type: 'int' }] },
    },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'items', type: { type: 'array', items: 'string' }, default: [] },
    { name: 'tags', type: { type: 'map', values: 'int' }, default: {} },
    { name: 'digest', type: 'bytes', default: '' },
  ],
};

export const goodOrder = {
  id: 7,
  status: 'PAID',
  address: { street: 'Main St', zip: 12345 },
  note: { string: 'leave at door' },
  items: ['a', 'b'],
  tags: { x: 1 },
  digest: '\u0001\u00ff',
};
