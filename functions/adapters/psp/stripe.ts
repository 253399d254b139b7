/**
 * Stripe behind the PSP port (provider id `stripe`): the real shape of one provider, through its REST
 * API with an injected `fetch` (tests run offline). Shapes follow Stripe's API reference, pinned to
 * API version STRIPE_API_VERSION (sent as `Stripe-Version`; the webhook endpoint must be created with
 * the same `api_version`, since webhook payloads follow the endpoint's version, not the request's):
 * - requests: https://api.stripe.com/v1/..., `Authorization: Bearer <secret key>`, form-encoded bodies
 *   with bracket notation (`metadata[deposit_id]=...`), `Idempotency-Key` on every POST
 *   (docs.stripe.com/api/idempotent_requests: a repeated key replays the first response; keys are kept
 *   at least 24 hours, longer than any retry of ours)
 * - errors: `{ "error": { type, code, decline_code, message, payment_intent? } }`; 400 bad request,
 *   401/403 key, 402 request failed (card declined), 404, 409 conflict (same key in flight), 424, 429,
 *   5xx (docs.stripe.com/api/errors). The `Stripe-Should-Retry` header, when present, overrides
 * - deposits: `POST /v1/payment_intents` (amount in the currency's smallest unit as an integer,
 *   currency lower-case, `automatic_payment_methods[enabled]=true`, our ids in `metadata`). A fresh
 *   PaymentIntent is `requires_payment_method`: the payer completes it in the browser with Stripe.js and
 *   the intent's `client_secret`, so the next action is a redirect to OUR payment page (options
 *   `paymentPageUrl`) carrying `payment_intent` and `payment_intent_client_secret`, the query Stripe
 *   itself appends to a `return_url`. A `next_action.redirect_to_url` in the response wins when present.
 *   The PaymentIntent id (`pi_...`) is the deposit's providerRef: charges, refunds, disputes and balance
 *   transactions all point back to it (Checkout Sessions were rejected: a session id `cs_...` is known
 *   at creation, the PaymentIntent only later, and nothing downstream names the session)
 * - payouts: Stripe cannot pay an arbitrary card or IBAN of a retail client. What its docs offer is
 *   Connect: the client is a connected account (`acct_...`, onboarded by Stripe, payout schedule set to
 *   manual) and the platform (the broker) first `POST /v1/transfers` (destination = that account) then
 *   `POST /v1/payouts` with `Stripe-Account: acct_...` to the account's external bank account or debit
 *   card. So `destination.account` must be an `acct_` id (else 422 payout_destination_unsupported). The
 *   transfer id (`tr_...`) is the withdrawal's providerRef: it is what the platform's balance shows, and
 *   the payout carries it in `metadata[transfer_id]`, so payout.paid / payout.failed find it too. A
 *   payout that fails after its transfer leaves the funds in the connected account: reversing the
 *   transfer (`POST /v1/transfers/{id}/reversals`) is an operator step the port has no verb for. The
 *   card-native way back to a card is a refund of the deposit (`refund`), which the closed loop prefers
 * - refunds: `POST /v1/refunds` (`payment_intent`, `amount`, Stripe's `reason` only when ours is one of
 *   its three values, ours always in `metadata[reason]`); refund statuses pending | requires_action |
 *   succeeded | failed | canceled
 * - webhooks: header `Stripe-Signature: t=<unix>,v1=<hex>[,v1=...][,v0=...]`, HMAC-SHA256 with the
 *   endpoint secret (`whsec_...`, used as is) over `${t}.${rawBody}`, several v1 while a secret rolls
 *   (docs.stripe.com/webhooks#verify-manually): exactly webhook-signature.ts, with a 300 s tolerance.
 *   The event is `{ id: 'evt_...', object: 'event', type, created, data: { object }, account? }`
 * - settlement: `GET /v1/balance_transactions?created[gte]&created[lt]&limit=100&expand[]=data.source`,
 *   paged with `starting_after` while `has_more` (docs.stripe.com/api/balance_transactions/list)
 *
 * Event mapping (anything else, or a mapped type in a state that settles nothing, is the 422
 * `webhook_event_unsupported`, which names the type: the endpoint should subscribe to these only):
 * - charge.succeeded -> deposit.succeeded (providerRef = charge.payment_intent, merchantRef =
 *   metadata.deposit_id, which Stripe copies from the PaymentIntent to its charge on confirmation;
 *   source = payment_method_details[type].fingerprint). Not payment_intent.succeeded: since API
 *   2022-11-15 the PaymentIntent in that event names only `latest_charge`, without the card fingerprint
 *   the closed loop keys on, and verifyWebhook may not fetch it (pure)
 * - payment_intent.payment_failed -> deposit.failed (failureCode = decline_code or code). Stripe lets a
 *   payer retry the same PaymentIntent; our page must not (a new attempt is a new deposit)
 * - payment_intent.canceled -> deposit.expired (cancellation_reason abandoned | automatic | none),
 *   otherwise deposit.failed with the reason
 * - refund.created / refund.updated / refund.failed / charge.refund.updated (a refund object) ->
 *   refund.succeeded | refund.failed by its status; pending / requires_action are unsupported (not
 *   final). charge.refunded is unsupported: since 2022-11-15 its charge no longer lists the refunds
 * - charge.dispute.created -> chargeback.opened (providerRef = the disputed PaymentIntent, dispute =
 *   { id: 'du_...', reasonCode: the network reason code, else Stripe's reason }). An inquiry
 *   (status warning_*) withdraws no funds and is unsupported; charge.dispute.closed -> chargeback.won |
 *   chargeback.lost by status (warning_closed unsupported)
 * - payout.paid / payout.failed / payout.canceled -> payout.paid | payout.failed for payouts this adapter
 *   made (metadata.transfer_id present; a Connect event, `account` = the client's account)
 *
 * Invariants:
 * - money crosses as bigint minor units: amounts go out as decimal integer strings (form encoding, no
 *   Number at all) and come in as JSON integers accepted only when Number.isSafeInteger and >= 0, then
 *   BigInt. Only currencies Stripe takes with the same exponent as ours (STRIPE_EXPONENTS) pass; any
 *   other is 422 currency_not_supported_by_provider before a request is made
 * - the API key comes from pspSecrets('stripe').apiKey (Secrets Manager / environment), never code
 * - network failures, timeouts, 409, 424, 429 and 5xx throw PspUnavailableError (retryable, code
 *   payment_provider_unavailable; retrying is safe, every POST repeats its Idempotency-Key). 401/403 and
 *   an idempotency_error throw PspRequestError (not retryable: configuration or a bug). Any other 4xx
 *   is the provider refusing this payment: a `failed` intent / payout / refund with its failureCode
 * - verifyWebhook authenticates before it parses (webhook-signature.ts codes, 401), then reads the body
 *   (400 webhook_malformed), then maps (422 webhook_event_unsupported); it does no I/O
 * - settlement lines carry magnitudes (the kind says the direction), like the sandbox's: providerFee is
 *   Stripe's fee on the line; only five reporting categories become lines: charge -> deposit (the PaymentIntent),
 *   refund -> refund (re_), dispute -> chargeback (the PaymentIntent), transfer -> payout (tr_), fee -> fee
 *   (txn_). The platform's own payouts, top-ups and the reversals (refund_failure, dispute_reversal,
 *   transfer_reversal) are left out: SettlementLine has no direction to tell a reversal from its original
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { CURRENCIES, isCurrency, type Money } from '#domain/money/index.ts';
import type {
  DepositIntent,
  DepositIntentRequest,
  NextAction,
  Payout,
  PayoutRequest,
  PspEvent,
  PspEventType,
  PspPort,
  Refund,
  RefundRequest,
  SettlementLine,
  WebhookInput,
} from '#domain/payments/ports.ts';
import { pspSecrets } from './secrets.ts';
import { DEFAULT_TOLERANCE_SECONDS, readWebhookBody, verifyWebhook as verifySignature } from './webhook-signature.ts';

export const STRIPE_PROVIDER = 'stripe';
export const STRIPE_API_VERSION = '2024-06-20';
export const STRIPE_API_BASE = 'https://api.stripe.com';
export const STRIPE_SIGNATURE_HEADER = 'stripe-signature';
const DEFAULT_TIMEOUT_MS = 10_000;
const PAGE_LIMIT = 100;
/** 1000 pages of 100: far above a day's volume; a guard against a provider that never ends a list. */
const MAX_PAGES = 1000;

