/**
 * The schema registry's HTTP API, at the Confluent Schema Registry's paths and
 * with its bodies and error codes, so Confluent serializers, deserializers and
 * `@kafkajs/confluent-schema-registry` work with Strand's URL unchanged. Served
 * by the `schemas` function (src/api/routes.ts); the logic is src/schemas/.
 */
import { z } from 'zod';
import type { Runtime } from '../runtime';
import type { ApiRequest, ApiResponse } from './http';
import type { Operation } from './operations';
import { parseJsonBody, pathParam, queryInteger } from './request';
import { mapBounded } from '../mapBounded';
import { isSchemaType, schemaTypes, type SchemaType } from '../schemas/schemaTypes';
import { referencesFromBody, type SchemaReference } from '../schemas/references';
import { subjectCharsMax } from '../schemas/schemaBounds';
import { compatibilityLevels, isCompatibilityLevel } from '../schemas/compatibility';
import { RegistryError, RegistryErrorCode, invalidSchema } from '../schemas/errors';
import { parseVersion, registryModes, registryOf, type RegistryMode } from '../schemas/SchemaRegistry';

export const registryMediaType = 'application/vnd.schemaregistry.v1+json';
/** Request bodies the registry takes: Confluent's vendor types and plain JSON. */
const registryJsonType = /^application\/(json|vnd\.schemaregistry(\.v1)?\+json)$/;
/** Longest subject name accepted (Confluent bounds it by its own store; this is ample). */
export const subjectLengthMax = subjectCharsMax;

function ok(json: unknown): ApiResponse {
  return { status: 200, headers: { 'content-type': registryMediaType }, json };
}

/** Registry bodies: its media types, and a too-deep body is an invalid schema (422 / 42201), as Confluent's clients expect a registry code. */
function parseBody<S extends z.ZodType>(req: ApiRequest, schema: S): z.infer<S> {
  return parseJsonBody(req, schema, { accepted: registryJsonType, tooDeep: invalidSchema });
}

export const schemaBody = z.object({
  schema: z.unknown(),
  schemaType: z.unknown().optional(),
  references: z.unknown().optional(),
});

/** The schema text, type and references of a register, lookup or check body; problems with them are 42201 (invalid schema). */
function schemaOf(req: ApiRequest): { text: string; schemaType: SchemaType; references: SchemaReference[] } {
  const body = parseBody(req, schemaBody);
  if (typeof body.schema !== 'string' || body.schema.trim() === '') throw invalidSchema(`Field 'schema' must be the schema as a non-empty string.`);
  const schemaType = body.schemaType ?? 'AVRO';
  if (!isSchemaType(schemaType)) {
    throw invalidSchema(`Schema type '${String(schemaType)}' is not supported; supported: ${schemaTypes.join(', ')}.`);
  }
  return { text: body.schema, schemaType, references: referencesFromBody(body.references) };
}

function subjectParam(req: ApiRequest): string {
  const subject = pathParam(req, 'subject');
  // eslint-disable-next-line no-control-regex
  if (subject.length === 0 || subject.length > subjectLengthMax || /[\u0000-\u001f]/.test(subject)) {
    throw new RegistryError(RegistryErrorCode.InvalidSubject, `Subject name must be 1 to ${subjectLengthMax} characters without control characters.`);
  }
  return subject;
}

function idParam(req: ApiRequest): number {
  const raw = pathParam(req, 'id');
  const n = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > 2 ** 31 - 1) {
    throw new RegistryError(RegistryErrorCode.SchemaNotFound, `Schema with id '${raw}' not found (ids are positive integers).`);
  }
  return n;
}

/** A mode body `{"mode": "READONLY"}`: one of registryModes, else 42204. */
function modeOf(req: ApiRequest): RegistryMode {
  const body = parseBody(req, z.object({ mode: z.string().max(64) }));
  const mode = body.mode.toUpperCase();
  if (!(registryModes as readonly string[]).includes(mode)) {
    throw new RegistryError(RegistryErrorCode.InvalidMode, `Invalid mode '${body.mode}'. Valid values are ${registryModes.join(', ')}.`);
  }
  return mode as RegistryMode;
}

const flag = (req: ApiRequest, name: string) => (req.query[name] ?? '').toLowerCase() === 'true';

/** Schemas one `GET /schemas` lists at most (Confluent pages it too); more with `offset`. */
const schemasListedMax = 1_000;
/** Registry reads one `GET /schemas` has in flight at once. */
const schemaListReadsInFlightMax = 8;

const withType = <T extends { schemaType: SchemaType; references?: SchemaReference[] }>(x: T) => {
  // Confluent omits schemaType for AVRO, the default, and references when there are none.
  const { schemaType, references, ...rest } = x;
  return { ...rest, ...(schemaType === 'AVRO' ? {} : { schemaType }), ...(references && references.length > 0 ? { references } : {}) };
};

