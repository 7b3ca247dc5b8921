/**
 * The embedded emulators in child processes, one each, so S3 and DynamoDB get
 * cores of their own the way they are other machines on AWS. The bench uses
 * this: in one process, the emulators' CPU and Strand's would share one event
 * loop, and the bench would measure that instead.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Emulator, Emulators } from './emulators';

async function startChild(which: 's3' | 'dynamodb', dataDir: string): Promise<Emulator & { pid: number }> {
  const child = spawn(process.execPath, [join(__dirname, 'emulatorChild.js'), which, dataDir], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`The ${which} emulator process exited with code ${code} before it started.`)));
  });
  return {
    endpoint: (JSON.parse(line) as { endpoint: string }).endpoint,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function startEmulatorsInChildProcess(dataDir: string): Promise<Emulators> {
  const [ddb, s3] = await Promise.all([startChild('dynamodb', dataDir), startChild('s3', dataDir)]);
  return {
    dynamodbEndpoint: ddb.endpoint,
    s3Endpoint: s3.endpoint,
    pids: { s3: s3.pid, dynamodb: ddb.pid },
    async stop() {
      await Promise.all([s3.stop(), ddb.stop()]);
    },
  };
}
