/**
 * The Confluent Schema Registry's error codes, for the registry routes only
 * (/schemas, /subjects, /config, /compatibility). Registry clients — Confluent's
 * serializers, `@kafkajs/confluent-schema-registry` — branch on these numbers,
 * so they follow Confluent, not Strand's REST Proxy table: 40401 here means
 * "subject not found", and 409 is a bare three-digit code.
 *
 * A RegistryError is a StrandError, so the dispatcher turns it into the same
 * `{"error_code", "message"}` body; only the status rule differs for 409.
 */
import { StrandError, type ErrorCode } from '../errors';

export const RegistryErrorCode = {
  SubjectNotFound: 40401,
  VersionNotFound: 40402,
  SchemaNotFound: 40403,
  SubjectSoftDeleted: 40404,
  SubjectNotSoftDeleted: 40405,
  VersionSoftDeleted: 40406,
  VersionNotSoftDeleted: 40407,
  SubjectConfigNotFound: 40408,
  SubjectModeNotFound: 40409,
  Incompatible: 409,
  InvalidSchema: 42201,
  InvalidVersion: 42202,
  InvalidCompatibilityLevel: 42203,
  InvalidMode: 42204,
  OperationNotPermitted: 42205,
  /** A version another schema references cannot be deleted (Confluent's REFERENCE_EXISTS_ERROR_CODE). */
  ReferenceExists: 42206,
  InvalidSubject: 42208,
} as const;
export type RegistryErrorCode = (typeof RegistryErrorCode)[keyof typeof RegistryErrorCode];

export class RegistryError extends StrandError {
  override name = 'RegistryError';
  constructor(readonly registryCode: RegistryErrorCode, message: string) {
    // The code table of src/errors.ts is Strand's; the registry's codes live beside it, on the same wire shape.
    super(registryCode as unknown as ErrorCode, message);
  }

  /** Five-digit codes carry their status in the first three digits; 409 is its own status. */
  override get status(): number {
    return this.registryCode < 1000 ? this.registryCode : Math.floor(this.registryCode / 100);
  }
}

export const subjectNotFound = (subject: string) =>
  new RegistryError(RegistryErrorCode.SubjectNotFound, `Subject '${subject}' not found.`);
export const versionNotFound = (subject: string, version: number | string) =>
  new RegistryError(RegistryErrorCode.VersionNotFound, `Version ${version} of subject '${subject}' not found.`);
export const schemaNotFound = (what: string) => new RegistryError(RegistryErrorCode.SchemaNotFound, `Schema ${what} not found.`);
export const invalidSchema = (message: string) => new RegistryError(RegistryErrorCode.InvalidSchema, message);