/** A schema as `…/schema` routes return it: the JSON itself for Avro and JSON Schema, the .proto text (a JSON string) for Protobuf. */
const rawSchema = (s: { schema: string; schemaType: SchemaType }) => (s.schemaType === 'PROTOBUF' ? s.schema : JSON.parse(s.schema));

export const compatibilityBody = z.object({ compatibility: z.unknown() });

function levelOf(req: ApiRequest) {
  const body = parseBody(req, compatibilityBody);
  if (!isCompatibilityLevel(body.compatibility)) {
    throw new RegistryError(
      RegistryErrorCode.InvalidCompatibilityLevel,
      `Invalid compatibility level '${String(body.compatibility)}'. Valid values are ${compatibilityLevels.join(', ')}.`,
    );
  }
  return body.compatibility;
}

const check = async (req: ApiRequest, runtime: Runtime, withVersion: boolean) => {
  const subject = subjectParam(req);
  const spec = withVersion ? parseVersion(pathParam(req, 'version')) : undefined;
  const { text, schemaType, references } = schemaOf(req);
  const problems = await registryOf(runtime).checkCompatibility(subject, text, schemaType, spec, references);
  return ok({ is_compatible: problems.length === 0, ...(flag(req, 'verbose') ? { messages: problems } : {}) });
};

