/**
 * The Stripe adapter against Stripe's documented shapes, offline (an injected fetch answers with the
 * JSON of Stripe's API reference): the exact requests (URL, auth, Idempotency-Key, form body), the
 * mapping of responses and errors, Stripe-Signature verification (signed here the way Stripe documents
 * it, independently of our signer), each event type, and the paged settlement report.
 */
import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PspRequestError, PspUnavailableError, STRIPE_API_VERSION, stripePsp } from '#adapters/psp/stripe.ts';
import { DomainError } from '#domain/errors.ts';
import type { PspPort } from '#domain/payments/ports.ts';

const API_KEY = 'sk_test_unit_4eC39HqLyjWDarjtT1zdp7dc';
const WHSEC = 'whsec_unit_new_0123456789';
const OLD_WHSEC = 'whsec_unit_old_9876543210';
const PAGE = 'https://portal.demo.test/pay/stripe';
const NOW = new Date('2026-11-25T12:00:00Z');
const T = Math.floor(NOW.getTime() / 1000);

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: URLSearchParams;
}

type Reply = { status?: number; body?: unknown; headers?: Record<string, string> } | Error;

/** A fetch that records each request and answers with the next queued reply. */
function fakeStripe(...replies: Reply[]) {
  const calls: Call[] = [];
  const fetch = async (url: string, init: RequestInit) => {
    calls.push({
      url,
      method: String(init.method),
      headers: init.headers as Record<string, string>,
      body: new URLSearchParams(typeof init.body === 'string' ? init.body : ''),
    });
    const r = replies.shift();
    if (!r) throw new Error('no reply queued');
    if (r instanceof Error) throw r;
    return new Response(JSON.stringify(r.body ?? {}), {
      status: r.status ?? 200,
      headers: { 'content-type': 'application/json', 'request-id': 'req_unit_1', ...r.headers },
    });
  };
  return { calls, psp: stripePsp({ fetch, paymentPageUrl: PAGE }) };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

function refusal(f: () => unknown): DomainError {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

const env = { ...process.env };
beforeEach(() => {
  process.env.PSP_WEBHOOK_SECRETS_STRIPE = WHSEC;
  process.env.PSP_API_KEY_STRIPE = API_KEY;
});
afterEach(() => {
  for (const k of ['PSP_WEBHOOK_SECRETS_STRIPE', 'PSP_API_KEY_STRIPE']) {
    if (env[k] === undefined) delete process.env[k];
    else process.env[k] = env[k];
  }
});

// --- documented response fixtures (docs.stripe.com/api) -------------------------------------------

/** POST /v1/payment_intents response (docs example: requires_payment_method, no next action). */
const paymentIntent = {
  id: 'pi_3MtwBwLkdIwHu7ix28a3tqPa',
  object: 'payment_intent',
  amount: 10050,
  amount_capturable: 0,
  amount_received: 0,
  automatic_payment_methods: { enabled: true },
  capture_method: 'automatic',
  client_secret: 'pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH',
  confirmation_method: 'automatic',
  created: 1680800504,
  currency: 'eur',
  latest_charge: null,
  livemode: false,
  metadata: { deposit_id: 'dep_1', client_id: 'cli_1', method_id: 'card' },
  next_action: null,
  payment_method: null,
  payment_method_types: ['card', 'link'],
  status: 'requires_payment_method',
};

const cardDeclined = {
  error: {
    type: 'card_error',
    code: 'card_declined',
    decline_code: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
    payment_intent: { id: 'pi_3Declined', object: 'payment_intent', status: 'requires_payment_method' },
  },
};

const transfer = {
  id: 'tr_1MiN3gLkdIwHu7ixNCZvFdgA',
  object: 'transfer',
  amount: 40000,
  amount_reversed: 0,
  created: 1678043844,
  currency: 'eur',
  destination: 'acct_1MTfjCQ9PRzxEwkZ',
  metadata: { withdrawal_id: 'wd_1', client_id: 'cli_1' },
  reversed: false,
  transfer_group: 'wd_1',
};

const payout = {
  id: 'po_1OaFDbEcg9tTZuTgNYmX0PKB',
  object: 'payout',
  amount: 40000,
  arrival_date: 1680652800,
  automatic: false,
  created: 1680648691,
  currency: 'eur',
  destination: 'ba_1MtIhL2eZvKYlo2CAElKwKu2',
  failure_code: null,
  metadata: { withdrawal_id: 'wd_1', transfer_id: transfer.id },
  method: 'standard',
  source_type: 'card',
  status: 'pending',
  type: 'bank_account',
};

const refund = {
  id: 're_1Nispe2eZvKYlo2Cd31jOCgZ',
  object: 'refund',
  amount: 2500,
  balance_transaction: 'txn_1Nispe2eZvKYlo2CYezqFhEx',
  charge: 'ch_1NirD82eZvKYlo2CIvbtLWuY',
  created: 1692942318,
  currency: 'eur',
  metadata: { reason: 'client_request' },
  payment_intent: paymentIntent.id,
  reason: null,
  status: 'succeeded',
};

// --- requests and responses ----------------------------------------------------------------------

describe('createDepositIntent', () => {
  const req = {
    depositId: 'dep_1',
    clientId: 'cli_1',
    methodId: 'card',
    amount: { amount: 10050n, currency: 'EUR' },
    idempotencyKey: 'dep_1',
    returnUrl: 'https://portal.demo.test/deposits/dep_1',
  };

  it('creates a PaymentIntent: minor units, lower-case currency, our ids in metadata, our key as Idempotency-Key', async () => {
    const { calls, psp } = fakeStripe({ body: paymentIntent });
    const intent = await psp.createDepositIntent(req);

    expect(calls).toHaveLength(1);
    const c = calls[0]!;
    expect(c.method).toBe('POST');
    expect(c.url).toBe('https://api.stripe.com/v1/payment_intents');
    expect(c.headers).toMatchObject({
      authorization: `Bearer ${API_KEY}`,
      'idempotency-key': 'dep_1',
      'stripe-version': STRIPE_API_VERSION,
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(Object.fromEntries(c.body)).toEqual({
      amount: '10050',
      currency: 'eur',
      'automatic_payment_methods[enabled]': 'true',
      description: 'Deposit dep_1',
      'metadata[deposit_id]': 'dep_1',
      'metadata[client_id]': 'cli_1',
      'metadata[method_id]': 'card',
    });

    expect(intent.providerRef).toBe(paymentIntent.id);
    expect(intent.status).toBe('pending');
    expect(intent.nextAction?.type).toBe('redirect');
    const url = new URL((intent.nextAction as { url: string }).url);
    expect(`${url.origin}${url.pathname}`).toBe(PAGE);
    expect(url.searchParams.get('payment_intent')).toBe(paymentIntent.id);
    expect(url.searchParams.get('payment_intent_client_secret')).toBe(paymentIntent.client_secret);
    expect(url.searchParams.get('return_url')).toBe(req.returnUrl);
  });

  it('sends a zero-decimal currency as whole units (JPY 5000 -> amount=5000)', async () => {
    const { calls, psp } = fakeStripe({ body: { ...paymentIntent, amount: 5000, currency: 'jpy' } });
    await psp.createDepositIntent({ ...req, amount: { amount: 5000n, currency: 'JPY' } });
    expect(calls[0]!.body.get('amount')).toBe('5000');
    expect(calls[0]!.body.get('currency')).toBe('jpy');
  });

  it("follows Stripe's own redirect when the intent already has one", async () => {
    const url = 'https://hooks.stripe.com/redirect/authenticate/src_1OMDllJgUVsS8tQc';
    const { psp } = fakeStripe({
      body: {
        ...paymentIntent,
        status: 'requires_action',
        next_action: { type: 'redirect_to_url', redirect_to_url: { url, return_url: req.returnUrl } },
      },
    });
    expect((await psp.createDepositIntent(req)).nextAction).toEqual({ type: 'redirect', url });
  });

  it('refuses a currency Stripe does not take (crypto) before calling it', async () => {
    const { calls, psp } = fakeStripe();
    const e = await rejection(psp.createDepositIntent({ ...req, amount: { amount: 100_000_000n, currency: 'USDT' } }));
    expect(e).toBeInstanceOf(DomainError);
    expect(e).toMatchObject({ code: 'currency_not_supported_by_provider', kind: 'unprocessable' });
    expect(calls).toHaveLength(0);
  });

  it('turns a card decline (402) into a failed intent with the issuer decline code', async () => {
    const { psp } = fakeStripe({ status: 402, body: cardDeclined });
    expect(await psp.createDepositIntent(req)).toEqual({
      providerRef: 'pi_3Declined',
      status: 'failed',
      failureCode: 'insufficient_funds',
    });
  });

  it('without a configured payment page creates nothing at Stripe', async () => {
    const calls: string[] = [];
    const psp = stripePsp({
      fetch: async (url) => {
        calls.push(url);
        return new Response(JSON.stringify(paymentIntent));
      },
    });
    const saved = process.env.PSP_PAYMENT_PAGE_URL_STRIPE;
    delete process.env.PSP_PAYMENT_PAGE_URL_STRIPE;
    try {
      expect((await rejection(psp.createDepositIntent(req))).message).toMatch(/payment page/);
    } finally {
      if (saved !== undefined) process.env.PSP_PAYMENT_PAGE_URL_STRIPE = saved;
    }
    expect(calls).toHaveLength(0);
  });

  it('refuses to run without an API key in the secrets', async () => {
    delete process.env.PSP_API_KEY_STRIPE;
    const { calls, psp } = fakeStripe({ body: paymentIntent });
    expect((await rejection(psp.createDepositIntent(req))).message).toMatch(/API key/);
    expect(calls).toHaveLength(0);
  });
});

describe('provider errors', () => {
  const req = {
    depositId: 'dep_2',
    clientId: 'cli_1',
    methodId: 'card',
    amount: { amount: 2000n, currency: 'USD' },
    idempotencyKey: 'dep_2',
  };

  it.each([
    ['500 api_error', { status: 500, body: { error: { type: 'api_error', message: 'Something went wrong' } } }],
    ['503 without a body', { status: 503, body: null }],
    ['429 rate limited', { status: 429, body: { error: { type: 'invalid_request_error', code: 'rate_limit' } } }],
    ['409 same key in flight', { status: 409, body: { error: { type: 'invalid_request_error', code: 'lock_timeout' } } }],
    ['a network failure', new TypeError('fetch failed')],
  ] as [string, Reply][])('%s is a retryable PspUnavailableError', async (_, reply) => {
    const { psp } = fakeStripe(reply);
    const e = await rejection(psp.createDepositIntent(req));
    expect(e).toBeInstanceOf(PspUnavailableError);
    expect(e).toMatchObject({ code: 'payment_provider_unavailable', retryable: true, name: 'PspUnavailableError' });
  });

  it('a retry repeats the same Idempotency-Key, so Stripe replays instead of charging twice', async () => {
    const { calls, psp } = fakeStripe({ status: 502, body: null }, { body: paymentIntent });
    await rejection(psp.createDepositIntent(req));
    await psp.createDepositIntent(req);
    expect(calls.map((c) => c.headers['idempotency-key'])).toEqual(['dep_2', 'dep_2']);
    expect(calls[0]!.body.toString()).toBe(calls[1]!.body.toString());
  });

  it('a refused key (401) is a non-retryable configuration error', async () => {
    const { psp } = fakeStripe({
      status: 401,
      body: { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } },
    });
    const e = await rejection(psp.createDepositIntent(req));
    expect(e).toBeInstanceOf(PspRequestError);
    expect(e).toMatchObject({ code: 'payment_provider_auth_failed', retryable: false });
  });

  it('an idempotency key reused with other parameters is a non-retryable error, not a failed payment', async () => {
    const { psp } = fakeStripe({
      status: 400,
      body: {
        error: { type: 'idempotency_error', message: 'Keys for idempotent requests can only be used with the same parameters' },
      },
    });
    expect(await rejection(psp.createDepositIntent(req))).toMatchObject({ code: 'payment_provider_idempotency_conflict' });
  });

  it('honours Stripe-Should-Retry: false on a conflict', async () => {
    const { psp } = fakeStripe({
      status: 409,
      headers: { 'stripe-should-retry': 'false' },
      body: { error: { type: 'invalid_request_error' } },
    });
    expect(await rejection(psp.createDepositIntent(req))).toBeInstanceOf(PspRequestError);
  });
});

describe('createPayout (Stripe Connect: transfer to the client account, then its payout)', () => {
  const req = {
    withdrawalId: 'wd_1',
    clientId: 'cli_1',
    methodId: 'card',
    amount: { amount: 40000n, currency: 'EUR' },
    destination: { account: 'acct_1MTfjCQ9PRzxEwkZ' },
    idempotencyKey: 'wd_1',
  };

  it('transfers then pays out on the connected account; the transfer id is the providerRef', async () => {
    const { calls, psp } = fakeStripe({ body: transfer }, { body: payout });
    expect(await psp.createPayout(req)).toEqual({ providerRef: transfer.id, status: 'processing' });

    const [t, p] = calls;
    expect(t!.url).toBe('https://api.stripe.com/v1/transfers');
    expect(t!.headers['idempotency-key']).toBe('wd_1:transfer');
    expect(t!.headers['stripe-account']).toBeUndefined();
    expect(Object.fromEntries(t!.body)).toMatchObject({
      amount: '40000',
      currency: 'eur',
      destination: 'acct_1MTfjCQ9PRzxEwkZ',
      transfer_group: 'wd_1',
      'metadata[withdrawal_id]': 'wd_1',
    });
    expect(p!.url).toBe('https://api.stripe.com/v1/payouts');
    expect(p!.headers).toMatchObject({ 'idempotency-key': 'wd_1:payout', 'stripe-account': 'acct_1MTfjCQ9PRzxEwkZ' });
    expect(Object.fromEntries(p!.body)).toMatchObject({
      amount: '40000',
      currency: 'eur',
      'metadata[withdrawal_id]': 'wd_1',
      'metadata[transfer_id]': transfer.id,
    });
  });

  it('refuses a destination that is not a connected account, without calling Stripe', async () => {
    const { calls, psp } = fakeStripe();
    const e = await rejection(psp.createPayout({ ...req, destination: { account: 'DE89370400440532013000' } }));
    expect(e).toMatchObject({ code: 'payout_destination_unsupported', kind: 'unprocessable' });
    expect(calls).toHaveLength(0);
  });

  it('a transfer Stripe refuses (balance_insufficient) is a failed payout and no payout is attempted', async () => {
    const { calls, psp } = fakeStripe({
      status: 400,
      body: {
        error: { type: 'invalid_request_error', code: 'balance_insufficient', message: 'Insufficient funds in Stripe account.' },
      },
    });
    expect(await psp.createPayout(req)).toMatchObject({ status: 'failed', failureCode: 'balance_insufficient' });
    expect(calls).toHaveLength(1);
  });

  it('a payout already paid or failed at creation is reported as such', async () => {
    const paid = fakeStripe({ body: transfer }, { body: { ...payout, status: 'paid' } });
    expect(await paid.psp.createPayout(req)).toEqual({ providerRef: transfer.id, status: 'paid' });
    const failed = fakeStripe({ body: transfer }, { body: { ...payout, status: 'failed', failure_code: 'account_closed' } });
    expect(await failed.psp.createPayout(req)).toEqual({
      providerRef: transfer.id,
      status: 'failed',
      failureCode: 'account_closed',
    });
  });

  it('a payout step that times out is retryable, and the retry repeats both keys (the transfer is replayed, not repeated)', async () => {
    const { calls, psp } = fakeStripe(
      { body: transfer },
      new DOMException('The operation timed out.', 'TimeoutError'),
      { body: transfer },
      { body: payout },
    );
    expect(await rejection(psp.createPayout(req))).toBeInstanceOf(PspUnavailableError);
    expect(await psp.createPayout(req)).toEqual({ providerRef: transfer.id, status: 'processing' });
    expect(calls.map((c) => c.headers['idempotency-key'])).toEqual([
      'wd_1:transfer',
      'wd_1:payout',
      'wd_1:transfer',
      'wd_1:payout',
    ]);
  });
});

describe('refund', () => {
  const req = {
    depositProviderRef: paymentIntent.id,
    amount: { amount: 2500n, currency: 'EUR' },
    idempotencyKey: 'rf_1',
    reason: 'client_request',
  };

  it('refunds the PaymentIntent with the amount in minor units; our reason goes to metadata', async () => {
    const { calls, psp } = fakeStripe({ body: refund });
    expect(await psp.refund(req)).toEqual({ providerRef: refund.id, status: 'succeeded' });
    expect(calls[0]!.url).toBe('https://api.stripe.com/v1/refunds');
    expect(calls[0]!.headers['idempotency-key']).toBe('rf_1');
    expect(Object.fromEntries(calls[0]!.body)).toEqual({
      payment_intent: paymentIntent.id,
      amount: '2500',
      'metadata[reason]': 'client_request',
    });
  });

  it("passes Stripe's own reason when ours is one of its values", async () => {
    const { calls, psp } = fakeStripe({ body: { ...refund, status: 'pending', reason: 'duplicate' } });
    expect((await psp.refund({ ...req, reason: 'duplicate' })).status).toBe('pending');
    expect(calls[0]!.body.get('reason')).toBe('duplicate');
  });

  it('a refund Stripe refuses (already refunded) is a failed refund', async () => {
    const { psp } = fakeStripe({
      status: 400,
      body: {
        error: { type: 'invalid_request_error', code: 'charge_already_refunded', message: 'Charge has already been refunded.' },
      },
    });
    expect((await psp.refund(req)).status).toBe('failed');
  });
});

// --- webhooks ------------------------------------------------------------------------------------

/** The Stripe-Signature header as Stripe documents it: t, then v1 = HMAC-SHA256(secret, `${t}.${payload}`). */
const stripeSignature = (body: string, t: number, secrets: string[], v0 = false) =>
  [
    `t=${t}`,
    ...secrets.map((s) => `v1=${createHmac('sha256', s).update(`${t}.${body}`).digest('hex')}`),
    ...(v0 ? ['v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39'] : []),
  ].join(',');

const event = (type: string, object: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: 'evt_1NG8Du2eZvKYlo2CUI79vXWy',
    object: 'event',
    api_version: STRIPE_API_VERSION,
    created: 1686089970,
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    ...extra,
  });

const deliver = (
  psp: PspPort,
  body: string,
  opts: { secrets?: string[]; signWith?: string[]; at?: number; header?: string } = {},
) =>
  psp.verifyWebhook({
    headers: { 'stripe-signature': opts.header ?? stripeSignature(body, opts.at ?? T, opts.signWith ?? [WHSEC]) },
    rawBody: body,
    now: NOW,
    secrets: opts.secrets ?? [WHSEC],
  });

/** charge.succeeded's charge (docs: the Charge object), created by our PaymentIntent. */
const charge = {
  id: 'ch_3MmlLrLkdIwHu7ix0snN0B15',
  object: 'charge',
  amount: 10050,
  amount_captured: 10050,
  amount_refunded: 0,
  balance_transaction: 'txn_3MmlLrLkdIwHu7ix0uke3Ezy',
  captured: true,
  created: 1679090539,
  currency: 'eur',
  failure_code: null,
  metadata: { deposit_id: 'dep_1', client_id: 'cli_1', method_id: 'card' },
  paid: true,
  payment_intent: paymentIntent.id,
  payment_method: 'pm_1MmlLrLkdIwHu7ixIJwEWSNR',
  payment_method_details: {
    card: {
      brand: 'visa',
      country: 'US',
      exp_month: 3,
      exp_year: 2027,
      fingerprint: 'mToisGZ01V71BCos',
      funding: 'credit',
      last4: '4242',
      network: 'visa',
    },
    type: 'card',
  },
  refunded: false,
  status: 'succeeded',
};

const dispute = {
  id: 'du_1MtJUT2eZvKYlo2CNaw2HvEv',
  object: 'dispute',
  amount: 10050,
  balance_transactions: [],
  charge: charge.id,
  created: 1680651737,
  currency: 'eur',
  evidence_details: { due_by: 1682294399, has_evidence: false, past_due: false, submission_count: 0 },
  is_charge_refundable: false,
  livemode: false,
  metadata: {},
  payment_intent: paymentIntent.id,
  payment_method_details: { card: { brand: 'visa', case_type: 'chargeback', network_reason_code: '10.4' }, type: 'card' },
  reason: 'fraudulent',
  status: 'needs_response',
};

describe('verifyWebhook: Stripe-Signature', () => {
  const body = event('charge.succeeded', charge);
  const psp = stripePsp({ fetch: async () => new Response('{}'), paymentPageUrl: PAGE });

  it('accepts a body signed with the endpoint secret, other schemes (v0) ignored, up to five minutes old', () => {
    expect(deliver(psp, body).eventId).toBe('evt_1NG8Du2eZvKYlo2CUI79vXWy');
    expect(deliver(psp, body, { header: stripeSignature(body, T - 300, [WHSEC], true) }).type).toBe('deposit.succeeded');
  });

  it('refuses a tampered body', () => {
    const header = stripeSignature(body, T, [WHSEC]);
    const tampered = body.replace('"amount":10050', '"amount":99999');
    expect(refusal(() => deliver(psp, tampered, { header })).code).toBe('signature_invalid');
  });

  it('refuses a replay older than five minutes and a timestamp from the future', () => {
    expect(refusal(() => deliver(psp, body, { at: T - 301 })).code).toBe('signature_expired');
    expect(refusal(() => deliver(psp, body, { at: T + 301 })).code).toBe('signature_expired');
  });

  it('refuses an unsigned delivery, and our sandbox header is not a Stripe signature', () => {
    const header = stripeSignature(body, T, [WHSEC]);
    const e = refusal(() =>
      psp.verifyWebhook({ headers: { 'x-psp-signature': header }, rawBody: body, now: NOW, secrets: [WHSEC] }),
    );
    expect(e).toMatchObject({ code: 'signature_missing', kind: 'unauthorized' });
  });

  it('refuses a body signed with a secret we do not hold', () => {
    expect(refusal(() => deliver(psp, body, { signWith: ['whsec_someone_else'] })).code).toBe('signature_invalid');
  });

  it('while a secret rolls, accepts either the old or the new one', () => {
    // Stripe signs with both during the overlap; we may hold only the new one, or both
    expect(deliver(psp, body, { signWith: [WHSEC, OLD_WHSEC], secrets: [WHSEC] }).type).toBe('deposit.succeeded');
    expect(deliver(psp, body, { signWith: [OLD_WHSEC], secrets: [WHSEC, OLD_WHSEC] }).type).toBe('deposit.succeeded');
    expect(refusal(() => deliver(psp, body, { signWith: [OLD_WHSEC], secrets: [WHSEC] })).code).toBe('signature_invalid');
  });

  it('a signed body that is not a Stripe event is 400 webhook_malformed', () => {
    for (const b of [
      'not json',
      '{"id":"evt_1","type":"charge.succeeded"}',
      event('charge.succeeded', { ...charge, amount: 100.5 }),
    ]) {
      expect(refusal(() => deliver(psp, b))).toMatchObject({ code: 'webhook_malformed', kind: 'validation' });
    }
  });
});

describe('verifyWebhook: event mapping', () => {
  const psp = stripePsp({ fetch: async () => new Response('{}'), paymentPageUrl: PAGE });
  const occurredAt = new Date(1686089970 * 1000).toISOString();

  it('charge.succeeded -> deposit.succeeded with our deposit id and the card fingerprint', () => {
    expect(deliver(psp, event('charge.succeeded', charge))).toEqual({
      eventId: 'evt_1NG8Du2eZvKYlo2CUI79vXWy',
      type: 'deposit.succeeded',
      providerRef: paymentIntent.id,
      merchantRef: 'dep_1',
      amount: { amount: 10050n, currency: 'EUR' },
      occurredAt,
      source: { fingerprint: 'mToisGZ01V71BCos', display: 'Visa •4242' },
    });
  });

  it('payment_intent.payment_failed -> deposit.failed with the decline code', () => {
    const failed = {
      ...paymentIntent,
      last_payment_error: {
        type: 'card_error',
        code: 'card_declined',
        decline_code: 'generic_decline',
        message: 'Your card was declined.',
      },
    };
    expect(deliver(psp, event('payment_intent.payment_failed', failed))).toMatchObject({
      type: 'deposit.failed',
      providerRef: paymentIntent.id,
      merchantRef: 'dep_1',
      amount: { amount: 10050n, currency: 'EUR' },
      failureCode: 'generic_decline',
    });
  });

  it('payment_intent.canceled -> deposit.expired when abandoned, deposit.failed otherwise', () => {
    const abandoned = { ...paymentIntent, status: 'canceled', cancellation_reason: 'abandoned' };
    expect(deliver(psp, event('payment_intent.canceled', abandoned))).toMatchObject({
      type: 'deposit.expired',
      failureCode: 'abandoned',
    });
    const fraud = { ...paymentIntent, status: 'canceled', cancellation_reason: 'fraudulent' };
    expect(deliver(psp, event('payment_intent.canceled', fraud))).toMatchObject({
      type: 'deposit.failed',
      failureCode: 'fraudulent',
    });
  });

  it('refund events -> refund.succeeded / refund.failed by the refund status; a pending one is not final', () => {
    expect(deliver(psp, event('refund.created', refund))).toMatchObject({
      type: 'refund.succeeded',
      providerRef: refund.id,
      amount: { amount: 2500n, currency: 'EUR' },
    });
    expect(deliver(psp, event('refund.updated', { ...refund, status: 'succeeded' })).type).toBe('refund.succeeded');
    expect(
      deliver(psp, event('refund.failed', { ...refund, status: 'failed', failure_reason: 'expired_or_canceled_card' })),
    ).toMatchObject({
      type: 'refund.failed',
      failureCode: 'expired_or_canceled_card',
    });
    expect(refusal(() => deliver(psp, event('refund.updated', { ...refund, status: 'pending' })))).toMatchObject({
      code: 'webhook_event_unsupported',
      kind: 'unprocessable',
    });
  });

  it('charge.dispute.created -> chargeback.opened on the disputed deposit, with the network reason code', () => {
    expect(deliver(psp, event('charge.dispute.created', dispute))).toEqual({
      eventId: 'evt_1NG8Du2eZvKYlo2CUI79vXWy',
      type: 'chargeback.opened',
      providerRef: paymentIntent.id,
      amount: { amount: 10050n, currency: 'EUR' },
      occurredAt,
      dispute: { id: dispute.id, reasonCode: '10.4' },
    });
  });

  it('an inquiry (warning_needs_response) withdraws no funds: not a chargeback', () => {
    const inquiry = { ...dispute, status: 'warning_needs_response' };
    expect(refusal(() => deliver(psp, event('charge.dispute.created', inquiry))).code).toBe('webhook_event_unsupported');
  });

  it('charge.dispute.closed -> chargeback.won / chargeback.lost', () => {
    expect(deliver(psp, event('charge.dispute.closed', { ...dispute, status: 'won' })).type).toBe('chargeback.won');
    expect(deliver(psp, event('charge.dispute.closed', { ...dispute, status: 'lost' })).type).toBe('chargeback.lost');
    expect(refusal(() => deliver(psp, event('charge.dispute.closed', { ...dispute, status: 'warning_closed' }))).code).toBe(
      'webhook_event_unsupported',
    );
  });

  it('payout.paid / payout.failed (Connect events) -> our payout events keyed by the transfer', () => {
    const account = { account: 'acct_1MTfjCQ9PRzxEwkZ' };
    expect(deliver(psp, event('payout.paid', { ...payout, status: 'paid' }, account))).toMatchObject({
      type: 'payout.paid',
      providerRef: transfer.id,
      merchantRef: 'wd_1',
      amount: { amount: 40000n, currency: 'EUR' },
    });
    expect(
      deliver(psp, event('payout.failed', { ...payout, status: 'failed', failure_code: 'account_closed' }, account)),
    ).toMatchObject({
      type: 'payout.failed',
      providerRef: transfer.id,
      failureCode: 'account_closed',
    });
  });

  it("a payout this adapter did not make (the platform's own, no transfer_id) is not ours", () => {
    const own = { ...payout, automatic: true, metadata: {} };
    expect(refusal(() => deliver(psp, event('payout.paid', own))).code).toBe('webhook_event_unsupported');
  });

  it('payment_intent.succeeded, charge.refunded and unknown types are unsupported (422), naming the type', () => {
    for (const [type, object] of [
      ['payment_intent.succeeded', { ...paymentIntent, status: 'succeeded' }],
      ['charge.refunded', { ...charge, refunded: true, amount_refunded: 10050 }],
      ['customer.created', { id: 'cus_1', object: 'customer' }],
    ] as const) {
      const e = refusal(() => deliver(psp, event(type, object)));
      expect(e).toMatchObject({ code: 'webhook_event_unsupported', kind: 'unprocessable', meta: { eventType: type } });
    }
  });

  it('an event in a currency the ledger does not know is malformed, never guessed', () => {
    expect(refusal(() => deliver(psp, event('charge.succeeded', { ...charge, currency: 'huf' }))).code).toBe('webhook_malformed');
  });
});

// --- settlement ----------------------------------------------------------------------------------

describe('settlementReport: balance transactions, paged', () => {
  const bt = (
    id: string,
    reporting_category: string,
    amount: number,
    fee: number,
    source: unknown,
    type = reporting_category,
  ) => ({
    id,
    object: 'balance_transaction',
    amount,
    available_on: 1700000000,
    created: 1764072000,
    currency: 'eur',
    description: null,
    fee,
    fee_details: fee ? [{ amount: fee, currency: 'eur', description: 'Stripe processing fees', type: 'stripe_fee' }] : [],
    net: amount - fee,
    reporting_category,
    source,
    status: 'available',
    type,
  });

  it('walks every page with starting_after and maps each client payment; magnitudes, Stripe fee kept', async () => {
    const page1 = {
      object: 'list',
      url: '/v1/balance_transactions',
      has_more: true,
      data: [
        bt('txn_1', 'charge', 10050, 320, charge),
        bt('txn_2', 'refund', -2500, 0, refund),
        bt('txn_3', 'payout', -500000, 0, { id: 'po_platform', object: 'payout' }),
      ],
    };
    const page2 = {
      object: 'list',
      url: '/v1/balance_transactions',
      has_more: false,
      data: [
        bt('txn_4', 'dispute', -10050, 1500, dispute, 'adjustment'),
        bt('txn_5', 'transfer', -40000, 0, transfer),
        bt('txn_6', 'dispute_reversal', 10050, 0, dispute, 'adjustment'),
        bt('txn_7', 'fee', -200, 0, null, 'stripe_fee'),
      ],
    };
    const { calls, psp } = fakeStripe({ body: page1 }, { body: page2 });
    const lines = await psp.settlementReport({ from: new Date('2025-11-25T00:00:00Z'), to: new Date('2025-11-26T00:00:00Z') });

    expect(calls).toHaveLength(2);
    const q1 = new URL(calls[0]!.url);
    expect(`${q1.origin}${q1.pathname}`).toBe('https://api.stripe.com/v1/balance_transactions');
    expect(calls[0]!.method).toBe('GET');
    expect(calls[0]!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(q1.searchParams.get('created[gte]')).toBe('1764028800');
    expect(q1.searchParams.get('created[lt]')).toBe('1764115200');
    expect(q1.searchParams.get('limit')).toBe('100');
    expect(q1.searchParams.getAll('expand[]')).toEqual(['data.source']);
    expect(q1.searchParams.has('starting_after')).toBe(false);
    expect(new URL(calls[1]!.url).searchParams.get('starting_after')).toBe('txn_3');

    const settledAt = new Date(1764072000 * 1000).toISOString();
    const eur = (amount: bigint) => ({ amount, currency: 'EUR' });
    expect(lines).toEqual([
      { providerRef: paymentIntent.id, kind: 'deposit', amount: eur(10050n), providerFee: eur(320n), settledAt },
      { providerRef: refund.id, kind: 'refund', amount: eur(2500n), providerFee: eur(0n), settledAt },
      { providerRef: paymentIntent.id, kind: 'chargeback', amount: eur(10050n), providerFee: eur(1500n), settledAt },
      { providerRef: transfer.id, kind: 'payout', amount: eur(40000n), providerFee: eur(0n), settledAt },
      { providerRef: 'txn_7', kind: 'fee', amount: eur(200n), providerFee: eur(0n), settledAt },
    ]);
  });

  it('a page that fails transiently fails the report (retryable), never a partial list', async () => {
    const { psp } = fakeStripe(
      { body: { object: 'list', has_more: true, data: [bt('txn_1', 'charge', 100, 0, charge)] } },
      { status: 503, body: null },
    );
    const e = await rejection(psp.settlementReport({ from: new Date(0), to: NOW }));
    expect(e).toBeInstanceOf(PspUnavailableError);
  });
});
