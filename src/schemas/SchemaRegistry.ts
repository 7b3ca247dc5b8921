/**
 * The schema registry, after the Confluent Schema Registry: global schema ids
 * (the same schema text has the same id under every subject), subjects with
 * numbered versions, soft and permanent deletes, compatibility levels globally
 * and per subject. Storage is SchemaStore; nothing here knows about HTTP.
 *
 * Registering under contention: the version number is claimed with a
 * conditional put. Two registrations of different schemas that both read
 * "latest is v3" both try v4; one wins, the other reads the versions again —
 * now including the winner — checks compatibility against it, and tries v5. A
 * registration therefore never skips the check against a version that landed
 * while it was running.
 *
 * References (src/schemas/references.ts): a schema is parsed with the schemas
 * it references in scope, and each version that references another is
 * recorded beside the referenced one ("referenced by"), so that version cannot
 * be deleted while the referring version is live (42206, as Confluent refuses
 * it). Not closed: a delete that reads no referrer while a registration that
 * references the version is between resolving it and writing its own version
 * goes ahead (Confluent's single primary serializes the two; here it would
 * take a transaction); the registration's schema then stays readable as long
 * as the referenced version is only soft-deleted.
 */
import type { Clock } from '../clock';
import { mapBounded } from '../mapBounded';
import type { Runtime } from '../runtime';
import { parseSchema, type ParsedSchema, type SchemaType } from './schemaTypes';
import { resolveReferences, type ResolvedReference, type SchemaReference } from './references';
import {
  compatibilityProblems,
  defaultCompatibilityLevel,
  type CompatibilityLevel,
} from './compatibility';
import {
  RegistryError,
  RegistryErrorCode,
  schemaNotFound,
  subjectNotFound,
  versionNotFound,
} from './errors';
import { SchemaStore, type Referrer, type StoredSchema, type StoredVersion } from './SchemaStore';

/** Attempts to claim a version number before giving up (each loser re-reads and re-checks). */
export const registerAttemptsMax = 16;
/** Schemas by id kept in memory per process: an id's text never changes, so they never go stale. */
export const schemaCacheEntriesMax = 1_000;
/** Subjects whose versions are read at once when listing. */
const subjectReadsInFlightMax = 8;
/** Schemas read by id at once (compatibility checks against several versions, fetches embedding Avro). */
export const schemaReadsInFlightMax = 8;

const int32Max = 2 ** 31 - 1;

/** `latest`, `-1`, or a version number from 1 to 2^31 − 1 (Confluent's rule); else 42202. */
export type VersionSpec = number | 'latest';
export function parseVersion(raw: string): VersionSpec {
  if (raw === 'latest' || raw === '-1') return 'latest';
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > int32Max) {
    throw new RegistryError(
      RegistryErrorCode.InvalidVersion,
      `The specified version '${raw}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest".`,
    );
  }
  return n;
}

export interface SubjectVersion {
  subject: string;
  version: number;
  id: number;
  schema: string;
  schemaType: SchemaType;
  references: SchemaReference[];
}

/**
 * Confluent's registry modes. IMPORT (registering with given ids) is not
 * offered: setting it is 42204.
 */
export const registryModes = ['READWRITE', 'READONLY', 'READONLY_OVERRIDE'] as const;
export type RegistryMode = (typeof registryModes)[number];

export interface RegisteredSchema {
  id: number;
  schema: string;
  schemaType: SchemaType;
  references: SchemaReference[];
  /** The schema parsed with its references in scope: what validation and compatibility use. */
  parsed: ParsedSchema;
}

export class SchemaRegistry {
  private readonly cache = new Map<number, RegisteredSchema>();

  constructor(
    readonly store: SchemaStore,
    private readonly clock: Clock,
  ) {}

  /** A schema by global id, from memory after its first read; undefined when unknown. */
  async schemaById(id: number): Promise<RegisteredSchema | undefined> {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const stored = await this.store.getSchema(id);
    if (!stored) return undefined;
    // Soft-deleted referenced versions still count: the schema was valid when registered, and its id stays readable.
    const parsed = await this.parse(stored.schema, stored.schemaType, stored.references, true);
    const registered: RegisteredSchema = { id, schema: stored.schema, schemaType: stored.schemaType, references: stored.references, parsed };
    if (this.cache.size >= schemaCacheEntriesMax) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(id, registered);
    return registered;
  }

  async getById(id: number): Promise<RegisteredSchema> {
    const s = await this.schemaById(id);
    if (!s) throw schemaNotFound(`with id ${id}`);
    return s;
  }

