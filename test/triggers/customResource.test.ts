/**
 * Triggers declared in CDK: the `Custom::StrandTrigger` provider's handler
 * (src/triggers/customResource.ts) against a local Strand's emulators —
 * Create, a repeated Create (CloudFormation re-sends), Update of settings and
 * state (a PATCH), Update of the target (delete and create), Update under a
 * new name, Delete (twice), and a failed Create whose rollback Delete touches
 * nothing. How: the handler's responses go to a recorder instead of S3; the
 * trigger is read back over the API.
 */
import { createServer, type Server } from 'node:http';
import { createTopic, type TestStrand } from '../support/localStrand';
import { createTriggerResourceHandler, putResponse, type TriggerResourceEvent } from '../../src/triggers/customResource';
import { createTrigger as createViaApi, startTriggerStrand, triggersPath } from './support';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTriggerStrand({ triggers: false });
  await createTopic(strand.http, 'cr-orders', 2);
  await createTopic(strand.http, 'cr-dlq', 1);
});
afterAll(() => strand.dispose());

interface Response {
  Status: 'SUCCESS' | 'FAILED';
  Reason: string;
  PhysicalResourceId: string;
  RequestId: string;
  Data?: { TriggerName: string; ConsumerGroupId: string };
}
const responses: Response[] = [];
const handler = createTriggerResourceHandler(() => strand.runtime, { respond: async (_url, body) => void responses.push(JSON.parse(body) as Response) });

let requests = 0;
function event(type: TriggerResourceEvent['RequestType'], trigger: Record<string, unknown> | undefined, physicalId?: string, old?: Record<string, unknown>): TriggerResourceEvent {
  return {
    RequestType: type,
    ResponseURL: 'https://cloudformation-custom-resource-response.example/presigned',
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/app/1',
    RequestId: `req-${++requests}`,
    LogicalResourceId: 'StrandTriggerOrdersToHook',
    ResourceType: 'Custom::StrandTrigger',
    ...(physicalId !== undefined ? { PhysicalResourceId: physicalId } : {}),
    ResourceProperties: trigger ? { Trigger: JSON.stringify(trigger) } : {},
    ...(old ? { OldResourceProperties: { Trigger: JSON.stringify(old) } } : {}),
  };
}
async function send(e: TriggerResourceEvent): Promise<Response> {
  await handler(e);
  return responses[responses.length - 1]!;
}
const get = async (name: string) => strand.http.get(`${triggersPath}/${name}`);
const committed = async (name: string) => (await strand.http.get(`/v3/clusters/${strand.runtime.config.clusterId}/consumer-groups/trigger-${name}/lags`)).json.data as { partition_id: number; current_offset: number }[];

const declared = {
  trigger_name: 'cr-hook',
  topic_name: 'cr-orders',
  target: { type: 'http', url: 'https://hooks.example.com/orders' },
  batch_size: 50,
  starting_position: 'EARLIEST',
};

