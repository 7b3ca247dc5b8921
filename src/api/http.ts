/**
 * The runtime-agnostic shape of a request and a response. The Lambda adapter
 * (API Gateway payload v2) and the local gateway only translate to and from these.
 */
export interface ApiRequest {
  /** "METHOD /path/{param}", exactly as in the route table. */
  routeKey: string;
  pathParameters: Record<string, string>;
  query: Record<string, string>;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** Raw body bytes; empty when there is none. */
  body: Buffer;
}

export interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  /** A JSON body. */
  json?: unknown;
  /** A binary body (sent base64-encoded through API Gateway). */
  binary?: Buffer;
  /** A text body sent as is (a stream of JSON values: streamed produce's delivery reports). */
  text?: string;
}

/** Largest request body the API accepts (the contract's 41301). */
export const requestBodyBytesMax = 4 * 1024 * 1024;
