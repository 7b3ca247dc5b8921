/** Lambda entry point for the notice socket's WebSocket routes (src/notify/socketHandlers.ts). */
import { createNoticeSocketHandler } from '../src/notify/lambda';
import { runtimeFromEnvironment } from '../src/runtime';

export const handler = createNoticeSocketHandler(runtimeFromEnvironment);