/**
 * Stripe's minor-unit exponents for the currencies our ledger knows (docs.stripe.com/currencies: JPY is
 * zero-decimal, the others two-decimal). A currency is used only when this equals our exponent.
 */
export const STRIPE_EXPONENTS: Readonly<Record<string, number>> = {
  USD: 2,
  EUR: 2,
  GBP: 2,
  CHF: 2,
  AUD: 2,
  CAD: 2,
  NZD: 2,
  SGD: 2,
  ZAR: 2,
  AED: 2,
  JPY: 0,
};

// --- errors ---------------------------------------------------------------------------------------

/** The provider could not be reached or asked us to come back later: retry (same idempotency key). */
export class PspUnavailableError extends Error {
  readonly code = 'payment_provider_unavailable';
  readonly retryable = true;
  constructor(
    readonly provider: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'PspUnavailableError';
  }
}

/** The provider refused the request itself (our key, our permissions, a reused idempotency key): do not retry. */
export class PspRequestError extends Error {
  readonly retryable = false;
  constructor(
    readonly provider: string,
    readonly code: 'payment_provider_auth_failed' | 'payment_provider_idempotency_conflict' | 'payment_provider_rejected',
    message: string,
    readonly status: number,
    readonly providerCode?: string,
  ) {
    super(message);
    this.name = 'PspRequestError';
  }
}

