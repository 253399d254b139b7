/**
 * The sandbox PSP's wire formats, shared by its two halves: the adapter (functions/adapters/psp/sandbox.ts,
 * the provider's "API", which enqueues requests) and the worker (functions/workers/psp-sandbox.ts, the
 * provider's back end, which answers them with signed webhooks and settlement lines).
 *
 * - request: one SQS message per createDepositIntent / createPayout / refund (`SandboxRequest`)
 * - webhook: the JSON body POSTed to `/v1/webhooks/psp/sandbox` (`SandboxWebhookBody`), signed with
 *   `x-psp-signature` (webhook-signature.ts)
 * - settlement: one CSV per settled item at `psp/sandbox/<YYYY-MM-DD>/<eventId>.csv` in the settlements
 *   bucket, header `provider_ref,kind,amount,currency,provider_fee,settled_at` (the reconciliation job's format)
 *
 * Invariants:
 * - everything the sandbox invents is a pure function of our ids: provider refs of the idempotency key,
 *   event ids of (provider ref, event type), funding sources of (client, method kind), bank references
 *   and crypto addresses of the deposit id. Repeating a request therefore repeats the same webhook
 *   (same event id), which the webhook route de-duplicates
 * - money is a decimal string with exactly the currency's exponent (formatMoney), never a float
 * - the IBANs, addresses and card details are demo values: never a real account
 */
import { createHash } from 'node:crypto';
import { composeIBAN } from 'ibantools';
import * as z from 'zod';
import { formatAmount, formatMoney, isCurrency, type Money, type MoneyJson, toMinor } from '#domain/money/index.ts';
import { PAYMENT_METHOD_KINDS, type PaymentMethodKind } from '#domain/payments/catalog.ts';
import type { NextAction, PspEvent, PspEventType, SettlementLine } from '#domain/payments/ports.ts';

