/**
 * Strategies (issue 15): a provider submits one of its live trading accounts as a strategy (POST /v1/strategies),
 * staff moderate it (POST /v1/admin/strategies/{id}/decision), and clients read the marketplace (GET
 * /v1/strategies, GET /v1/strategies/{id}).
 *
 * Invariants:
 * - a submission is checked whole before anything is written: the provider's KYC (403 kyc_required), its account
 *   (404 trading_account_not_found unless its own, 409 trading_account_not_active, 422 strategy_needs_live_account),
 *   the fees against the caps (domain/copy/fees.ts: *_over_cap, invalid_fee_*), the money (parseMoney codes,
 *   currency_mismatch: fees and minimum are in the account's currency)
 * - exactly once per Idempotency-Key (the strategy id is derived from it); the strategy, the account's claim
 *   (one strategy per account: 409 account_already_a_strategy), the audit entry and copy.strategy.submitted are
 *   one transaction
 * - a decision follows domain/copy/strategies.ts (409 strategy_decision_not_allowed), carries a reason, and is
 *   one transaction with its audit entry (actor: the staff member) and copy.strategy.decided, conditioned on the
 *   version read
 * - the marketplace lists approved public strategies only; one strategy is readable by anyone signed in when
 *   followable, by its provider always, and by staff; otherwise 404 strategy_not_found
 */
import { assertFeeConfig, type CopyFeeConfig, DEFAULT_FEE_POLICY } from '#domain/copy/fees.ts';
import { decide, isFollowable, type StrategyDecision, type StrategyVisibility, strategyIdFor } from '#domain/copy/strategies.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import { formatAmount, type MoneyJson, toMinor } from '#domain/money/index.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { getClientProfile } from '#store/clients.ts';
import {
  getStrategy,
  listStrategiesByStatus,
  newStrategyWrites,
  STRATEGY_ENTITY,
  type StrategyItem,
  strategyEntity,
  strategyNotFound,
  strategySnapshot,
} from '#store/copy.ts';
import type { CommandContext } from '../context.ts';
import { activeLogin, idempotencyKeyReused, ownAccount, requestHashOf, requireKey } from '../trading/shared.ts';

export type { StrategyItem } from '#store/copy.ts';

const PROVIDERS: readonly Role[] = ['client'];
export const STRATEGY_MODERATORS: readonly Role[] = ['compliance', 'admin'];

export interface SubmitStrategyInput {
  accountId: string;
  name: string;
  description: string;
  fees: { performanceBps: number; managementBpsPerYear: number; volumePerMillion: MoneyJson; subscriptionPerMonth: MoneyJson };
  minInvestment: MoneyJson;
  visibility: StrategyVisibility;
}

const eventDetail = (s: StrategyItem) => ({
  strategyId: s.strategyId,
  providerClientId: s.providerClientId,
  accountId: s.accountId,
  name: s.name,
  currency: s.currency,
  performanceBps: s.fees.performanceBps,
  managementBpsPerYear: s.fees.managementBpsPerYear,
  minInvestment: s.minInvestment.amount,
  status: s.status,
});

const moneyIn = (m: MoneyJson, currency: string, field: string) => {
  if (m?.currency !== currency) {
    throw new DomainError('currency_mismatch', 'unprocessable', `Amounts of this strategy are in ${currency}`, [
      { field: `${field}.currency`, code: 'currency_mismatch', message: `Must be ${currency}` },
    ]);
  }
  // zero is a valid fee or minimum (parseMoney refuses it: it parses amounts to move)
  let parsed: bigint;
  try {
    parsed = /^\d{1,15}(\.\d+)?$/.test(String(m.amount)) ? toMinor(String(m.amount), currency) : -1n;
  } catch {
    parsed = -1n;
  }
  if (parsed < 0n) {
    throw new DomainError(
      'invalid_amount',
      'validation',
      `${field} must be a plain decimal string with at most the currency's decimals`,
      [{ field: `${field}.amount`, code: 'invalid_amount', message: 'Invalid amount' }],
    );
  }
  return { minor: parsed, json: { amount: formatAmount(parsed, currency), currency } };
};

