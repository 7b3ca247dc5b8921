/**
 * How a failure reaches a person (one line on stderr: what went wrong, with
 * which value, what to do) or a program (with --json: one JSON object on
 * stderr). Exit codes: 2 for usage errors, 1 for everything else.
 *
 * `error_code` in the JSON form is the contract's code when the server
 * answered (40401, 40925, 42201, …; docs/api.md). Failures the CLI finds
 * itself get codes of the same shape, so a script can switch on one number:
 *
 *   40000  usage: a bad flag, argument or input line (exit 2)
 *   50300  the server could not be reached
 *   50000  anything else
 */
import { CommanderError } from 'commander';
import { StrandApiError, StrandConnectionError, StrandUsageError } from '../client';
import { UsageError, activeSettings } from './context';

export const usageErrorCode = 40000;
export const unreachableErrorCode = 50300;
export const otherErrorCode = 50000;

export interface DescribedError {
  message: string;
  exitCode: number;
  /** The contract's code, or one of the CLI's own (above). */
  errorCode: number;
  /** The HTTP status, when the server answered. */
  status?: number;
}

/** One line for a person: what went wrong, with which value, and what to do. */
export function describeError(err: unknown): DescribedError {
  if (err instanceof UsageError || err instanceof StrandUsageError) return { message: err.message, exitCode: 2, errorCode: usageErrorCode };
  if (err instanceof CommanderError) return { message: err.message.replace(/^error: /, ''), exitCode: 2, errorCode: usageErrorCode };
  if (err instanceof StrandConnectionError) {
    const hint = err.refused ? ' Is Strand running? Start a local one with `npm start`, or point --url (STRAND_URL) at yours.' : '';
    return { message: `${err.message}${hint}`, exitCode: 1, errorCode: unreachableErrorCode };
  }
  if (err instanceof StrandApiError) {
    const note = activeSettings?.apiKeyNote ? ` (${activeSettings.apiKeyNote}.)` : '';
    const hint =
      // The registry's 40401 is Confluent's "subject not found", not an unknown cluster.
      err.code === 40401 && err.name !== 'SchemaRegistryError'
        ? ' Check --cluster (STRAND_CLUSTER).'
        : err.code === 40925
          ? ' Stop its consumers first (a stopped `strand consume` leaves at once), or wait for their sessions to time out; `strand groups describe` lists them.'
          : err.code === 40101 || err.status === 403
            ? ` Check --api-key (STRAND_API_KEY), your profile, or your AWS credentials.${note}`
            : '';
    return { message: `${err.message} (error ${err.code})${hint}`, exitCode: 1, errorCode: err.code, status: err.status };
  }
  if (err instanceof Error && (err as NodeJS.ErrnoException).code === 'ENOENT') return { message: err.message, exitCode: 1, errorCode: otherErrorCode };
  return { message: err instanceof Error ? err.message : String(err), exitCode: 1, errorCode: otherErrorCode };
}

/** The --json form, one line: `{"error_code":40401,"message":"…"}` (and `status` when the server answered). */
export function errorJson(d: DescribedError): string {
  return `${JSON.stringify({ error_code: d.errorCode, message: d.message, ...(d.status !== undefined ? { status: d.status } : {}) })}\n`;
}