describe('Custom::StrandTrigger', () => {
  test('Create makes the trigger as a POST would; a repeated Create succeeds and changes nothing', async () => {
    const created = await send(event('Create', declared));
    expect(created).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'cr-hook', Data: { TriggerName: 'cr-hook', ConsumerGroupId: 'trigger-cr-hook' } });
    const first = await get('cr-hook');
    expect(first.json).toMatchObject({ trigger_name: 'cr-hook', topic_name: 'cr-orders', batch_size: 50, state: 'ACTIVE', starting_position: 'EARLIEST' });
    expect((await committed('cr-hook')).map((l) => l.partition_id).sort()).toEqual([0, 1]);

    const again = await send(event('Create', declared));
    expect(again).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'cr-hook' });
    expect((await get('cr-hook')).json.updated_at).toBe(first.json.updated_at);
  });

  test('Update of settings and state is a PATCH: the position is kept; left-out settings go back to their defaults', async () => {
    await strand.http.post(`/v3/clusters/${strand.runtime.config.clusterId}/topics/cr-orders/records`, { partition_id: 0, value: { type: 'STRING', data: 'x' } });
    const before = await committed('cr-hook');
    const next = { ...declared, batch_size: undefined, max_batching_window_ms: 1_000, dead_letter_topic: 'cr-dlq', state: 'PAUSED' };
    const updated = await send(event('Update', next, 'cr-hook', declared));
    expect(updated).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'cr-hook' });
    expect((await get('cr-hook')).json).toMatchObject({ batch_size: 100, max_batching_window_ms: 1_000, dead_letter_topic: 'cr-dlq', state: 'PAUSED', max_retry_attempts: 3 });
    expect(await committed('cr-hook')).toEqual(before);
  });

  test('Update of the target deletes and creates the trigger; Update under a new name creates the new one (CloudFormation then deletes the old)', async () => {
    const moved = { ...declared, target: { type: 'http', url: 'https://hooks.example.com/v2' }, starting_position: 'LATEST' };
    expect(await send(event('Update', moved, 'cr-hook', declared))).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'cr-hook' });
    expect((await get('cr-hook')).json).toMatchObject({ target: { url: 'https://hooks.example.com/v2' }, starting_position: 'LATEST', state: 'ACTIVE' });
    // LATEST, resolved again: past the record produced above.
    expect((await committed('cr-hook')).find((l) => l.partition_id === 0)!.current_offset).toBe(1);

    const renamed = { ...moved, trigger_name: 'cr-hook-2' };
    expect(await send(event('Update', renamed, 'cr-hook', moved))).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'cr-hook-2' });
    expect((await get('cr-hook-2')).status).toBe(200);
    expect(await send(event('Delete', moved, 'cr-hook'))).toMatchObject({ Status: 'SUCCESS' });
    expect((await get('cr-hook')).status).toBe(404);
  });

  test('Delete removes the trigger and its group; a repeated Delete succeeds', async () => {
    expect(await send(event('Delete', declared, 'cr-hook-2'))).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'cr-hook-2' });
    expect((await get('cr-hook-2')).status).toBe(404);
    expect((await strand.http.get(`/v3/clusters/${strand.runtime.config.clusterId}/consumer-groups/trigger-cr-hook-2`)).status).toBe(404);
    expect(await send(event('Delete', declared, 'cr-hook-2'))).toMatchObject({ Status: 'SUCCESS' });
  });

  test('a refused Create answers FAILED with the API\'s reason and a physical id no rollback Delete can mistake for a trigger', async () => {
    // A trigger of that name made through the API, with another target: not this resource's.
    await createViaApi(strand.http, { trigger_name: 'cr-taken', topic_name: 'cr-orders', target: { type: 'http', url: 'https://elsewhere.example.com/' } });
    const taken = await send(event('Create', { ...declared, trigger_name: 'cr-taken' }));
    expect(taken.Status).toBe('FAILED');
    expect(taken.Reason).toContain("Trigger 'cr-taken' already exists");
    const rollback = await send(event('Delete', { ...declared, trigger_name: 'cr-taken' }, taken.PhysicalResourceId));
    expect(rollback.Status).toBe('SUCCESS');
    expect((await get('cr-taken')).status).toBe(200);

    for (const [body, reason] of [
      [{ ...declared, trigger_name: 'cr-bad', topic_name: 'no-such-topic' }, "Topic 'no-such-topic' not found"],
      [{ ...declared, trigger_name: 'cr-bad', batch_size: 0 }, "Field 'batch_size' is invalid"],
      [{ ...declared, trigger_name: 'cr-bad', topic_name: undefined }, "Field 'topic_name' is required"],
    ] as const) {
      const refused = await send(event('Create', body));
      expect(refused).toMatchObject({ Status: 'FAILED' });
      expect(refused.Reason).toContain(reason);
      expect((await get('cr-bad')).status).toBe(404);
    }
  });

  test('the response is PUT to the presigned URL as CloudFormation expects: no content type, the JSON document', async () => {
    const seen: { method?: string; type?: string; body: string }[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ method: req.method, type: req.headers['content-type'], body });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/response?X-Amz-Signature=abc`;
      await createTriggerResourceHandler(() => strand.runtime, { respond: putResponse })({ ...event('Delete', declared, 'cr-none'), ResponseURL: url });
      expect(seen).toHaveLength(1);
      expect(seen[0]!.method).toBe('PUT');
      expect(seen[0]!.type ?? '').toBe('');
      expect(JSON.parse(seen[0]!.body)).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'cr-none', LogicalResourceId: 'StrandTriggerOrdersToHook' });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