const unsupported = (type: string, why: string) =>
  new DomainError('webhook_event_unsupported', 'unprocessable', `Stripe event ${type.slice(0, 80)}: ${why}`, [], {
    provider: STRIPE_PROVIDER,
    eventType: type.slice(0, 80),
  });

const malformed = (why: string) =>
  new DomainError('webhook_malformed', 'validation', `The Stripe webhook body cannot be read: ${why}`);

// --- money ----------------------------------------------------------------------------------------

/** Our currency code -> Stripe's (lower-case); 422 currency_not_supported_by_provider otherwise. */
export function stripeCurrency(code: string): string {
  if (!isCurrency(code) || STRIPE_EXPONENTS[code] !== CURRENCIES[code]!.exponent) {
    throw new DomainError(
      'currency_not_supported_by_provider',
      'unprocessable',
      `Stripe does not take ${code.slice(0, 10)} here`,
      [{ field: 'currency', code: 'currency_not_supported_by_provider', message: 'Not supported by this provider' }],
      { provider: STRIPE_PROVIDER },
    );
  }
  return code.toLowerCase();
}

/** A positive minor-unit amount as Stripe's integer, written as a decimal string (never a float). */
function stripeAmount(m: Money): string {
  if (m.amount <= 0n) throw new DomainError('amount_not_positive', 'unprocessable', 'Amount must be greater than zero');
  return m.amount.toString();
}

/** A JSON integer amount + Stripe currency from the provider -> Money; undefined when unusable. */
function moneyFrom(amount: unknown, currency: unknown): Money | undefined {
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 0) return undefined;
  if (typeof currency !== 'string') return undefined;
  const code = currency.toUpperCase();
  if (!isCurrency(code) || STRIPE_EXPONENTS[code] !== CURRENCIES[code]!.exponent) return undefined;
  return { amount: BigInt(amount), currency: code };
}

// --- HTTP -----------------------------------------------------------------------------------------

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface StripePspOptions {
  /** Defaults to the global fetch. */
  fetch?: FetchLike;
  /** Defaults to STRIPE_API_BASE. */
  baseUrl?: string;
  /**
   * Our page that mounts Stripe's Payment Element for a PaymentIntent (query: payment_intent,
   * payment_intent_client_secret, return_url). Defaults to PSP_PAYMENT_PAGE_URL_STRIPE.
   */
  paymentPageUrl?: string;
  /** Per request; an aborted request is PspUnavailableError. Defaults to 10 s. */
  timeoutMs?: number;
}

