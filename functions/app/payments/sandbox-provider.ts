/**
 * The sandbox payment provider's back end (the psp-sandbox worker's work; the requests are enqueued by
 * functions/adapters/psp/sandbox.ts): it answers each request the way a provider would, with a signed
 * webhook to PSP_WEBHOOK_URL_SANDBOX (the API's own POST /v1/webhooks/psp/sandbox) and, for what settled,
 * a settlement line in the settlements bucket (psp/sandbox/<YYYY-MM-DD>/<eventId>.csv) for the PSP
 * reconciliation job. answer-sandbox-request.ts is the use case; sandboxChargeback is the test and bench
 * hook that opens (or closes) a dispute.
 *
 * The outcome is decided by the amount (domain/payments/sandbox.ts `sandboxOutcome`, on minor units):
 * - ends in 13 -> deposit.failed / payout.failed / refund.failed (with a failureCode)
 * - ends in 42 -> pending: NO webhook (a deposit stays pending until its intent expires)
 * - anything else -> deposit.succeeded (with the funding source) / payout.paid / refund.succeeded
 *
 * Invariants:
 * - deterministic: the event id is a function of (provider ref, event type), so a redelivered or
 *   repeated request sends the same event, which the webhook route answers `duplicate`
 * - the webhook is signed over the exact bytes sent, with the provider's newest secret
 *   (webhookSecrets('sandbox')[0]); a non-2xx answer or a network error throws (the caller retries)
 * - a settlement line's key is its event id, so a retry overwrites rather than adds a line
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  SANDBOX_PROVIDER,
  type SandboxRequest,
  type SandboxRequestKind,
  type SandboxWebhookBody,
  type SettlementKind,
  sandboxEventId,
  settlementCsv,
  settlementKey,
} from '#adapters/psp/sandbox-protocol.ts';
import { webhookSecrets } from '#adapters/psp/secrets.ts';
import { SIGNATURE_HEADER, signWebhook } from '#adapters/psp/webhook-signature.ts';
import { formatMoney, type Money, type MoneyJson, toMinor } from '#domain/money/index.ts';
import type { PspEventType } from '#domain/payments/ports.ts';
import { type SandboxOutcome, sandboxOutcome } from '#domain/payments/sandbox.ts';
import { s3 } from '#shared/clients.ts';
import { env } from '#shared/env.ts';

/** The environment variable holding the webhook URL the sandbox calls (infra and local/runtime.ts set it). */
export const WEBHOOK_URL_ENV = 'PSP_WEBHOOK_URL_SANDBOX';
const WEBHOOK_TIMEOUT_MS = 10_000;

const EVENT_TYPE: Record<SandboxRequestKind, Record<Exclude<SandboxOutcome, 'pending'>, PspEventType>> = {
  deposit: { succeeded: 'deposit.succeeded', failed: 'deposit.failed' },
  payout: { succeeded: 'payout.paid', failed: 'payout.failed' },
  refund: { succeeded: 'refund.succeeded', failed: 'refund.failed' },
};
const FAILURE_CODE: Record<SandboxRequestKind, string> = {
  deposit: 'payment_declined',
  payout: 'payout_failed',
  refund: 'refund_failed',
};

function webhookUrl(): string {
  const url = process.env[WEBHOOK_URL_ENV];
  if (!url) throw new Error(`Environment variable ${WEBHOOK_URL_ENV} is not set`);
  return url;
}

export interface WebhookDelivery {
  status: number;
  /** The route's answer ({ status: 'applied' | 'ignored' | 'duplicate', ... }), when JSON. */
  answer: unknown;
}

/**
 * Signs `body` with the sandbox's newest webhook secret and POSTs it; throws on a non-2xx answer or a
 * network error / timeout (the caller retries).
 */
