/**
 * Answer one request made to the sandbox payment provider, the way a provider would (the psp-sandbox
 * worker; the behaviour is sandbox-provider.ts): a signed webhook for the request's outcome and, for
 * what settled, its settlement line.
 *
 * Invariants:
 * - a request whose outcome is pending sends nothing ({ delivered: false })
 * - the settlement line is written only after the webhook was accepted, and only for settled items
 *   (no failureCode); a non-2xx answer or a network error throws before it (the queue redelivers)
 * - no PII in logs: refs, types and statuses only
 */
import { type SandboxRequest, sandboxRequestSchema } from '#adapters/psp/sandbox-protocol.ts';
import type { CommandContext } from '#app/context.ts';
import { toMinor } from '#domain/money/index.ts';
import { logger } from '#shared/powertools.ts';
import { deliverWebhook, webhookFor, writeSettlementLine } from './sandbox-provider.ts';

export type { SandboxRequest };
/** The use case's input as a queue message carries it (the sandbox protocol's request). */
export const SandboxRequestInput = sandboxRequestSchema;

export async function answerSandboxRequest(
  req: SandboxRequest,
  ctx: CommandContext,
): Promise<{ delivered: boolean; eventId?: string; settled?: boolean }> {
  const now = ctx.now ?? new Date();
  const body = webhookFor(req, now);
  if (!body) {
    logger.info('sandbox PSP: left pending (no webhook)', { kind: req.kind, providerRef: req.providerRef });
    return { delivered: false };
  }
  const delivery = await deliverWebhook(body);
  logger.info('sandbox PSP: webhook delivered', {
    type: body.type,
    eventId: body.id,
    providerRef: req.providerRef,
    httpStatus: delivery.status,
  });
  if (body.failureCode) return { delivered: true, eventId: body.id, settled: false };
  await writeSettlementLine({
    eventId: body.id,
    providerRef: req.providerRef,
    kind: req.kind,
    amount: { amount: toMinor(body.amount.amount, body.amount.currency), currency: body.amount.currency },
    settledAt: now,
  });
  return { delivered: true, eventId: body.id, settled: true };
}