  /** The mode that applies to a subject: its own, else the global one, else READWRITE (Confluent's default). */
  async modeOf(subject: string | undefined): Promise<RegistryMode> {
    return ((subject !== undefined ? await this.store.getMode(subject) : undefined) ?? (await this.store.getMode(undefined)) ?? 'READWRITE') as RegistryMode;
  }

  /** 42205 unless the subject may change: registering and deleting are refused in the read-only modes, as Confluent refuses them. */
  async assertWritable(subject: string): Promise<void> {
    const mode = await this.modeOf(subject);
    if (mode === 'READONLY' || mode === 'READONLY_OVERRIDE') {
      throw new RegistryError(RegistryErrorCode.OperationNotPermitted, `Subject ${subject} is in read-only mode`);
    }
  }

  /** Parses a schema with the schemas its references name in scope (42201 when one does not exist). */
  async parse(text: string, schemaType: SchemaType, references: readonly SchemaReference[] = [], includeDeleted = false): Promise<ParsedSchema> {
    if (references.length === 0) return parseSchema(text, schemaType);
    const { pinned, resolved } = await resolveReferences(references, async (subject, spec) => {
      const v = (await this.store.versions(subject)).filter((x) => includeDeleted || !x.deleted);
      const found = spec === 'latest' ? v.at(-1) : v.find((x) => x.version === spec);
      const stored = found && (await this.store.getSchema(found.id));
      return stored && found ? { version: found.version, schema: stored.schema, schemaType: stored.schemaType, references: stored.references } : undefined;
    });
    return parseSchema(text, schemaType, pinned, resolved satisfies ResolvedReference[]);
  }

  /** Registers a schema under a subject: the existing id when the subject already has it, else a new version (409 if incompatible). */
  async register(subject: string, text: string, schemaType: SchemaType = 'AVRO', references: readonly SchemaReference[] = []): Promise<{ id: number; version: number }> {
    await this.assertWritable(subject);
    const parsed = await this.parse(text, schemaType, references);
    for (let attempt = 0; attempt < registerAttemptsMax; attempt++) {
      const all = await this.store.versions(subject);
      const same = all.find((v) => !v.deleted && v.fingerprint === parsed.fingerprint);
      if (same) return { id: same.id, version: same.version };
      const problems = await this.problemsAgainst(subject, parsed, all.filter((v) => !v.deleted));
      if (problems.length > 0) {
        throw new RegistryError(
          RegistryErrorCode.Incompatible,
          `Schema being registered is incompatible with an earlier schema for subject '${subject}', details: ${problems.join('; ')}`,
        );
      }
      const id = await this.idFor(parsed);
      const version = (all.at(-1)?.version ?? 0) + 1;
      if (version > int32Max) throw new RegistryError(RegistryErrorCode.InvalidVersion, `Subject '${subject}' has no version numbers left.`);
      if (all.length === 0) await this.store.addSubject(subject, this.clock.now());
      // Before the version: a delete of a referenced version must find the referrer once the version can be read.
      for (const ref of parsed.references) await this.store.putReferrer(ref.subject, ref.version, { subject, version, id }, this.clock.now());
      if (await this.store.putVersion({ subject, version, id, fingerprint: parsed.fingerprint, deleted: false }, this.clock.now())) {
        // Listed again once the version exists (addSubject is idempotent): a permanent
        // delete of the subject's last version may have unlisted it since `all` was read.
        await this.store.addSubject(subject, this.clock.now());
        return { id, version };
      }
    }
    throw new Error(`Registering under subject '${subject}' lost the race for a version number ${registerAttemptsMax} times.`);
  }

  /** The global id of a schema text, allocating one the first time it is seen. */
  private async idFor(parsed: ParsedSchema): Promise<number> {
    const existing = await this.store.idOfFingerprint(parsed.fingerprint);
    if (existing !== undefined) return existing;
    const id = await this.store.allocateId();
    const stored: StoredSchema = { id, schema: parsed.canonical, schemaType: parsed.schemaType, fingerprint: parsed.fingerprint, references: parsed.references };
    await this.store.putSchema(stored, this.clock.now());
    return this.store.claimFingerprint(parsed.fingerprint, id);
  }

