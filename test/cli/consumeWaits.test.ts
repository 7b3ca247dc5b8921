/**
 * `strand consume` at the end of the log waits on the notice socket (it is the
 * SDK consumer): while nothing arrives it sends no request, and a record
 * produced while it waits is printed. How: the gateway counts every request.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startTestStrand, type TestStrand } from '../support/localStrand';
import { until } from '../support/clientHarness';

const bin = join(__dirname, '..', '..', 'bin', 'strand.js');

describe('strand consume waits without polling', () => {
  let strand: TestStrand;
  const requests: string[] = [];
  beforeAll(async () => {
    strand = await startTestStrand({ onRequest: (r) => requests.push(r.routeKey) });
  });
  afterAll(() => strand.dispose());

  const fetches = () => requests.filter((k) => (k.startsWith('GET') && k.endsWith('/records')) || k.endsWith('/records:fetch')).length;

  test('a consume at the end of 3 partitions makes no request until a record arrives, then prints it', async () => {
    expect((await strand.http.request('POST', '/v3/clusters/local/topics', { json: { topic_name: 'cli-wait', partitions_count: 3 } })).status).toBe(201);
    const child = spawn(process.execPath, [bin, 'consume', 'cli-wait', '--max-messages', '1'], {
      env: { ...process.env, STRAND_URL: strand.url, STRAND_CLUSTER: 'local' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await until(() => strand.notices.socket.stats().open === 1 && fetches() >= 1, 15_000);
      await new Promise((r) => setTimeout(r, 500)); // the caught-up fetches and their arms
      const before = fetches();
      await new Promise((r) => setTimeout(r, 1_500));
      expect(fetches()).toBe(before);
      const res = await strand.http.request('POST', '/v3/clusters/local/topics/cli-wait/records', { json: { partition_id: 1, value: { type: 'STRING', data: 'woken' } } });
      expect(res.status).toBe(200);
      expect(await exited).toBe(0);
      expect(stdout).toBe('woken\n');
      expect(fetches() - before).toBeLessThanOrEqual(2);
    } finally {
      child.kill();
    }
  });
});
