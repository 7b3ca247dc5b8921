/** Every operation of the API, by route key. Each function serves the subset its routes name. */
import type { Runtime } from '../runtime';
import type { ApiRequest, ApiResponse } from './http';
import { topicOperations } from './topics';
import { produceOperations } from './produce';
import { fetchOperations } from './fetch';
import { multiFetchOperations } from './multiFetch';
import { producerOperations } from './producers';
import { groupOperations } from './groups';
import { consumerOperations } from './consumers';
import { recordsOperations } from './records';
import { uploadOperations } from './uploads';
import { schemaOperations } from './schemas';
import { apiKeyOperations } from './apiKeys';
import { notificationOperations } from './notifications';
import { triggerOperations } from './triggers';

export type Operation = (req: ApiRequest, runtime: Runtime) => Promise<ApiResponse>;

export const operations: Record<string, Operation> = {
  ...topicOperations,
  ...produceOperations,
  ...fetchOperations,
  ...multiFetchOperations,
  ...producerOperations,
  ...groupOperations,
  ...consumerOperations,
  ...recordsOperations,
  ...uploadOperations,
  ...schemaOperations,
  ...apiKeyOperations,
  ...notificationOperations,
  ...triggerOperations,
};
