/**
 * PSP webhook signatures: a body signed with the shared secret within five minutes verifies; an
 * unsigned, malformed, replayed (old), tampered or wrongly keyed one is refused with its own code.
 */
import { describe, expect, it } from 'vitest';
import { parseSignatureHeader, signWebhook, verifyWebhook } from '#adapters/psp/webhook-signature.ts';
import { DomainError } from '#domain/errors.ts';

const SECRET = 'whsec_test_0123456789abcdef';
const BODY = '{"id":"evt_1","type":"deposit.succeeded","data":{"amount":"100.00","currency":"EUR"}}';
const AT = new Date('2026-11-25T12:00:00Z');
const later = (seconds: number) => new Date(AT.getTime() + seconds * 1000);

function refusal(f: () => unknown): DomainError {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('PSP webhook signatures', () => {
  it('verifies a body signed with the secret, up to five minutes later', () => {
    const header = signWebhook(SECRET, BODY, AT);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook({ header, rawBody: BODY, secrets: [SECRET], now: later(300) }).signedAt).toEqual(AT);
    expect(verifyWebhook({ header, rawBody: Buffer.from(BODY), secrets: [SECRET], now: AT }).signedAt).toEqual(AT);
  });

  it('refuses an unsigned or malformed webhook', () => {
    for (const header of [undefined, '']) {
      expect(refusal(() => verifyWebhook({ header, rawBody: BODY, secrets: [SECRET], now: AT }))).toMatchObject({
        code: 'signature_missing',
        kind: 'unauthorized',
      });
    }
    for (const header of [
      'garbage',
      't=abc,v1=00',
      `t=${AT.getTime() / 1000}`,
      'v1=' + 'a'.repeat(64),
      't=1,t=2,v1=' + 'a'.repeat(64),
    ]) {
      expect(refusal(() => verifyWebhook({ header, rawBody: BODY, secrets: [SECRET], now: AT })).code).toBe(
        'signature_malformed',
      );
    }
  });

  it('refuses a replay older than five minutes, and a timestamp too far in the future', () => {
    const header = signWebhook(SECRET, BODY, AT);
    expect(refusal(() => verifyWebhook({ header, rawBody: BODY, secrets: [SECRET], now: later(301) })).code).toBe(
      'signature_expired',
    );
    expect(refusal(() => verifyWebhook({ header, rawBody: BODY, secrets: [SECRET], now: later(-301) })).code).toBe(
      'signature_expired',
    );
  });

  it('refuses a tampered body, a re-serialised body, another secret and a moved timestamp', () => {
    const header = signWebhook(SECRET, BODY, AT);
    const tampered = BODY.replace('100.00', '900.00');
    const reserialised = JSON.stringify(JSON.parse(BODY), null, 1);
    for (const rawBody of [tampered, reserialised]) {
      expect(refusal(() => verifyWebhook({ header, rawBody, secrets: [SECRET], now: AT })).code).toBe('signature_invalid');
    }
    expect(refusal(() => verifyWebhook({ header, rawBody: BODY, secrets: ['another'], now: AT })).code).toBe('signature_invalid');
    const moved = header.replace(/^t=(\d+)/, (_m, t: string) => `t=${Number(t) + 1}`);
    expect(refusal(() => verifyWebhook({ header: moved, rawBody: BODY, secrets: [SECRET], now: AT })).code).toBe(
      'signature_invalid',
    );
  });

  it('accepts any current secret during a rotation, and any of several v1 signatures', () => {
    const header = signWebhook('new-secret', BODY, AT);
    expect(() => verifyWebhook({ header, rawBody: BODY, secrets: ['old-secret', 'new-secret'], now: AT })).not.toThrow();
    const old = signWebhook('old-secret', BODY, AT).split(',')[1]!;
    const both = `${header},${old},v0=ignored`;
    expect(parseSignatureHeader(both)?.v1).toHaveLength(2);
    expect(() => verifyWebhook({ header: both, rawBody: BODY, secrets: ['old-secret'], now: AT })).not.toThrow();
    expect(refusal(() => verifyWebhook({ header, rawBody: BODY, secrets: [''], now: AT })).code).toBe('signature_invalid');
  });
});
