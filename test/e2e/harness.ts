/**
 * Starts the whole local runtime (same code as `npm start`) on free ports against the run's DynamoDB
 * Local, with an ephemeral data folder and the demo seed, and gives tests a small HTTP client.
 */
import { afterAll, beforeAll } from 'vitest';
import { type Runtime, startRuntime } from '#local/runtime.ts';
import { DEMO_PASSWORD } from '#local/seed.ts';

export interface Reply {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field in tests
  body: any;
}

export interface E2E {
  rt: Runtime;
  call(
    method: string,
    path: string,
    opts?: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> },
  ): Promise<Reply>;
  signIn(email: string, password?: string): Promise<string>;
}

export function useRuntime(): E2E {
  const ctx = {} as E2E;
  beforeAll(async () => {
    const rt = await startRuntime({
      dynamoEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB!,
      tableName: `e2e-${Date.now().toString(36)}`,
      seed: true,
      schedules: false,
      timeScale: 0.01,
    });
    ctx.rt = rt;
    ctx.call = async (method, path, opts = {}) => {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      let body: string | undefined;
      if (opts.raw !== undefined) body = opts.raw;
      else if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${rt.apiUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON */
      }
      return { status: res.status, headers: res.headers, body: parsed };
    };
    ctx.signIn = async (email, password = DEMO_PASSWORD) => {
      const r = await ctx.call('POST', '/v1/sessions', { body: { email, password } });
      if (r.status !== 200) throw new Error(`sign-in of ${email} failed: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.idToken as string;
    };
  });
  afterAll(async () => {
    await ctx.rt?.stop();
  });
  return ctx;
}