type Params = [string, string][];

interface StripeErrorBody {
  type?: string;
  code?: string;
  decline_code?: string;
  message?: string;
  payment_intent?: { id?: string };
}

type Outcome<T> = { ok: true; body: T } | { ok: false; status: number; error: StripeErrorBody; requestId: string | undefined };

/** Stripe caps idempotency keys at 255 characters; a longer key of ours is hashed (stable). */
const idempotencyHeader = (key: string) => (key.length <= 255 ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`);

const metadataParams = (m: Record<string, string>): Params => Object.entries(m).map(([k, v]) => [`metadata[${k}]`, v]);

function client(opts: StripePspOptions) {
  const doFetch: FetchLike = opts.fetch ?? ((url, init) => fetch(url, init));
  const base = (opts.baseUrl ?? STRIPE_API_BASE).replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  async function apiKey(): Promise<string> {
    const key = (await pspSecrets(STRIPE_PROVIDER)).apiKey;
    if (!key) throw new Error('No API key configured for PSP stripe (pspSecrets apiKey)');
    return key;
  }

  /** One call. Transient failures throw PspUnavailableError; 401/403/idempotency_error throw PspRequestError. */
  async function call<T>(
    method: 'GET' | 'POST',
    path: string,
    params: Params,
    extra: { idempotencyKey?: string; account?: string } = {},
  ): Promise<Outcome<T>> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${await apiKey()}`,
      'stripe-version': STRIPE_API_VERSION,
    };
    if (extra.idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyHeader(extra.idempotencyKey);
    if (extra.account !== undefined) headers['stripe-account'] = extra.account;
    const encoded = new URLSearchParams(params).toString();
    let url = `${base}${path}`;
    const init: RequestInit = { method, headers, signal: AbortSignal.timeout(timeoutMs) };
    if (method === 'POST') {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      init.body = encoded;
    } else if (encoded) {
      url = `${url}?${encoded}`;
    }

    let res: Response;
    try {
      res = await doFetch(url, init);
    } catch (e) {
      throw new PspUnavailableError(STRIPE_PROVIDER, `Stripe ${method} ${path}: ${(e as Error).message ?? 'network error'}`);
    }
    const requestId = res.headers.get('request-id') ?? undefined;
    const shouldRetry = res.headers.get('stripe-should-retry');
    let json: unknown;
    try {
      json = await res.json();
    } catch {
      json = undefined;
    }
    if (res.ok) {
      if (json === null || typeof json !== 'object') {
        // a 2xx we cannot read: repeating the same idempotent request replays the response
        throw new PspUnavailableError(STRIPE_PROVIDER, `Stripe ${method} ${path}: unreadable response`, res.status);
      }
      return { ok: true, body: json as T };
    }
    const error: StripeErrorBody =
      json && typeof json === 'object' && 'error' in json && json.error && typeof json.error === 'object'
        ? (json.error as StripeErrorBody)
        : {};
    const transient = [409, 424, 429].includes(res.status) || res.status >= 500;
    if (shouldRetry === 'true' || (transient && shouldRetry !== 'false')) {
      throw new PspUnavailableError(STRIPE_PROVIDER, `Stripe ${method} ${path}: HTTP ${res.status}`, res.status);
    }
    if (res.status === 401 || res.status === 403) {
      throw new PspRequestError(
        STRIPE_PROVIDER,
        'payment_provider_auth_failed',
        `Stripe refused our key (HTTP ${res.status})`,
        res.status,
        error.code,
      );
    }
    if (error.type === 'idempotency_error') {
      throw new PspRequestError(
        STRIPE_PROVIDER,
        'payment_provider_idempotency_conflict',
        'Stripe saw this idempotency key with other parameters',
        res.status,
        error.code,
      );
    }
    if (transient) {
      throw new PspRequestError(
        STRIPE_PROVIDER,
        'payment_provider_rejected',
        `Stripe ${method} ${path}: HTTP ${res.status}`,
        res.status,
        error.code,
      );
    }
    return { ok: false, status: res.status, error, requestId };
  }

  return { call };
}

