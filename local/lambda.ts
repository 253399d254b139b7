/**
 * Invokes a manifest function in-process, the way Lambda would: it imports the entry file once
 * (a warm container), builds a Context, and awaits `handler(event, context)`.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { functionByName } from '#functions/manifest.ts';

type Handler = (event: unknown, context: Context) => Promise<unknown>;
const loaded = new Map<string, Promise<Handler>>();
const root = path.resolve(import.meta.dirname, '..');

async function load(name: string): Promise<Handler> {
  let h = loaded.get(name);
  if (!h) {
    const spec = functionByName(name);
    h = import(pathToFileURL(path.join(root, spec.entry)).href).then((m: { handler?: Handler }) => {
      if (typeof m.handler !== 'function') throw new Error(`${spec.entry} does not export handler`);
      return m.handler;
    });
    loaded.set(name, h);
  }
  return h;
}

export function lambdaContext(name: string, timeoutSeconds = 30): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${name}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Invoke a function by manifest name. Errors propagate as they would to a Lambda caller. */
export async function invoke<T = unknown>(name: string, event: unknown): Promise<T> {
  const spec = functionByName(name);
  const handler = await load(name);
  return (await handler(event, lambdaContext(name, spec.timeoutSeconds ?? 30))) as T;
}