export async function submitStrategy(
  input: SubmitStrategyInput,
  caller: Caller,
  ctx: CommandContext,
): Promise<{ strategy: StrategyItem; replayed: boolean }> {
  const key = requireKey(ctx.idempotencyKey, 'Submitting a strategy');
  const actor = actorFrom(caller, PROVIDERS);
  const strategyId = strategyIdFor(caller.sub, key);
  const requestHash = requestHashOf(input);
  const prior = await getStrategy(strategyId, { consistent: true });
  if (prior) {
    if (prior.requestHash !== requestHash) throw idempotencyKeyReused();
    return { strategy: prior, replayed: true };
  }
  const profile = await getClientProfile(caller.sub);
  if (profile?.kycStatus !== 'approved') {
    throw new DomainError('kyc_required', 'forbidden', 'Your identity must be verified before you offer a strategy');
  }
  const account = await ownAccount(input.accountId, caller);
  const login = activeLogin(account);
  if (account.kind !== 'live') {
    throw new DomainError('strategy_needs_live_account', 'unprocessable', 'A strategy is a live account', [
      { field: 'accountId', code: 'strategy_needs_live_account', message: 'Not a live account' },
    ]);
  }
  const cur = account.currency;
  const volume = moneyIn(input.fees.volumePerMillion, cur, 'fees.volumePerMillion');
  const subscription = moneyIn(input.fees.subscriptionPerMonth, cur, 'fees.subscriptionPerMonth');
  const minimum = moneyIn(input.minInvestment, cur, 'minInvestment');
  const fees: CopyFeeConfig = {
    currency: cur,
    performanceBps: input.fees.performanceBps,
    managementBpsPerYear: input.fees.managementBpsPerYear,
    volumePerMillion: volume.minor,
    subscriptionPerMonth: subscription.minor,
  };
  assertFeeConfig(fees, DEFAULT_FEE_POLICY);

  const at = new Date().toISOString();
  const strategy = strategyEntity.item(
    {
      strategyId,
      providerClientId: caller.sub,
      accountId: account.accountId,
      platform: account.platform,
      server: account.server,
      login,
      currency: cur,
      name: input.name,
      description: input.description,
      fees: {
        performanceBps: fees.performanceBps,
        managementBpsPerYear: fees.managementBpsPerYear,
        volumePerMillion: volume.json,
        subscriptionPerMonth: subscription.json,
      },
      minInvestment: minimum.json,
      visibility: input.visibility,
      status: 'pending_review',
      idempotencyKey: key,
      requestHash,
    },
    at,
  );
  try {
    await commit({
      writes: newStrategyWrites(strategy, at),
      audit: {
        actor,
        action: 'copy.strategy.submitted',
        entity: { type: STRATEGY_ENTITY, id: strategyId },
        newEntity: true,
        clientId: caller.sub,
        before: null,
        after: strategySnapshot(strategy),
        requestId: ctx.requestId,
      },
      outbox: [{ detailType: 'copy.strategy.submitted', detail: eventDetail(strategy) }],
    });
  } catch (err) {
    if (isDomainError(err) && err.code === 'strategy_exists') return submitStrategy(input, caller, ctx);
    throw err;
  }
  return { strategy, replayed: false };
}

export async function decideStrategy(
  input: { strategyId: string; decision: StrategyDecision; reason: string },
  caller: Caller,
  ctx: CommandContext,
): Promise<StrategyItem> {
  const actor = actorFrom(caller, STRATEGY_MODERATORS);
  const s = await getStrategy(input.strategyId, { consistent: true });
  if (!s) throw strategyNotFound();
  const status = decide(s.status, input.decision);
  const at = new Date().toISOString();
  const next = { ...s, status, statusReason: input.reason, decidedBy: caller.sub, decidedAt: at };
  const after = strategyEntity.replaced(s, next, at);
  await commit({
    writes: [strategyEntity.replace(s, next, at)],
    audit: {
      actor,
      action: `copy.strategy.${input.decision}`,
      entity: { type: STRATEGY_ENTITY, id: s.strategyId },
      clientId: s.providerClientId,
      before: strategySnapshot(s),
      after: { ...strategySnapshot(after), reason: input.reason },
      requestId: ctx.requestId,
    },
    outbox: [
      { detailType: 'copy.strategy.decided', detail: { ...eventDetail(after), reason: input.reason, decidedBy: caller.sub } },
    ],
  });
  return after;
}

/** The marketplace (approved, public), or for moderators any status. */
export async function listStrategies(
  input: { status?: string | undefined; limit: number; cursor?: string | undefined },
  caller: Caller,
  _ctx: CommandContext,
) {
  const staff = caller.isStaff && caller.roles.some((r) => STRATEGY_MODERATORS.includes(r));
  const status = staff && input.status ? input.status : 'approved';
  const page = await listStrategiesByStatus(status, { limit: input.limit, cursor: input.cursor });
  return { ...page, items: staff ? page.items : page.items.filter(isFollowable) };
}

/** One strategy, if the caller may read it (module invariants). */
export async function readStrategy(input: { strategyId: string }, caller: Caller, _ctx: CommandContext): Promise<StrategyItem> {
  const s = await getStrategy(input.strategyId, { consistent: true });
  const staff = caller.isStaff;
  if (!s || !(isFollowable(s) || s.providerClientId === caller.sub || staff)) throw strategyNotFound();
  return s;
}
