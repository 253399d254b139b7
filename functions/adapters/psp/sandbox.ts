/**
 * The sandbox PSP adapter (the local default; issue 5). Its "API" is the psp-sandbox SQS queue:
 * createDepositIntent / createPayout / refund enqueue one request (DelaySeconds 1) and answer the way
 * a provider would; functions/workers/psp-sandbox.ts is the provider's back end, which decides the
 * outcome by the amount (domain/payments/sandbox.ts: minor units ending 13 fail, 42 stay pending with
 * no webhook, anything else succeeds) and POSTs a signed webhook to the API's own
 * /v1/webhooks/psp/sandbox. Wire formats: sandbox-protocol.ts.
 *
 * Invariants:
 * - the provider ref is a pure function of the idempotency key (`sbx_dep_<key>`, `sbx_po_<key>`,
 *   `sbx_rf_<key>`): a repeated call returns the same ref, and its repeated request produces the same
 *   webhook (same event id), which the webhook route de-duplicates
 * - next actions: card / e-wallet -> redirect to `https://sandbox-psp.invalid/pay/<ref>`; bank wire ->
 *   the sandbox's demo client-money account with a reference derived from the deposit id; crypto -> a
 *   deterministic demo address on the method's network. Payouts answer 'processing', refunds 'pending'
 * - the merchant ref echoed in webhooks is our id: depositId, withdrawalId, and the refund's
 *   idempotency key (the refund id)
 * - verifyWebhook checks the signature (webhook-signature.ts: 401s) BEFORE it reads the body; a signed
 *   body it cannot read is 400 webhook_malformed. Pure: no I/O
 * - a queue failure is thrown (the caller maps it to payment_provider_unavailable): nothing is
 *   reported as accepted that the provider did not receive
 */
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { DomainError } from '#domain/errors.ts';
import { formatMoney } from '#domain/money/index.ts';
import { findMethod, labelFor } from '#domain/payments/methods.ts';
import type {
  DepositIntent,
  DepositIntentRequest,
  Payout,
  PayoutRequest,
  PspEvent,
  PspPort,
  Refund,
  RefundRequest,
  SettlementLine,
  WebhookInput,
} from '#domain/payments/ports.ts';
import { parseSettlementCsv } from '#domain/payments/settlement.ts';
import { s3, sqs } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { tenantConfig } from '#shared/tenant.ts';
import {
  depositNextAction,
  fundingSource,
  SANDBOX_DELAY_SECONDS,
  SANDBOX_PROVIDER,
  SANDBOX_QUEUE,
  type SandboxRequest,
  SETTLEMENT_PREFIX,
  sandboxRef,
  sandboxWebhookSchema,
  toPspEvent,
} from './sandbox-protocol.ts';
import { readWebhookBody, SIGNATURE_HEADER, verifyWebhook } from './webhook-signature.ts';

const malformed = (message: string) => new DomainError('webhook_malformed', 'validation', message);

/** Sends one request to the sandbox provider's queue. */
async function enqueue(request: SandboxRequest): Promise<void> {
  await sqs().send(
    new SendMessageCommand({
      QueueUrl: env.queueUrl(SANDBOX_QUEUE),
      MessageBody: JSON.stringify(request),
      DelaySeconds: SANDBOX_DELAY_SECONDS,
    }),
  );
}

function methodOf(methodId: string) {
  const method = findMethod(tenantConfig(), methodId);
  if (!method) throw new Error(`sandbox PSP: unknown payment method ${methodId}`);
  return method;
}

/** Authenticates (401s first), then reads the body into a PspEvent (400 webhook_malformed). */
export function verifySandboxWebhook(input: WebhookInput): PspEvent {
  verifyWebhook({ header: input.headers[SIGNATURE_HEADER], rawBody: input.rawBody, secrets: input.secrets, now: input.now });
  const body = readWebhookBody(input.rawBody, sandboxWebhookSchema, malformed, {
    notJson: 'The webhook body is not JSON',
    notEvent: 'The webhook body is not a sandbox event',
  });
  let event: PspEvent;
  try {
    event = toPspEvent(body);
  } catch {
    throw malformed('The webhook amount does not fit its currency');
  }
  if (event.amount.amount <= 0n) throw malformed('The webhook amount must be positive');
  return event;
}