/** What a refused payment is called in our records: the issuer's decline code, else Stripe's code. */
const failureCodeOf = (e: StripeErrorBody) => e.decline_code ?? e.code ?? e.type ?? 'provider_refused';

/** A providerRef for something Stripe refused before creating it: its request id (unique per call). */
const refusedRef = (requestId: string | undefined, idempotencyKey: string) =>
  requestId ?? `refused_${idempotencyHeader(idempotencyKey)}`;

// --- API shapes (only the fields we read) ---------------------------------------------------------

interface StripePaymentIntent {
  id: string;
  status: string;
  client_secret?: string | null;
  cancellation_reason?: string | null;
  next_action?: { type?: string; redirect_to_url?: { url?: string | null } | null } | null;
  last_payment_error?: StripeErrorBody | null;
}

interface StripeTransfer {
  id: string;
}

interface StripePayout {
  id: string;
  status: string;
  failure_code?: string | null;
}

interface StripeRefund {
  id: string;
  status: string;
}

const PAYOUT_STATUS: Record<string, Payout['status']> = {
  pending: 'processing',
  in_transit: 'processing',
  paid: 'paid',
  failed: 'failed',
  canceled: 'failed',
};

const REFUND_STATUS: Record<string, Refund['status']> = {
  pending: 'pending',
  requires_action: 'pending',
  succeeded: 'succeeded',
  failed: 'failed',
  canceled: 'failed',
};

const STRIPE_REFUND_REASONS = new Set(['duplicate', 'fraudulent', 'requested_by_customer']);

// --- webhook events -------------------------------------------------------------------------------

