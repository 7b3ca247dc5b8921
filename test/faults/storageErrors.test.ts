/**
 * Storage error classification (src/storage/storageErrors.ts): every fault the
 * fault layer injects, and the wrapped shapes Node and the SDK produce, is
 * transient (503 / 50301); a client error or a failed condition is not.
 */
import { asStorageUnavailable, isConditionalCheckFailed, isTransientStorageError } from '../../src/storage/storageErrors';
import { ErrorCode } from '../../src/errors';
import { storageError, type FaultKind } from './faultyClients';

describe('storage errors are classified', () => {
  const kinds: Exclude<FaultKind, 'slow' | 'crash'>[] = ['500', '503', 'throttle', 'timeout', 'reset', 'refused'];
  test.each(kinds.flatMap((k) => (['s3', 'dynamodb'] as const).map((s) => [k, s] as const)))('%s from %s is transient: 503 / 50301', (kind, service) => {
    const err = storageError(kind, service);
    expect(isTransientStorageError(err)).toBe(true);
    expect(asStorageUnavailable(err)?.code).toBe(ErrorCode.StorageUnavailable);
  });

  test('a network failure wrapped as a cause, or inside an AggregateError, is transient', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED ::1:4569'), { code: 'ECONNREFUSED' });
    expect(isTransientStorageError(new Error('request failed', { cause: refused }))).toBe(true);
    expect(isTransientStorageError(new AggregateError([new Error('x'), refused], 'all attempts failed'))).toBe(true);
    expect(isTransientStorageError(new Error('a', { cause: new Error('b', { cause: new Error('c', { cause: new Error('d', { cause: refused }) }) }) }))).toBe(false);
  });

  test('client errors and failed conditions are not transient', () => {
    const sdk = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    for (const e of [sdk('ValidationException', 400), sdk('ResourceNotFoundException', 400), sdk('NoSuchKey', 404), sdk('AccessDenied', 403), new Error('plain'), 'text', null]) {
      expect(isTransientStorageError(e)).toBe(false);
    }
    expect(isConditionalCheckFailed(sdk('ConditionalCheckFailedException', 400))).toBe(true);
    expect(isTransientStorageError(sdk('ConditionalCheckFailedException', 400))).toBe(false);
  });
});

test("the SDK's wrapper of a non-Error rejection keeps only text; a network code in it is transient", () => {
  expect(isTransientStorageError(new Error('AWS SDK error wrapper for Error: connect ECONNREFUSED 127.0.0.1:39137'))).toBe(true);
  expect(isTransientStorageError(new Error('AWS SDK error wrapper for Error: something else'))).toBe(false);
});
