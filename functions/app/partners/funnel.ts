/**
 * A referred client's funnel milestones from the events of other contexts (issue 16, ADR 0018): verified
 * (`kyc.approved`) and funded (the first `payment.deposit.completed`). The first trade is recorded by the deal's
 * accrual (functions/app/partners/accrue.ts), in the same transaction as its lines.
 *
 * Invariants:
 * - each milestone is set once: the referral's attribute is conditioned on being unset and the link's counter is
 *   ADDed in the same transaction, so a redelivered event counts nothing twice
 * - the first deposit is the one the payments context marks `first`; a later deposit never sets it, even when its
 *   event is delivered before the first one's
 * - a first deposit that completes a CPA qualification writes the CPA line and the referral's cpaPaid in the same
 *   transaction (at most one CPA per referred client); one that does not commits only if the window's volume is still
 *   as read (a deal committing meanwhile makes it read again), so a qualified client is never left unpaid
 * - a client without a referral (not referred) is ignored
 */
import { DomainError } from '#domain/errors.ts';
import { toMinor } from '#domain/money/index.ts';
import { commit, systemActor } from '#store/audit.ts';
import { lineEntity } from '#store/partner-accruals.ts';
import { getReferral, type ReferralItem, referralMilestoneWrites } from '#store/partners.ts';
import type { CommandContext } from '../context.ts';
import { accruedEvent, cpaLines, cpaSource } from './accrue.ts';
import { chainAt } from './chain.ts';

const ACTOR = systemActor('partner-funnel');
const REFERRAL_ENTITY = 'partner-referral';

export type MilestoneOutcome = 'not_referred' | 'not_first' | 'already_set' | 'recorded';

/** The referred client was verified. */
export async function recordVerified(clientId: string, at: string, ctx: CommandContext): Promise<MilestoneOutcome> {
  const r = await getReferral(clientId, { consistent: true });
  if (!r) return 'not_referred';
  if (r.verifiedAt) return 'already_set';
  await commitMilestone(r, referralMilestoneWrites(r, 'verified', at), 'partner.referral.verified', ctx);
  return 'recorded';
}

const RACED = 'referral_raced';
const ATTEMPTS = 3;

type DepositInput = { clientId: string; amount: string; currency: string; at: string; first: boolean };

/** The referred client's deposit completed: the first one is its funnel's `funded` and may complete its CPA. */
export async function recordDeposit(input: DepositInput, ctx: CommandContext): Promise<MilestoneOutcome> {
  // A deal of the client (or another delivery of a deposit) committed between our read and our commit: read again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await recordDepositOnce(input, ctx);
    } catch (err) {
      if (!(err instanceof DomainError) || err.code !== RACED || attempt >= ATTEMPTS) throw err;
    }
  }
}

async function recordDepositOnce(input: DepositInput, ctx: CommandContext): Promise<MilestoneOutcome> {
  if (!input.first) return 'not_first';
  const r = await getReferral(input.clientId, { consistent: true });
  if (!r) return 'not_referred';
  if (r.firstDeposit) return 'already_set';
  const firstDeposit = { amount: toMinor(input.amount, input.currency).toString(), currency: input.currency, at: input.at };
  const writes = referralMilestoneWrites(r, 'funded', input.at, firstDeposit);
  const [direct] = await chainAt(input.clientId, input.at);
  const now = new Date().toISOString();
  const cpa = direct ? cpaLines({ ...r, firstDeposit } as ReferralItem, direct, BigInt(r.windowVolume), now) : [];
  // The milestone's update and the CPA flag are one item: one Update with both.
  const u = (
    writes[0] as {
      Update: {
        UpdateExpression: string;
        ConditionExpression: string;
        ExpressionAttributeNames: Record<string, string>;
        ExpressionAttributeValues: Record<string, unknown>;
      };
    }
  ).Update;
  if (cpa.length === 0 && direct?.rules?.cpa && !r.cpaPaid) {
    // No CPA on the lots read: a deal of the client committed meanwhile could complete it, so this commit holds only
    // if the window's volume is still what was read (else raced: read again; a set milestone is then already_set).
    u.ConditionExpression = `${u.ConditionExpression} AND #wv = :wvRead`;
    u.ExpressionAttributeNames['#wv'] = 'windowVolume';
    u.ExpressionAttributeValues[':wvRead'] = Number(r.windowVolume);
    writes[0]!.conditionFailedError = new DomainError(RACED, 'conflict', 'The referral changed meanwhile; retry');
  }
  if (cpa.length > 0) {
    u.UpdateExpression = `${u.UpdateExpression}, #cpa = :yes`;
    u.ConditionExpression = `${u.ConditionExpression} AND (attribute_not_exists(#cpa) OR #cpa = :no)`;
    u.ExpressionAttributeNames['#cpa'] = 'cpaPaid';
    u.ExpressionAttributeValues[':yes'] = true;
    u.ExpressionAttributeValues[':no'] = false;
  }
  await commitMilestone(
    r,
    [...writes, ...cpa.map((l) => lineEntity.putNew(lineEntity.item(l, now)))],
    'partner.referral.funded',
    ctx,
    cpa.length > 0 ? [accruedEvent(cpaSource(r.clientId), r.clientId, 'cpa', cpa)] : [],
  );
  return 'recorded';
}

async function commitMilestone(
  r: ReferralItem,
  writes: Parameters<typeof commit>[0]['writes'],
  action: string,
  ctx: CommandContext,
  outbox: NonNullable<Parameters<typeof commit>[0]['outbox']> = [],
): Promise<void> {
  try {
    await commit({
      writes,
      audit: [
        {
          actor: ACTOR,
          action,
          entity: { type: REFERRAL_ENTITY, id: r.clientId },
          clientId: r.clientId,
          before: null,
          after: { partnerId: r.partnerId, code: r.code ?? null },
          requestId: ctx.requestId,
        },
      ],
      outbox,
    });
  } catch (err) {
    // A concurrent delivery set it first: nothing to do.
    if ((err as { code?: string }).code === 'milestone_already_set') return;
    throw err;
  }
}