const LIST_CONCURRENCY = 16;

/** The UTC dates (YYYY-MM-DD) that [from, to) touches. */
function datesBetween(from: Date, to: Date): string[] {
  const out: string[] = [];
  const day = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()));
  for (; day < to; day.setUTCDate(day.getUTCDate() + 1)) out.push(day.toISOString().slice(0, 10));
  return out;
}

async function listKeys(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const res = await s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of res.Contents ?? []) if (o.Key?.endsWith('.csv')) keys.push(o.Key);
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Parses one of the worker's CSV files (the reconciliation job's parser); throws naming the object and line. */
function readSettlementFile(text: string, file: string): SettlementLine[] {
  return parseSettlementCsv(text, { file, provider: SANDBOX_PROVIDER }).map(
    ({ providerRef, kind, amount, providerFee, settledAt }) => ({ providerRef, kind, amount, providerFee, settledAt }),
  );
}

/** Every settlement line the sandbox wrote with settled_at in [from, to) (reads the settlements bucket). */
export async function sandboxSettlementReport(period: { from: Date; to: Date }): Promise<SettlementLine[]> {
  const bucket = env.settlementsBucket;
  const keys = (
    await Promise.all(datesBetween(period.from, period.to).map((d) => listKeys(bucket, `${SETTLEMENT_PREFIX}${d}/`)))
  ).flat();
  const lines: SettlementLine[] = [];
  for (let i = 0; i < keys.length; i += LIST_CONCURRENCY) {
    const chunk = await Promise.all(
      keys.slice(i, i + LIST_CONCURRENCY).map(async (key) => {
        const res = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return readSettlementFile((await res.Body?.transformToString('utf8')) ?? '', key);
      }),
    );
    lines.push(...chunk.flat());
  }
  const from = period.from.getTime();
  const to = period.to.getTime();
  return lines.filter((l) => {
    const t = Date.parse(l.settledAt);
    return t >= from && t < to;
  });
}

export function sandboxPsp(): PspPort {
  return {
    provider: SANDBOX_PROVIDER,

    async createDepositIntent(req: DepositIntentRequest): Promise<DepositIntent> {
      const method = methodOf(req.methodId);
      const providerRef = sandboxRef('deposit', req.idempotencyKey);
      const cfg = tenantConfig();
      await enqueue({
        kind: 'deposit',
        providerRef,
        merchantRef: req.depositId,
        amount: formatMoney(req.amount),
        methodKind: method.kind,
        source: fundingSource(method.kind, {
          clientId: req.clientId,
          methodId: method.id,
          walletLabel: labelFor(method, cfg.defaultLocale, cfg.defaultLocale),
        }),
        requestedAt: new Date().toISOString(),
      });
      return {
        providerRef,
        status: 'pending',
        nextAction: depositNextAction(method.kind, {
          providerRef,
          depositId: req.depositId,
          methodId: method.id,
          returnUrl: req.returnUrl,
        }),
      };
    },

    async createPayout(req: PayoutRequest): Promise<Payout> {
      const method = methodOf(req.methodId);
      const providerRef = sandboxRef('payout', req.idempotencyKey);
      await enqueue({
        kind: 'payout',
        providerRef,
        merchantRef: req.withdrawalId,
        amount: formatMoney(req.amount),
        methodKind: method.kind,
        requestedAt: new Date().toISOString(),
      });
      return { providerRef, status: 'processing' };
    },

    async refund(req: RefundRequest): Promise<Refund> {
      const providerRef = sandboxRef('refund', req.idempotencyKey);
      await enqueue({
        kind: 'refund',
        providerRef,
        merchantRef: req.idempotencyKey,
        amount: formatMoney(req.amount),
        requestedAt: new Date().toISOString(),
      });
      return { providerRef, status: 'pending' };
    },

    verifyWebhook: verifySandboxWebhook,

    settlementReport: sandboxSettlementReport,
  };
}
