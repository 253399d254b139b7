/**
 * What the chargeback use cases share: the chargeback as they return it, the outcome of a dispute event,
 * and who acts.
 *
 * Invariants:
 * - a refusal found while preparing the transaction (the dispute already recorded, a deposit that is not
 *   chargeable, a chargeback that is not open) is an outcome { applied: false, reason }, never an error
 */
import type { AuditActor } from '#domain/audit/chain.ts';
import type { CommitWrite } from '#store/items.ts';
import type { ChargebackItem } from '#store/payments/chargebacks.ts';

/** A chargeback as the use cases return it (the stored item). */
export type Chargeback = ChargebackItem;

export type ChargebackOutcome =
  | { applied: true; chargeback: Chargeback }
  | { applied: false; reason: string; chargebackId?: string };

export interface ChargebackContext {
  actor: AuditActor;
  requestId: string;
  /** The webhook event marker, committed with the change. */
  marker?: CommitWrite | undefined;
}

/** Refusals found inside the transaction's preparation: reported as { applied: false }, never as an error. */
export class ChargebackIgnored extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}
