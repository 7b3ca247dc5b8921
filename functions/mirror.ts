/**
 * Lambda entry point of a `StrandMirror` (infra/mirror.ts): a bounded run of
 * the mirror, invoked by its EventBridge schedule (src/mirror/lambda.ts).
 */
import { runMirrorFunction } from '../src/mirror/lambda';

export const handler = async (): Promise<{ copied: number; caughtUp: boolean; errors: string[] }> => runMirrorFunction();
