/** The logger never writes PII, and the edge never logs request bodies. */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { logger, REDACTED, redact, redactingReplacer } from '#shared/powertools.ts';
import { apiEvent, lambdaContext } from '../support/events.ts';
import { useDemoTenant } from '../support/tenant.ts';

// The unit project runs with POWERTOOLS_LOG_LEVEL=SILENT (vitest.config.ts); these tests read the log, so the
// logger is created at INFO (set before the imports run; restored for whatever runs next in this worker).
const quietLevel = vi.hoisted(() => {
  const level = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  return level;
});
afterAll(() => {
  process.env.POWERTOOLS_LOG_LEVEL = quietLevel;
});

beforeAll(() => useDemoTenant());

/** Captures everything written to stdout/stderr (the Logger writes JSON lines there). */
function captureOutput() {
  const chunks: string[] = [];
  const grab = (chunk: unknown) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(grab as typeof process.stdout.write);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(grab as typeof process.stderr.write);
  return {
    text: () => chunks.join(''),
    restore: () => {
      out.mockRestore();
      err.mockRestore();
    },
  };
}

afterEach(() => vi.restoreAllMocks());

describe('PII redaction', () => {
  it('values under PII keys are redacted at any depth and in any case', () => {
    const cap = captureOutput();
    try {
      logger.info('user', {
        Email: 'jane@example.test',
        profile: { firstName: 'Jane', LASTNAME: 'Doe', dateOfBirth: '1990-01-01', address: { line1: '1 Main St' } },
        contacts: [{ phone: '+4912345' }, { iban: 'DE89370400440532013000' }],
        auth: {
          password: 'hunter2hunter2',
          idToken: 'eyJ.a.b',
          accessToken: 'eyJ.c.d',
          refreshToken: 'r',
          token: 't',
          authorization: 'Bearer x',
        },
        documentNumber: 'X1234567',
        country: 'DE',
      });
      logger.appendKeys({ email: 'persist@example.test' });
      logger.warn('again');
    } finally {
      logger.removeKeys(['email']);
      cap.restore();
    }
    const out = cap.text();
    expect(out).toContain('"country":"DE"');
    expect(out).toContain(REDACTED);
    for (const secret of [
      'jane@example.test',
      'persist@example.test',
      'Jane',
      'Doe',
      '1990-01-01',
      '1 Main St',
      '+4912345',
      'DE89370400440532013000',
      'hunter2hunter2',
      'eyJ.a.b',
      'eyJ.c.d',
      'Bearer x',
      'X1234567',
    ]) {
      expect(out).not.toContain(secret);
    }
  });

  it('the replacer and redact() agree', () => {
    expect(redactingReplacer('EMAIL', 'a@b.c')).toBe(REDACTED);
    expect(redactingReplacer('amount', '100')).toBe('100');
    expect(redact({ a: [{ password: 'p', ok: 1 }] })).toEqual({ a: [{ password: REDACTED, ok: 1 }] });
  });

  it('request bodies, emails and passwords never appear in the edge logs, even on failure', async () => {
    const handler = httpHandler(
      defineRoute({
        method: 'POST',
        path: '/v1/sessions',
        operationId: 'signIn',
        summary: 'Sign in',
        tags: ['test'],
        auth: 'public',
        body: z.strictObject({ email: z.email(), password: z.string().min(12) }),
        responses: { 201: { description: 'ok' } },
        handler: async ({ body }) => {
          throw Object.assign(new Error('cognito rejected'), { email: body.email });
        },
      }),
    );
    const cap = captureOutput();
    try {
      await handler(
        apiEvent({
          method: 'POST',
          resource: '/v1/sessions',
          body: { email: 'bob@example.test', password: 'correct-horse-battery' },
        }),
        lambdaContext(),
      );
      await handler(
        apiEvent({ method: 'POST', resource: '/v1/sessions', body: { email: 'bob@example.test', password: 'short' } }),
        lambdaContext(),
      );
    } finally {
      cap.restore();
    }
    const out = cap.text();
    expect(out).toContain('unhandled error');
    expect(out).toContain('request rejected');
    expect(out).not.toContain('bob@example.test');
    expect(out).not.toContain('correct-horse-battery');
    expect(out).not.toContain('"short"');
  });
});
