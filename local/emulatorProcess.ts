/**
 * The embedded emulators in a child process, so they get a core of their own
 * the way S3 and DynamoDB are other machines on AWS. The bench uses this:
 * in one process, the emulators' CPU and Strand's would share one event loop.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Emulators } from './emulators';

export async function startEmulatorsInChildProcess(dataDir: string): Promise<Emulators> {
  const child = spawn(process.execPath, [join(__dirname, 'emulatorChild.js'), dataDir], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`The emulator process exited with code ${code} before it started.`)));
  });
  const endpoints = JSON.parse(line) as { dynamodbEndpoint: string; s3Endpoint: string };
  return {
    ...endpoints,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