  /** Looks a schema up under a subject (POST /subjects/{subject}). */
  async lookup(subject: string, text: string, schemaType: SchemaType, includeDeleted: boolean, references: readonly SchemaReference[] = []): Promise<SubjectVersion> {
    const parsed = await this.parse(text, schemaType, references, includeDeleted);
    const all = await this.store.versions(subject);
    const visible = all.filter((v) => includeDeleted || !v.deleted);
    if (visible.length === 0) throw subjectNotFound(subject);
    const match = visible.find((v) => v.fingerprint === parsed.fingerprint);
    if (!match) throw schemaNotFound(`under subject '${subject}'`);
    return { subject, version: match.version, id: match.id, schema: parsed.canonical, schemaType, references: parsed.references };
  }

  async subjects(includeDeleted: boolean): Promise<string[]> {
    const names = await this.store.subjectNames();
    const listed = await mapBounded(names, subjectReadsInFlightMax, async (s) =>
      (await this.store.versions(s)).some((v) => includeDeleted || !v.deleted),
    );
    return names.filter((_, i) => listed[i]).sort();
  }

  /** Live versions (or all, with includeDeleted); 40401 when there are none. */
  async versions(subject: string, includeDeleted = false): Promise<StoredVersion[]> {
    const visible = (await this.store.versions(subject)).filter((v) => includeDeleted || !v.deleted);
    if (visible.length === 0) throw subjectNotFound(subject);
    return visible;
  }

  async version(subject: string, spec: VersionSpec, includeDeleted = false): Promise<SubjectVersion> {
    const v = this.pick(subject, await this.versions(subject, includeDeleted), spec);
    const s = await this.getById(v.id);
    return { subject, version: v.version, id: v.id, schema: s.schema, schemaType: s.schemaType, references: s.references };
  }

  private pick(subject: string, versions: StoredVersion[], spec: VersionSpec): StoredVersion {
    const v = spec === 'latest' ? versions.at(-1) : versions.find((x) => x.version === spec);
    if (!v) throw versionNotFound(subject, spec);
    return v;
  }

  /** Where an id is used: every (subject, version) holding it. */
  async usesOf(id: number): Promise<{ subject: string; version: number }[]> {
    await this.getById(id);
    const out: { subject: string; version: number }[] = [];
    for (const subject of await this.store.subjectNames()) {
      for (const v of await this.store.versions(subject)) if (!v.deleted && v.id === id) out.push({ subject, version: v.version });
    }
    return out;
  }

  /**
   * The ids of the live versions that reference a version (Confluent's
   * `referencedby`); 40401 / 40402 when the subject or version does not exist.
   */
  async referencedBy(subject: string, spec: VersionSpec): Promise<number[]> {
    const v = this.pick(subject, await this.versions(subject, true), spec);
    return this.referrerIds(subject, v.version);
  }

  private async referrerIds(subject: string, version: number): Promise<number[]> {
    const recorded = await this.store.referrers(subject, version);
    const live = new Map<string, Promise<StoredVersion[]>>();
    const isLive = async (r: Referrer) => {
      if (!live.has(r.subject)) live.set(r.subject, this.store.versions(r.subject));
      return (await live.get(r.subject)!).some((x) => x.version === r.version && x.id === r.id && !x.deleted);
    };
    const kept = await mapBounded(recorded, schemaReadsInFlightMax, async (r) => ((await isLive(r)) ? r.id : undefined));
    return [...new Set(kept.filter((id): id is number => id !== undefined))].sort((a, b) => a - b);
  }

  /** 42206 when a live version references this one, as Confluent refuses deleting it. */
  private async assertUnreferenced(subject: string, version: number): Promise<void> {
    if ((await this.referrerIds(subject, version)).length > 0) {
      throw new RegistryError(RegistryErrorCode.ReferenceExists, `One or more references exist to the schema {subject=${subject},version=${version}}.`);
    }
  }

  /** Soft delete (mark) or permanent delete (only after a soft delete) of one version; returns its number. */
  async deleteVersion(subject: string, spec: VersionSpec, permanent: boolean): Promise<number> {
    await this.assertWritable(subject);
    const all = await this.store.versions(subject);
    if (all.length === 0) throw subjectNotFound(subject);
    if (!permanent) {
      if (spec !== 'latest' && all.some((x) => x.version === spec && x.deleted)) {
        throw new RegistryError(RegistryErrorCode.VersionSoftDeleted, `Version ${spec} of subject '${subject}' was soft deleted. Set permanent=true to delete permanently.`);
      }
      const v = this.pick(subject, all.filter((x) => !x.deleted), spec);
      await this.assertUnreferenced(subject, v.version);
      if (!(await this.store.markDeleted(subject, v.version, this.clock.now()))) throw versionNotFound(subject, v.version);
      return v.version;
    }
    const v = spec === 'latest' ? all.at(-1)! : all.find((x) => x.version === spec);
    if (!v) throw versionNotFound(subject, spec);
    if (!v.deleted) {
      throw new RegistryError(
        RegistryErrorCode.VersionNotSoftDeleted,
        `Version ${v.version} of subject '${subject}' must be soft-deleted first (DELETE without permanent=true).`,
      );
    }
    await this.assertUnreferenced(subject, v.version);
    if (!(await this.store.removeVersion(subject, v.version))) throw versionNotFound(subject, v.version);
    if (all.length === 1) await this.unlist(subject);
    return v.version;
  }

