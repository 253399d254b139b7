/**
 * For e2e files that start runtimes of their own (as `npm start` does, with their own DynamoDB Local and data
 * folder) instead of the shared harness.ts runtime: start/stop bookkeeping and a small HTTP client.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, expect } from 'vitest';
import { type Runtime, type RuntimeOptions, startRuntime } from '#local/runtime.ts';
import { DEMO_PASSWORD } from '#local/seed.ts';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
export type Json = any;

/** Runtimes started through the returned `start` are stopped after each test (or earlier with `stop`). */
export function ownRuntimes(): { start(opts: RuntimeOptions): Promise<Runtime>; stop(rt: Runtime): Promise<void> } {
  const running: Runtime[] = [];
  afterEach(async () => {
    for (const rt of running.splice(0)) await rt.stop();
  });
  return {
    async start(opts) {
      const rt = await startRuntime({ schedules: false, timeScale: 0.01, ...opts });
      running.push(rt);
      return rt;
    },
    async stop(rt) {
      running.splice(running.indexOf(rt), 1);
      await rt.stop();
    },
  };
}

export async function call(base: string, method: string, p: string, opts: { token?: string; body?: unknown } = {}) {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(method === 'POST' ? { 'idempotency-key': randomUUID() } : {}),
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : undefined };
}

export async function signIn(base: string, email: string): Promise<string> {
  const r = await call(base, 'POST', '/v1/sessions', { body: { email, password: DEMO_PASSWORD } });
  expect(r.status, `${email}: ${JSON.stringify(r.body)}`).toBe(200);
  return r.body.idToken;
}