export const schemaOperations: Record<string, Operation> = {
  'GET /schemas/types': async () => ok(schemaTypes),

  'GET /schemas/ids/{id}': async (req, runtime) => {
    const s = await registryOf(runtime).getById(idParam(req));
    return ok(withType({ schema: s.schema, schemaType: s.schemaType, references: s.references }));
  },
  'GET /schemas/ids/{id}/schema': async (req, runtime) => ok(rawSchema(await registryOf(runtime).getById(idParam(req)))),
  'GET /schemas/ids/{id}/versions': async (req, runtime) => ok(await registryOf(runtime).usesOf(idParam(req))),
  'GET /schemas/ids/{id}/subjects': async (req, runtime) => ok([...new Set((await registryOf(runtime).usesOf(idParam(req))).map((u) => u.subject))]),

  /** Confluent's `subjectPrefix` filter too. */
  'GET /subjects': async (req, runtime) => {
    const prefix = req.query.subjectPrefix ?? '';
    return ok((await registryOf(runtime).subjects(flag(req, 'deleted'))).filter((subject) => subject.startsWith(prefix)));
  },

  /**
   * Confluent's `GET /schemas`: every registered version (with `latestOnly`,
   * each subject's newest), filtered by `subjectPrefix`, in subject and
   * version order, paged with `offset` and `limit`.
   */
  'GET /schemas': async (req, runtime) => {
    const registry = registryOf(runtime);
    const prefix = req.query.subjectPrefix ?? '';
    const deleted = flag(req, 'deleted');
    const subjects = (await registry.subjects(deleted)).filter((subject) => subject.startsWith(prefix));
    const offset = queryInteger(req, 'offset', { min: 0, max: Number.MAX_SAFE_INTEGER, default: 0 });
    const limit = queryInteger(req, 'limit', { min: -1, max: schemasListedMax, default: -1 });
    const perSubject = await mapBounded(subjects, schemaListReadsInFlightMax, async (subject) => {
      const versions = await registry.versions(subject, deleted).catch(() => []);
      return flag(req, 'latestOnly') ? versions.slice(-1).map((v) => ({ subject, v })) : versions.map((v) => ({ subject, v }));
    });
    const picked = perSubject.flat().slice(offset, limit < 0 ? offset + schemasListedMax : offset + limit);
    const out = await mapBounded(picked, schemaListReadsInFlightMax, async ({ subject, v }) => {
      const s = await registry.getById(v.id);
      return withType({ subject, version: v.version, id: v.id, schema: s.schema, schemaType: s.schemaType, references: s.references });
    });
    return ok(out);
  },

  /** Confluent answers its root with an empty object (clients use it as a liveness check). */
  'GET /': async () => ok({}),

  'POST /subjects/{subject}': async (req, runtime) => {
    const subject = subjectParam(req);
    const { text, schemaType, references } = schemaOf(req);
    return ok(withType(await registryOf(runtime).lookup(subject, text, schemaType, flag(req, 'deleted'), references)));
  },
  'DELETE /subjects/{subject}': async (req, runtime) => ok(await registryOf(runtime).deleteSubject(subjectParam(req), flag(req, 'permanent'))),

  'GET /subjects/{subject}/versions': async (req, runtime) =>
    ok((await registryOf(runtime).versions(subjectParam(req), flag(req, 'deleted'))).map((v) => v.version)),
  'POST /subjects/{subject}/versions': async (req, runtime) => {
    const subject = subjectParam(req);
    const { text, schemaType, references } = schemaOf(req);
    const { id } = await registryOf(runtime).register(subject, text, schemaType, references);
    return ok({ id });
  },
  'GET /subjects/{subject}/versions/{version}': async (req, runtime) =>
    ok(withType(await registryOf(runtime).version(subjectParam(req), parseVersion(pathParam(req, 'version')), flag(req, 'deleted')))),
  'GET /subjects/{subject}/versions/{version}/schema': async (req, runtime) =>
    ok(rawSchema(await registryOf(runtime).version(subjectParam(req), parseVersion(pathParam(req, 'version')), flag(req, 'deleted')))),
  /** The ids of live schemas that reference this version (Confluent's `referencedby`). */
  'GET /subjects/{subject}/versions/{version}/referencedby': async (req, runtime) =>
    ok(await registryOf(runtime).referencedBy(subjectParam(req), parseVersion(pathParam(req, 'version')))),
  'DELETE /subjects/{subject}/versions/{version}': async (req, runtime) =>
    ok(await registryOf(runtime).deleteVersion(subjectParam(req), parseVersion(pathParam(req, 'version')), flag(req, 'permanent'))),

  'GET /mode': async (_req, runtime) => ok({ mode: await registryOf(runtime).modeOf(undefined) }),
  'PUT /mode': async (req, runtime) => {
    const mode = modeOf(req);
    await registryOf(runtime).store.setMode(undefined, mode, runtime.clock.now());
    return ok({ mode });
  },
  'DELETE /mode': async (_req, runtime) => {
    const registry = registryOf(runtime);
    const before = await registry.modeOf(undefined);
    await registry.store.deleteMode(undefined);
    return ok({ mode: before });
  },
  'GET /mode/{subject}': async (req, runtime) => {
    const subject = subjectParam(req);
    const registry = registryOf(runtime);
    const own = await registry.store.getMode(subject);
    if (own) return ok({ mode: own });
    if (flag(req, 'defaultToGlobal')) return ok({ mode: await registry.modeOf(undefined) });
    throw new RegistryError(RegistryErrorCode.SubjectModeNotFound, `Subject '${subject}' does not have subject-level mode configured.`);
  },
  'PUT /mode/{subject}': async (req, runtime) => {
    const mode = modeOf(req);
    await registryOf(runtime).store.setMode(subjectParam(req), mode, runtime.clock.now());
    return ok({ mode });
  },
  'DELETE /mode/{subject}': async (req, runtime) => {
    const subject = subjectParam(req);
    const before = await registryOf(runtime).store.deleteMode(subject);
    if (!before) throw new RegistryError(RegistryErrorCode.SubjectModeNotFound, `Subject '${subject}' does not have subject-level mode configured.`);
    return ok({ mode: before });
  },

  'GET /config': async (_req, runtime) => ok({ compatibilityLevel: await registryOf(runtime).compatibilityOf(undefined) }),
  'PUT /config': async (req, runtime) => {
    const level = levelOf(req);
    await registryOf(runtime).store.setCompatibility(undefined, level, runtime.clock.now());
    return ok({ compatibility: level });
  },
  'DELETE /config': async (_req, runtime) => {
    const registry = registryOf(runtime);
    const before = await registry.compatibilityOf(undefined);
    await registry.store.deleteCompatibility(undefined);
    return ok({ compatibilityLevel: before });
  },
  'GET /config/{subject}': async (req, runtime) => {
    const subject = subjectParam(req);
    const registry = registryOf(runtime);
    const own = await registry.store.getCompatibility(subject);
    if (own) return ok({ compatibilityLevel: own });
    if (flag(req, 'defaultToGlobal')) return ok({ compatibilityLevel: await registry.compatibilityOf(undefined) });
    throw new RegistryError(RegistryErrorCode.SubjectConfigNotFound, `Subject '${subject}' does not have subject-level compatibility configured.`);
  },
  'PUT /config/{subject}': async (req, runtime) => {
    const subject = subjectParam(req);
    const level = levelOf(req);
    await registryOf(runtime).store.setCompatibility(subject, level, runtime.clock.now());
    return ok({ compatibility: level });
  },
  'DELETE /config/{subject}': async (req, runtime) => {
    const subject = subjectParam(req);
    const before = await registryOf(runtime).store.deleteCompatibility(subject);
    if (!before) throw new RegistryError(RegistryErrorCode.SubjectConfigNotFound, `Subject '${subject}' does not have subject-level compatibility configured.`);
    return ok({ compatibilityLevel: before });
  },

  'POST /compatibility/subjects/{subject}/versions/{version}': (req, runtime) => check(req, runtime, true),
  'POST /compatibility/subjects/{subject}/versions': (req, runtime) => check(req, runtime, false),
};