export const SANDBOX_PROVIDER = 'sandbox';
/** The sandbox provider's queue (functions/manifest.ts). */
export const SANDBOX_QUEUE = 'psp-sandbox';
/** Seconds between a request and its webhook's earliest delivery (the issue asks for a webhook within 2 s). */
export const SANDBOX_DELAY_SECONDS = 1;
/** The hosted payment page the sandbox redirects card and e-wallet payers to (never resolves: `.invalid`). */
export const SANDBOX_PAY_URL = 'https://sandbox-psp.invalid/pay/';
/** The sandbox's client-money account for wire deposits (a well-known demo IBAN). */
export const SANDBOX_BANK = { beneficiary: 'Sandbox PSP Ltd - client funds', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX' };
export const SETTLEMENT_HEADER = 'provider_ref,kind,amount,currency,provider_fee,settled_at';
export const SETTLEMENT_PREFIX = `psp/${SANDBOX_PROVIDER}/`;

export type SandboxRequestKind = 'deposit' | 'payout' | 'refund';

const sha256 = (s: string) => createHash('sha256').update(s).digest();
const hex = (s: string, n: number) => sha256(s).toString('hex').slice(0, n);

const moneyJson = z.object({
  amount: z.string().regex(/^\d{1,40}(\.\d{1,18})?$/),
  currency: z.string().refine(isCurrency, 'unknown currency'),
});
const source = z.object({ fingerprint: z.string().min(1).max(200), display: z.string().min(1).max(200) });

/** One request to the sandbox provider (the body of a psp-sandbox queue message). */
export const sandboxRequestSchema = z.object({
  kind: z.enum(['deposit', 'payout', 'refund']),
  providerRef: z.string().min(1).max(200),
  merchantRef: z.string().min(1).max(200),
  amount: moneyJson,
  methodKind: z.enum(PAYMENT_METHOD_KINDS).optional(),
  source: source.optional(),
  requestedAt: z.string(),
});
export type SandboxRequest = z.infer<typeof sandboxRequestSchema>;

const EVENT_TYPES = [
  'deposit.succeeded',
  'deposit.failed',
  'deposit.expired',
  'payout.paid',
  'payout.failed',
  'refund.succeeded',
  'refund.failed',
  'chargeback.opened',
  'chargeback.won',
  'chargeback.lost',
] as const satisfies readonly PspEventType[];

/** The sandbox webhook's JSON body. */
export const sandboxWebhookSchema = z.object({
  id: z.string().min(1).max(200),
  type: z.enum(EVENT_TYPES),
  providerRef: z.string().min(1).max(200),
  merchantRef: z.string().min(1).max(200).optional(),
  amount: moneyJson,
  occurredAt: z.iso.datetime({ offset: true }),
  failureCode: z.string().min(1).max(100).optional(),
  source: source.optional(),
  dispute: z.object({ id: z.string().min(1).max(200), reasonCode: z.string().min(1).max(50) }).optional(),
});
export type SandboxWebhookBody = z.infer<typeof sandboxWebhookSchema>;

/** A webhook body -> the port's PspEvent (amount in minor units). Throws on an amount the currency cannot hold. */
export function toPspEvent(b: SandboxWebhookBody): PspEvent {
  const amount: Money = { amount: toMinor(b.amount.amount, b.amount.currency), currency: b.amount.currency };
  return {
    eventId: b.id,
    type: b.type,
    providerRef: b.providerRef,
    ...(b.merchantRef === undefined ? {} : { merchantRef: b.merchantRef }),
    amount,
    occurredAt: b.occurredAt,
    ...(b.failureCode === undefined ? {} : { failureCode: b.failureCode }),
    ...(b.source === undefined ? {} : { source: b.source }),
    ...(b.dispute === undefined ? {} : { dispute: b.dispute }),
  };
}

// --- deterministic identifiers ---------------------------------------------------------------

const REF_PREFIX: Record<SandboxRequestKind, string> = { deposit: 'sbx_dep_', payout: 'sbx_po_', refund: 'sbx_rf_' };

/** `sbx_dep_<key>` / `sbx_po_<key>` / `sbx_rf_<key>`; a key that is not URL-safe (or too long) is hashed. */
export function sandboxRef(kind: SandboxRequestKind, idempotencyKey: string): string {
  const id = /^[A-Za-z0-9_-]{1,100}$/.test(idempotencyKey) ? idempotencyKey : `h${hex(idempotencyKey, 32)}`;
  return `${REF_PREFIX[kind]}${id}`;
}

/** The event id of the webhook announcing `type` for `providerRef`: the same on every repeat. */
export const sandboxEventId = (providerRef: string, type: PspEventType) => `sbx_evt_${hex(`${providerRef}|${type}`, 32)}`;

/** The wire reference a payer must quote (SEPA-safe characters, 16 long), from the deposit id. */
export const wireReference = (depositId: string) => `SBX-${hex(`wire|${depositId}`, 12).toUpperCase()}`;

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const base58ish = (seed: string, n: number) =>
  [...sha256(seed)]
    .concat([...sha256(`${seed}|2`)])
    .slice(0, n)
    .map((b) => BASE58[b % 58])
    .join('');

/** The chain a crypto method's id names (usdt-trc20 -> TRC20); the upper-cased id for an unknown one. */
export function cryptoNetwork(methodId: string): string {
  const known: [RegExp, string][] = [
    [/trc-?20/i, 'TRC20'],
    [/erc-?20/i, 'ERC20'],
    [/bep-?20/i, 'BEP20'],
    [/sol/i, 'SOL'],
    [/btc|bitcoin/i, 'BTC'],
  ];
  return known.find(([re]) => re.test(methodId))?.[1] ?? methodId.toUpperCase();
}

/** A demo address in the network's usual shape (TRON `T...`, EVM `0x...`), from a seed. */
export function demoAddress(network: string, seed: string): string {
  if (network === 'TRC20') return `T${base58ish(`${network}|${seed}`, 33)}`;
  if (network === 'ERC20' || network === 'BEP20') return `0x${hex(`${network}|${seed}`, 40)}`;
  if (network === 'BTC') return `bc1q${hex(`${network}|${seed}`, 38)}`;
  return `${network.toLowerCase()}_${base58ish(`${network}|${seed}`, 32)}`;
}

/** What the payer does next for a deposit through a method of this kind. */
export function depositNextAction(
  kind: PaymentMethodKind,
  input: { providerRef: string; depositId: string; methodId: string; returnUrl?: string | undefined },
): NextAction {
  switch (kind) {
    case 'card':
    case 'e_wallet': {
      const url = `${SANDBOX_PAY_URL}${encodeURIComponent(input.providerRef)}`;
      return { type: 'redirect', url: input.returnUrl ? `${url}?return_url=${encodeURIComponent(input.returnUrl)}` : url };
    }
    case 'bank_wire':
      return { type: 'bank_transfer', reference: wireReference(input.depositId), ...SANDBOX_BANK };
    case 'crypto': {
      const network = cryptoNetwork(input.methodId);
      return { type: 'crypto_address', network, address: demoAddress(network, `deposit|${input.depositId}`) };
    }
  }
}

/** A demo German IBAN (valid check digits) for a client: the account its wires come from. */
export function demoIban(clientId: string): string {
  const digits = BigInt(`0x${hex(`iban|${clientId}`, 30)}`)
    .toString()
    .padStart(18, '0')
    .slice(-18);
  return composeIBAN({ countryCode: 'DE', bban: digits }) ?? `DE00${digits}`;
}

/**
 * The account a client's deposits through a method of this kind come from: a card (`card_<hash>`,
 * 'Visa •4242'), its IBAN, its e-wallet id or its crypto address; the same for every deposit of the client.
 */
export function fundingSource(
  kind: PaymentMethodKind,
  input: { clientId: string; methodId: string; walletLabel?: string },
): { fingerprint: string; display: string } {
  switch (kind) {
    case 'card':
      return { fingerprint: `card_${hex(`card|${input.clientId}`, 24)}`, display: 'Visa •4242' };
    case 'bank_wire': {
      const iban = demoIban(input.clientId);
      return { fingerprint: iban, display: `${iban.slice(0, 4)} •••• ${iban.slice(-4)}` };
    }
    case 'e_wallet': {
      const id = `ew_${hex(`e_wallet|${input.clientId}`, 24)}`;
      const last4 = String(Number.parseInt(hex(`e_wallet4|${input.clientId}`, 8), 16) % 10_000).padStart(4, '0');
      return { fingerprint: id, display: `${input.walletLabel ?? 'e-wallet'} •${last4}` };
    }
    case 'crypto': {
      const network = cryptoNetwork(input.methodId);
      const address = demoAddress(network, `client|${input.clientId}`);
      return { fingerprint: address, display: `${address.slice(0, 6)}…${address.slice(-4)}` };
    }
  }
}

// --- settlement lines ---------------------------------------------------------------------------

export type SettlementKind = SettlementLine['kind'];

/** The S3 key of one settled item's CSV: `psp/sandbox/<YYYY-MM-DD of settledAt, UTC>/<eventId>.csv`. */
export const settlementKey = (eventId: string, settledAt: Date) =>
  `${SETTLEMENT_PREFIX}${settledAt.toISOString().slice(0, 10)}/${eventId}.csv`;

/** The CSV (header + one line) of a settled item; the sandbox keeps no fee of its own (provider_fee 0). */
export function settlementCsv(line: { providerRef: string; kind: SettlementKind; amount: Money; settledAt: Date }): string {
  const m: MoneyJson = formatMoney(line.amount);
  const fee = formatAmount(0n, line.amount.currency);
  return `${SETTLEMENT_HEADER}\n${line.providerRef},${line.kind},${m.amount},${m.currency},${fee},${line.settledAt.toISOString()}\n`;
}
