/**
 * The web console on AWS (issue 20, docs/console.md): its three static files,
 * built at synth with esbuild (console/build.ts) and embedded in a small
 * function of their own, answering two routes of the cluster's HTTP API:
 *
 *   GET /console, GET /console/{file}  ──▶  console function (128 MB, no grants)
 *
 * Same origin as the API, so the page calls the API with no CORS, and the
 * deployment's own authentication applies to every API call it makes: the
 * routes themselves take no authorizer (the files hold no data and no
 * secret), while the API key or JWT pasted into the console rides each API
 * request. The function's role has nothing but its log group: least
 * privilege is no access at all to the bucket, the tables or anything else.
 *
 * Why not a bucket and CloudFront: four more resources (and a distribution's
 * 15-minute deploys) to serve about 20 KB; a cold start of a 128 MB function
 * that only returns constants is tens of milliseconds.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Construct } from 'constructs';
import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { buildConsoleSync, consoleHeaders, consolePath, type ConsoleAssets } from '../console/build';

export interface StrandConsoleProps {
  /** The cluster's HTTP API: the console is served at its `/console`. */
  readonly api: apigw.HttpApi;
  /** The API's base URL (the stage's), for the `ConsoleUrl` output. */
  readonly apiUrl: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Of the function's log group. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** Built at synth unless given (tests pass a fixed set). @default buildConsoleSync() */
  readonly assets?: ConsoleAssets;
}

/** The console function's memory: it returns constants. */
export const consoleMemoryMiB = 128;
export const consoleTimeout = Duration.seconds(5);
/** The routes, relative to the API. */
export const consoleRoutePaths = [consolePath, `${consolePath}/{file}`] as const;

/**
 * The function's whole source: the assets as base64 constants and a handler
 * choosing one by path (payload v2), naming files as `consoleFileOf` does for
 * the local runtime (infra/console.test.ts calls both on the same paths).
 */
export function consoleHandlerSource(assets: ConsoleAssets): string {
  const files = Object.fromEntries([...assets].map(([name, a]) => [name, { type: a.contentType, body: a.body.toString('base64') }]));
  return `'use strict';
const consolePath = ${JSON.stringify(consolePath)};
const files = ${JSON.stringify(files)};
const headers = ${JSON.stringify(consoleHeaders)};
function consoleFileOf(pathname) {
  const rest = pathname.slice(consolePath.length).replace(/^\\//, '');
  return rest === '' ? 'index.html' : rest;
}
exports.handler = async (event) => {
  const file = files[consoleFileOf(event.rawPath || consolePath)];
  if (!file) return { statusCode: 404, headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' }, body: 'Not found' };
  return { statusCode: 200, headers: { ...headers, 'content-type': file.type }, body: file.body, isBase64Encoded: true };
};
`;
}

export class StrandConsole extends Construct {
  readonly function: lambda.Function;
  readonly routes: apigw.HttpRoute[];
  /** The console's URL: the API's base URL + `console`. */
  readonly url: string;
  /** Where the function's code was written at synth (one index.js). */
  readonly codeDir: string;

  constructor(scope: Construct, id: string, props: StrandConsoleProps) {
    super(scope, id);
    this.codeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strand-console-'));
    fs.writeFileSync(path.join(this.codeDir, 'index.js'), consoleHandlerSource(props.assets ?? buildConsoleSync()));
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH, removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN });
    this.function = new lambda.Function(this, 'Function', {
      description: 'Strand web console: static files (console/)',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(this.codeDir),
      memorySize: consoleMemoryMiB,
      timeout: consoleTimeout,
      logGroup,
    });
    const integration = new HttpLambdaIntegration('Integration', this.function, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      scopePermissionToRoute: false,
    });
    this.routes = consoleRoutePaths.map(
      (routePath) =>
        new apigw.HttpRoute(this, `Route ${routePath.replace(/\//g, '|')}`, {
          httpApi: props.api,
          routeKey: apigw.HttpRouteKey.with(routePath, apigw.HttpMethod.GET),
          integration,
          // The files are public; every API request the page makes carries the deployment's credentials.
          authorizer: new apigw.HttpNoneAuthorizer(),
        }),
    );
    this.url = `${props.apiUrl}console`;
    new CfnOutput(this, 'Url', { value: this.url, description: 'The Strand web console (docs/console.md)' });
  }
}
