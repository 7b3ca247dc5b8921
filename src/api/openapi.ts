/**
 * `GET /openapi.json`: the OpenAPI 3.1 document of the HTTP API, as checked in
 * at docs/openapi.json. The document is built from the route table and the
 * request schemas by src/api/openapiBuild.ts (`npm run openapi`), and
 * test/api/openapi.test.ts fails when the checked-in copy and the builder
 * drift; served from the copy so the admin function's bundle carries the
 * document, not every function's request schemas.
 */
import type { Operation } from './operations';

export const openApiPath = '/openapi.json';

// A require, not an import: bundled as it is (esbuild), and tsc does not infer a type for the whole document.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const openApiDocument: unknown = require('../../docs/openapi.json');

export const openApiOperations: Record<string, Operation> = {
  [`GET ${openApiPath}`]: async () => ({ status: 200, headers: { 'cache-control': 'max-age=300' }, json: openApiDocument }),
};