const eventSchema = z.object({
  id: z.string().min(1).max(255),
  object: z.literal('event'),
  type: z.string().min(1).max(200),
  created: z.number().int().nonnegative(),
  account: z.string().max(255).optional(),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

/** The event envelope (docs.stripe.com/api/events/object), only the fields we read. */
export type StripeEvent = z.infer<typeof eventSchema>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const metadataOf = (o: Record<string, unknown>, key: string) => str(obj(o.metadata)?.[key]);

/** The account a charge was paid from: the payment method's fingerprint and a display like 'Visa •4242'. */
function sourceOf(charge: Record<string, unknown>): PspEvent['source'] {
  const pmd = obj(charge.payment_method_details);
  const type = str(pmd?.type);
  const details = type ? obj(pmd?.[type]) : undefined;
  const fingerprint = str(details?.fingerprint);
  if (!type || !details || !fingerprint) return undefined;
  const brand = str(details.brand);
  const label = brand ? brand.charAt(0).toUpperCase() + brand.slice(1) : type.replace(/_/g, ' ');
  const last4 = str(details.last4);
  return { fingerprint, display: last4 ? `${label} •${last4}` : label };
}

/**
 * A verified, parsed Stripe event -> our PspEvent. Pure. Throws webhook_malformed (400) when a mapped
 * event lacks what it needs, webhook_event_unsupported (422) for anything we do not act on.
 */
export function mapStripeEvent(event: StripeEvent): PspEvent {
  const o = event.data.object;
  const base = (type: PspEventType, providerRef: string | undefined, money: Money | undefined) => {
    if (!providerRef) throw malformed(`${event.type} without the payment it is about`);
    if (!money) throw malformed(`${event.type} without a usable amount and currency`);
    return {
      eventId: event.id,
      type,
      providerRef,
      amount: money,
      occurredAt: new Date(event.created * 1000).toISOString(),
    } satisfies PspEvent;
  };
  const withMerchantRef = (e: PspEvent, ref: string | undefined): PspEvent => (ref ? { ...e, merchantRef: ref } : e);

  switch (event.type) {
    case 'charge.succeeded': {
      const pi = str(o.payment_intent);
      if (!pi) throw unsupported(event.type, 'a charge made without a PaymentIntent is not ours');
      const e = withMerchantRef(base('deposit.succeeded', pi, moneyFrom(o.amount, o.currency)), metadataOf(o, 'deposit_id'));
      const source = sourceOf(o);
      return source ? { ...e, source } : e;
    }
    case 'payment_intent.payment_failed': {
      const err = obj(o.last_payment_error) as StripeErrorBody | undefined;
      const e = base('deposit.failed', str(o.id), moneyFrom(o.amount, o.currency));
      return { ...withMerchantRef(e, metadataOf(o, 'deposit_id')), failureCode: err ? failureCodeOf(err) : 'payment_failed' };
    }
    case 'payment_intent.canceled': {
      const reason = str(o.cancellation_reason);
      const expired = reason === undefined || reason === 'abandoned' || reason === 'automatic';
      const e = base(expired ? 'deposit.expired' : 'deposit.failed', str(o.id), moneyFrom(o.amount, o.currency));
      return { ...withMerchantRef(e, metadataOf(o, 'deposit_id')), failureCode: reason ?? 'canceled' };
    }
    case 'refund.created':
    case 'refund.updated':
    case 'refund.failed':
    case 'charge.refund.updated': {
      const status = str(o.status);
      const type: PspEventType | undefined =
        status === 'succeeded' ? 'refund.succeeded' : status === 'failed' || status === 'canceled' ? 'refund.failed' : undefined;
      if (!type) throw unsupported(event.type, `refund status ${String(status).slice(0, 30)} is not final`);
      const e = base(type, str(o.id), moneyFrom(o.amount, o.currency));
      return type === 'refund.failed' ? { ...e, failureCode: str(o.failure_reason) ?? status ?? 'refund_failed' } : e;
    }
    case 'charge.dispute.created':
    case 'charge.dispute.closed': {
      const status = str(o.status) ?? '';
      let type: PspEventType;
      if (event.type === 'charge.dispute.created') {
        if (status.startsWith('warning_')) throw unsupported(event.type, 'an inquiry withdraws no funds');
        type = 'chargeback.opened';
      } else if (status === 'won' || status === 'lost') {
        type = status === 'won' ? 'chargeback.won' : 'chargeback.lost';
      } else {
        throw unsupported(event.type, `dispute status ${status.slice(0, 30)} moves no money`);
      }
      const id = str(o.id);
      if (!id) throw malformed('a dispute without an id');
      const card = obj(obj(o.payment_method_details)?.card);
      const reasonCode = (str(card?.network_reason_code) ?? str(o.network_reason_code) ?? str(o.reason) ?? 'unknown').slice(
        0,
        50,
      );
      return { ...base(type, str(o.payment_intent), moneyFrom(o.amount, o.currency)), dispute: { id, reasonCode } };
    }
    case 'payout.paid':
    case 'payout.failed':
    case 'payout.canceled': {
      const transfer = metadataOf(o, 'transfer_id');
      if (!transfer) throw unsupported(event.type, 'a payout this adapter did not make');
      const type: PspEventType = event.type === 'payout.paid' ? 'payout.paid' : 'payout.failed';
      const e = withMerchantRef(base(type, transfer, moneyFrom(o.amount, o.currency)), metadataOf(o, 'withdrawal_id'));
      return type === 'payout.failed'
        ? { ...e, failureCode: str(o.failure_code) ?? (event.type === 'payout.canceled' ? 'payout_canceled' : 'payout_failed') }
        : e;
    }
    default:
      throw unsupported(event.type, 'not an event this adapter maps');
  }
}

// --- settlement -----------------------------------------------------------------------------------

export interface BalanceTransaction {
  id: string;
  amount: number;
  currency: string;
  fee: number;
  created: number;
  reporting_category?: string;
  type?: string;
  source?: string | Record<string, unknown> | null;
}

/** One balance transaction -> a settlement line, or undefined when it is not a client payment. */
export function settlementLineOf(bt: BalanceTransaction): SettlementLine | undefined {
  const category = bt.reporting_category ?? bt.type ?? '';
  const source = obj(bt.source);
  const sourceId = str(source?.id) ?? str(bt.source);
  let kind: SettlementLine['kind'];
  let providerRef: string | undefined;
  switch (category) {
    case 'charge':
      kind = 'deposit';
      providerRef = str(source?.payment_intent) ?? sourceId;
      break;
    case 'refund':
      kind = 'refund';
      providerRef = sourceId;
      break;
    case 'dispute':
      kind = 'chargeback';
      providerRef = str(source?.payment_intent) ?? sourceId;
      break;
    case 'transfer':
      kind = 'payout';
      providerRef = sourceId;
      break;
    case 'fee':
      kind = 'fee';
      providerRef = bt.id;
      break;
    default:
      return undefined;
  }
  const amount = moneyFrom(Math.abs(bt.amount), bt.currency);
  const fee = moneyFrom(Math.abs(bt.fee), bt.currency);
  if (!amount || !fee || !providerRef) {
    throw new Error(`Stripe balance transaction ${String(bt.id).slice(0, 60)} has an unusable amount, currency or source`);
  }
  return {
    providerRef,
    kind,
    amount,
    providerFee: kind === 'fee' ? { amount: 0n, currency: amount.currency } : fee,
    settledAt: new Date(bt.created * 1000).toISOString(),
  };
}

// --- the adapter ----------------------------------------------------------------------------------

/** The Stripe adapter. Register as `stripe: () => stripePsp()` in functions/adapters/psp/index.ts. */
export function stripePsp(opts: StripePspOptions = {}): PspPort {
  const { call } = client(opts);

  function paymentPageUrl(): string {
    const page = opts.paymentPageUrl ?? process.env.PSP_PAYMENT_PAGE_URL_STRIPE;
    if (!page) throw new Error('No payment page configured for PSP stripe (PSP_PAYMENT_PAGE_URL_STRIPE)');
    return page;
  }

  function nextAction(pi: StripePaymentIntent, page: string, returnUrl: string | undefined): NextAction {
    const direct = pi.next_action?.redirect_to_url?.url;
    if (direct) return { type: 'redirect', url: direct };
    if (!pi.client_secret) throw new PspUnavailableError(STRIPE_PROVIDER, `PaymentIntent ${pi.id} came without a client_secret`);
    const url = new URL(page);
    url.searchParams.set('payment_intent', pi.id);
    url.searchParams.set('payment_intent_client_secret', pi.client_secret);
    if (returnUrl) url.searchParams.set('return_url', returnUrl);
    return { type: 'redirect', url: url.toString() };
  }

  return {
    provider: STRIPE_PROVIDER,

    async createDepositIntent(req: DepositIntentRequest): Promise<DepositIntent> {
      const page = paymentPageUrl(); // before the call: never an intent the payer cannot reach
      const params: Params = [
        ['amount', stripeAmount(req.amount)],
        ['currency', stripeCurrency(req.amount.currency)],
        ['automatic_payment_methods[enabled]', 'true'],
        ['description', `Deposit ${req.depositId}`],
        ...metadataParams({ deposit_id: req.depositId, client_id: req.clientId, method_id: req.methodId }),
      ];
      const res = await call<StripePaymentIntent>('POST', '/v1/payment_intents', params, { idempotencyKey: req.idempotencyKey });
      if (!res.ok) {
        return {
          providerRef: res.error.payment_intent?.id ?? refusedRef(res.requestId, req.idempotencyKey),
          status: 'failed',
          failureCode: failureCodeOf(res.error),
        };
      }
      const pi = res.body;
      if (pi.status === 'canceled') {
        return { providerRef: pi.id, status: 'failed', failureCode: pi.cancellation_reason ?? 'canceled' };
      }
      return { providerRef: pi.id, status: 'pending', nextAction: nextAction(pi, page, req.returnUrl) };
    },

    async createPayout(req: PayoutRequest): Promise<Payout> {
      const account = req.destination.account;
      if (!/^acct_[A-Za-z0-9]{1,100}$/.test(account)) {
        throw new DomainError(
          'payout_destination_unsupported',
          'unprocessable',
          'Stripe pays out only to a connected account (acct_...)',
          [{ field: 'destination', code: 'payout_destination_unsupported', message: 'Not a Stripe connected account' }],
          { provider: STRIPE_PROVIDER },
        );
      }
      const amount = stripeAmount(req.amount);
      const currency = stripeCurrency(req.amount.currency);
      const transfer = await call<StripeTransfer>(
        'POST',
        '/v1/transfers',
        [
          ['amount', amount],
          ['currency', currency],
          ['destination', account],
          ['transfer_group', req.withdrawalId],
          ['description', `Withdrawal ${req.withdrawalId}`],
          ...metadataParams({ withdrawal_id: req.withdrawalId, client_id: req.clientId }),
        ],
        { idempotencyKey: `${req.idempotencyKey}:transfer` },
      );
      if (!transfer.ok) {
        return {
          providerRef: refusedRef(transfer.requestId, req.idempotencyKey),
          status: 'failed',
          failureCode: failureCodeOf(transfer.error),
        };
      }
      const transferId = transfer.body.id;
      const payout = await call<StripePayout>(
        'POST',
        '/v1/payouts',
        [
          ['amount', amount],
          ['currency', currency],
          ['description', `Withdrawal ${req.withdrawalId}`],
          ...metadataParams({ withdrawal_id: req.withdrawalId, transfer_id: transferId }),
        ],
        { idempotencyKey: `${req.idempotencyKey}:payout`, account },
      );
      if (!payout.ok) return { providerRef: transferId, status: 'failed', failureCode: failureCodeOf(payout.error) };
      const status = PAYOUT_STATUS[payout.body.status] ?? 'processing';
      return status === 'failed'
        ? { providerRef: transferId, status, failureCode: payout.body.failure_code ?? 'payout_failed' }
        : { providerRef: transferId, status };
    },

    async refund(req: RefundRequest): Promise<Refund> {
      // Stripe takes the PaymentIntent's currency: checked here so an unsupported one never reaches it
      stripeCurrency(req.amount.currency);
      const params: Params = [
        ['payment_intent', req.depositProviderRef],
        ['amount', stripeAmount(req.amount)],
        ...(STRIPE_REFUND_REASONS.has(req.reason) ? ([['reason', req.reason]] as Params) : []),
        ...metadataParams({ reason: req.reason.slice(0, 500) }),
      ];
      const res = await call<StripeRefund>('POST', '/v1/refunds', params, { idempotencyKey: req.idempotencyKey });
      if (!res.ok) return { providerRef: refusedRef(res.requestId, req.idempotencyKey), status: 'failed' };
      return { providerRef: res.body.id, status: REFUND_STATUS[res.body.status] ?? 'pending' };
    },

    verifyWebhook(input: WebhookInput): PspEvent {
      verifySignature({
        header: input.headers[STRIPE_SIGNATURE_HEADER],
        rawBody: input.rawBody,
        secrets: input.secrets,
        now: input.now,
        toleranceSeconds: DEFAULT_TOLERANCE_SECONDS,
      });
      return mapStripeEvent(
        readWebhookBody(input.rawBody, eventSchema, malformed, { notJson: 'not JSON', notEvent: 'not a Stripe event' }),
      );
    },

    async settlementReport(period: { from: Date; to: Date }): Promise<SettlementLine[]> {
      const lines: SettlementLine[] = [];
      const gte = Math.ceil(period.from.getTime() / 1000);
      const lt = Math.ceil(period.to.getTime() / 1000);
      let after: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const params: Params = [
          ['created[gte]', String(gte)],
          ['created[lt]', String(lt)],
          ['limit', String(PAGE_LIMIT)],
          ['expand[]', 'data.source'],
          ...(after ? ([['starting_after', after]] as Params) : []),
        ];
        const res = await call<{ data: BalanceTransaction[]; has_more: boolean }>('GET', '/v1/balance_transactions', params);
        if (!res.ok) {
          throw new PspRequestError(
            STRIPE_PROVIDER,
            'payment_provider_rejected',
            `Stripe refused the balance transactions list: ${res.error.message ?? res.status}`,
            res.status,
            res.error.code,
          );
        }
        const data = Array.isArray(res.body.data) ? res.body.data : [];
        for (const bt of data) {
          const line = settlementLineOf(bt);
          if (line) lines.push(line);
        }
        const last = data.at(-1)?.id;
        if (!res.body.has_more || !last) return lines;
        after = last;
      }
      throw new PspUnavailableError(STRIPE_PROVIDER, `Stripe balance transactions: more than ${MAX_PAGES} pages`);
    },
  };
}