  /** Soft-deletes every live version, or (permanent, after a soft delete) removes the subject and its config; returns the versions. */
  async deleteSubject(subject: string, permanent: boolean): Promise<number[]> {
    await this.assertWritable(subject);
    const all = await this.store.versions(subject);
    if (all.length === 0) throw subjectNotFound(subject);
    const live = all.filter((v) => !v.deleted);
    if (!permanent) {
      if (live.length === 0) throw new RegistryError(RegistryErrorCode.SubjectSoftDeleted, `Subject '${subject}' was soft deleted. Set permanent=true to delete permanently.`);
      for (const v of live) await this.assertUnreferenced(subject, v.version);
      const now = this.clock.now();
      for (const v of live) await this.store.markDeleted(subject, v.version, now);
      return live.map((v) => v.version);
    }
    if (live.length > 0) {
      throw new RegistryError(RegistryErrorCode.SubjectNotSoftDeleted, `Subject '${subject}' must be soft-deleted first (DELETE without permanent=true).`);
    }
    for (const v of all) await this.assertUnreferenced(subject, v.version);
    for (const v of all) await this.store.removeVersion(subject, v.version);
    await this.store.deleteCompatibility(subject);
    await this.unlist(subject);
    return all.map((v) => v.version);
  }

  /**
   * Removes a subject from the list, and puts it back if a version exists after
   * all: a registration lists its subject after writing its version, so whichever
   * of that and this removal comes last, a subject with a version stays listed.
   */
  private async unlist(subject: string): Promise<void> {
    await this.store.removeSubject(subject);
    if ((await this.store.versions(subject)).length > 0) await this.store.addSubject(subject, this.clock.now());
  }

  /** The level in force for a subject: its own, else the global one, else BACKWARD. */
  async compatibilityOf(subject: string | undefined): Promise<CompatibilityLevel> {
    if (subject !== undefined) {
      const own = await this.store.getCompatibility(subject);
      if (own) return own;
    }
    return (await this.store.getCompatibility(undefined)) ?? defaultCompatibilityLevel;
  }

  /** Checks a schema against a subject's versions by its level; against one version when `spec` is given (as Confluent's check endpoint does). */
  async checkCompatibility(subject: string, text: string, schemaType: SchemaType, spec: VersionSpec | undefined, references: readonly SchemaReference[] = []): Promise<string[]> {
    const parsed = await this.parse(text, schemaType, references);
    const live = (await this.store.versions(subject)).filter((v) => !v.deleted);
    if (spec === undefined) return this.problemsAgainst(subject, parsed, live);
    if (live.length === 0) throw subjectNotFound(subject);
    const target = this.pick(subject, live, spec);
    const level = await this.compatibilityOf(subject);
    const prev = await this.getById(target.id);
    return compatibilityProblems(level.replace('_TRANSITIVE', '') as CompatibilityLevel, parsed, [{ version: target.version, schema: prev.parsed }]);
  }

  private async problemsAgainst(subject: string, parsed: ParsedSchema, live: StoredVersion[]): Promise<string[]> {
    const level = await this.compatibilityOf(subject);
    if (level === 'NONE' || live.length === 0) return [];
    const needed = level.endsWith('_TRANSITIVE') ? live : live.slice(-1);
    const previous = await mapBounded(needed, schemaReadsInFlightMax, async (v) => ({ version: v.version, schema: (await this.getById(v.id)).parsed }));
    return compatibilityProblems(level, parsed, previous);
  }
}

const registries = new WeakMap<Runtime, SchemaRegistry>();

/** The registry of a runtime, built on first use from its DynamoDB client and `schemas` table. */
export function registryOf(runtime: Runtime): SchemaRegistry {
  let r = registries.get(runtime);
  if (!r) {
    r = new SchemaRegistry(new SchemaStore(runtime.clients.ddb, runtime.config.tables.schemas), runtime.clock);
    registries.set(runtime, r);
  }
  return r;
}
