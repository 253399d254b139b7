/**
 * A fake PSP for tests (installed with usePspForTests): deposit intents answered in memory (or made to
 * fail), and webhooks verified exactly as a real adapter must (webhook-signature.ts over the raw body,
 * then parsed). `webhookBody` / `signedHeaders` build what the provider would send.
 */

import { DomainError } from '#domain/errors.ts';
import { toMinor } from '#domain/money/index.ts';
import type { NextAction, PspEvent, PspPort } from '#domain/payments/ports.ts';
import { SIGNATURE_HEADER, signWebhook, verifyWebhook } from '#functions/adapters/psp/webhook-signature.ts';

export const TEST_WEBHOOK_SECRET = 'whsec_test_deposits_0123456789';

export interface FakePsp extends PspPort {
  /** Deposit intents asked for, in order. */
  intents: { depositId: string; idempotencyKey: string; amount: { amount: bigint; currency: string } }[];
  /** 'ok' (pending with a next action), 'throw' (an outage), 'fail' (refused with failureCode). */
  mode: 'ok' | 'throw' | 'fail';
  /** Runs before the intent is answered (a provider whose webhook beats its own API answer). */
  onIntent?: ((req: { depositId: string; amount: { amount: bigint; currency: string } }) => Promise<void>) | undefined;
}

const nextActionFor = (methodId: string, depositId: string): NextAction =>
  methodId.includes('wire')
    ? {
        type: 'bank_transfer',
        reference: depositId.slice(0, 16),
        beneficiary: 'Demo Markets Ltd',
        iban: 'CY17002001280000001200527600',
        bic: 'BCYPCY2N',
      }
    : methodId.startsWith('usdt')
      ? { type: 'crypto_address', network: 'TRC20', address: 'TXYZabc123' }
      : { type: 'redirect', url: `https://psp.test/pay/${depositId}` };

export const providerRefOf = (depositId: string) => `psp_${depositId}`;

export function fakePsp(provider = 'sandbox'): FakePsp {
  const psp: FakePsp = {
    provider,
    intents: [],
    mode: 'ok',
    async createDepositIntent(req) {
      psp.intents.push({ depositId: req.depositId, idempotencyKey: req.idempotencyKey, amount: req.amount });
      if (psp.onIntent) await psp.onIntent(req);
      if (psp.mode === 'throw') throw new Error('provider timeout');
      if (psp.mode === 'fail')
        return { providerRef: providerRefOf(req.depositId), status: 'failed', failureCode: 'card_declined' };
      return {
        providerRef: providerRefOf(req.depositId),
        status: 'pending',
        nextAction: nextActionFor(req.methodId, req.depositId),
      };
    },
    async createPayout() {
      throw new Error('not used');
    },
    async refund() {
      throw new Error('not used');
    },
    verifyWebhook(input) {
      verifyWebhook({ header: input.headers[SIGNATURE_HEADER], rawBody: input.rawBody, secrets: input.secrets, now: input.now });
      try {
        const b = JSON.parse(input.rawBody) as Record<string, unknown> & { amount: { amount: string; currency: string } };
        return {
          eventId: String(b.id),
          type: b.type as PspEvent['type'],
          providerRef: String(b.providerRef),
          ...(b.merchantRef ? { merchantRef: String(b.merchantRef) } : {}),
          amount: { amount: toMinor(b.amount.amount, b.amount.currency), currency: b.amount.currency },
          occurredAt: String(b.occurredAt),
          ...(b.failureCode ? { failureCode: String(b.failureCode) } : {}),
          ...(b.source ? { source: b.source as PspEvent['source'] } : {}),
        } as PspEvent;
      } catch {
        throw new DomainError('webhook_malformed', 'validation', 'The webhook body cannot be read');
      }
    },
    async settlementReport() {
      return [];
    },
  };
  return psp;
}

export interface WebhookBodyInput {
  id: string;
  type: PspEvent['type'];
  providerRef: string;
  merchantRef?: string;
  amount: { amount: string; currency: string };
  failureCode?: string;
  source?: { fingerprint: string; display: string };
}

export const webhookBody = (e: WebhookBodyInput) => JSON.stringify({ occurredAt: new Date().toISOString(), ...e });

export const signedHeaders = (rawBody: string, at: Date = new Date(), secret = TEST_WEBHOOK_SECRET) => ({
  'Content-Type': 'application/json',
  'X-PSP-Signature': signWebhook(secret, rawBody, at),
});
