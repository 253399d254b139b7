import { Agent, request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { AwsError } from '#local/aws/errors.ts';
import { type AwsEmulator, type JsonService, startAwsEmulator } from '#local/aws/server.ts';

const echo: JsonService = {
  prefix: 'AmazonSQS',
  async handle(operation, input) {
    if (operation === 'Echo') return { operation, input };
    if (operation === 'Missing') throw new AwsError('QueueDoesNotExist', 'The specified queue does not exist.');
    if (operation === 'Crash') throw new Error('secret internal detail');
    throw new AwsError('UnknownOperationException', `Unknown operation ${operation}`);
  },
};

let emulator: AwsEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

const call = (url: string, target: string, body = '{}', contentType = 'application/x-amz-json-1.0') =>
  fetch(url, { method: 'POST', headers: { 'x-amz-target': target, 'content-type': contentType }, body });

describe('local AWS emulator server', () => {
  it('dispatches X-Amz-Target to the service by prefix and answers in its JSON protocol', async () => {
    emulator = await startAwsEmulator({ port: 0, services: [echo] });
    expect(emulator.url).toBe(`http://127.0.0.1:${emulator.port}`);
    const ok = await call(emulator.url, 'AmazonSQS.Echo', '{"QueueUrl":"q"}');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/x-amz-json-1.0');
    expect(await ok.json()).toEqual({ operation: 'Echo', input: { QueueUrl: 'q' } });

    const missing = await call(emulator.url, 'AmazonSQS.Missing');
    expect(missing.status).toBe(400);
    expect(missing.headers.get('x-amzn-errortype')).toBe('QueueDoesNotExist');
    expect(await missing.json()).toEqual({ __type: 'QueueDoesNotExist', message: 'The specified queue does not exist.' });

    const crash = await call(emulator.url, 'AmazonSQS.Crash');
    expect(crash.status).toBe(500);
    expect(await crash.text()).not.toContain('secret');

    expect((await call(emulator.url, 'AmazonSQS.Nope')).status).toBe(400);
    const unknownPrefix = await call(emulator.url, 'AWSEvents.PutEvents', '{}', 'application/x-amz-json-1.1');
    expect(unknownPrefix.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(((await unknownPrefix.json()) as { __type: string }).__type).toBe('UnknownOperationException');
    expect((await call(emulator.url, 'AmazonSQS.Echo', '{not json')).status).toBe(400);
  });

  it('refuses two services with the same prefix', async () => {
    await expect(startAwsEmulator({ port: 0, services: [echo, { ...echo }] })).rejects.toThrow(/AmazonSQS/);
  });

  it('closes promptly even with keep-alive connections open', async () => {
    emulator = await startAwsEmulator({ port: 0, services: [echo] });
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      const req = request(
        `${emulator!.url}/`,
        { method: 'POST', agent, headers: { 'x-amz-target': 'AmazonSQS.Echo' } },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    const started = Date.now();
    await emulator.close();
    emulator = undefined;
    expect(Date.now() - started).toBeLessThan(1000);
    agent.destroy();
  });
});