export async function deliverWebhook(
  body: SandboxWebhookBody,
  opts: { url?: string; now?: Date } = {},
): Promise<WebhookDelivery> {
  const [secret] = await webhookSecrets(SANDBOX_PROVIDER);
  if (!secret) throw new Error('sandbox PSP: no webhook secret');
  const raw = JSON.stringify(body);
  const res = await fetch(opts.url ?? webhookUrl(), {
    method: 'POST',
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signWebhook(secret, raw, opts.now) },
    body: raw,
    signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`sandbox PSP: webhook ${body.type} answered ${res.status}`);
  let answer: unknown = text;
  try {
    answer = text ? JSON.parse(text) : undefined;
  } catch {
    // a non-JSON 2xx answer is still an accepted delivery
  }
  return { status: res.status, answer };
}

/** Writes the settled item's CSV to the settlements bucket (key per event id: a retry overwrites it). */
export async function writeSettlementLine(line: {
  eventId: string;
  providerRef: string;
  kind: SettlementKind;
  amount: Money;
  settledAt: Date;
}): Promise<string> {
  const key = settlementKey(line.eventId, line.settledAt);
  await s3().send(
    new PutObjectCommand({
      Bucket: env.settlementsBucket,
      Key: key,
      Body: settlementCsv(line),
      ContentType: 'text/csv',
    }),
  );
  return key;
}

/** The webhook a request produces, or undefined when it stays pending (no webhook). */
export function webhookFor(req: SandboxRequest, occurredAt: Date): SandboxWebhookBody | undefined {
  const amount: Money = { amount: toMinor(req.amount.amount, req.amount.currency), currency: req.amount.currency };
  const outcome = sandboxOutcome(amount);
  if (outcome === 'pending') return undefined;
  const type = EVENT_TYPE[req.kind][outcome];
  return {
    id: sandboxEventId(req.providerRef, type),
    type,
    providerRef: req.providerRef,
    merchantRef: req.merchantRef,
    amount: formatMoney(amount),
    occurredAt: occurredAt.toISOString(),
    ...(outcome === 'failed' ? { failureCode: FAILURE_CODE[req.kind] } : {}),
    ...(outcome === 'succeeded' && req.kind === 'deposit' && req.source ? { source: req.source } : {}),
  };
}

export interface SandboxChargebackInput {
  /** The disputed deposit's provider ref (`sbx_dep_...`). */
  providerRef: string;
  /** Our deposit id. */
  merchantRef: string;
  amount: Money | MoneyJson;
  disputeId: string;
  reasonCode: string;
  /** Default 'chargeback.opened'. */
  type?: 'chargeback.opened' | 'chargeback.won' | 'chargeback.lost';
  /** Defaults to PSP_WEBHOOK_URL_SANDBOX. */
  url?: string;
  occurredAt?: Date;
}

/**
 * Test and bench hook: the sandbox opens (or closes) a dispute on a deposit. Sends the signed
 * chargeback webhook exactly as the worker sends its others (event id per dispute and type, so calling
 * it twice is a duplicate) and, for `chargeback.opened` when SETTLEMENTS_BUCKET is set, writes the
 * chargeback's settlement line (kind chargeback, the deposit's provider ref).
 */
export async function sandboxChargeback(input: SandboxChargebackInput): Promise<WebhookDelivery & { eventId: string }> {
  const type = input.type ?? 'chargeback.opened';
  const money: MoneyJson =
    typeof input.amount.amount === 'bigint' ? formatMoney(input.amount as Money) : (input.amount as MoneyJson);
  const occurredAt = input.occurredAt ?? new Date();
  const eventId = sandboxEventId(`${input.providerRef}#${input.disputeId}`, type);
  const delivery = await deliverWebhook(
    {
      id: eventId,
      type,
      providerRef: input.providerRef,
      merchantRef: input.merchantRef,
      amount: money,
      occurredAt: occurredAt.toISOString(),
      dispute: { id: input.disputeId, reasonCode: input.reasonCode },
    },
    input.url ? { url: input.url } : {},
  );
  if (type === 'chargeback.opened' && process.env.SETTLEMENTS_BUCKET) {
    await writeSettlementLine({
      eventId,
      providerRef: input.providerRef,
      kind: 'chargeback',
      amount: { amount: toMinor(money.amount, money.currency), currency: money.currency },
      settledAt: occurredAt,
    });
  }
  return { ...delivery, eventId };
}
