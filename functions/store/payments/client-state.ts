/**
 * A client's payment facts that several flows share (keys: paymentKeys.paymentState / fundingSource):
 * - the payment state: the first completed deposit (IB CPA keys on it), what was deposited before KYC
 *   approval (the pre-verification allowance), and a withdrawal freeze (a chargeback freezes)
 * - funding sources: every account money came in from (card fingerprint, IBAN, e-wallet, crypto
 *   address), with what came in and what went back per currency: the closed-loop rule's ledger
 *
 * Invariants:
 * - every write here is a CommitWrite the caller puts in the SAME transaction as the money movement
 *   it accounts for (deposit settlement, refund, withdrawal completion, chargeback), never alone
 * - counters are DynamoDB Numbers of minor units changed with ADD (atomic, no lost update) and read
 *   exactly through the ledger's wrapped-number client; they are never floats
 * - the pre-verification counter holds what is reserved by open intents plus what completed before
 *   verification; it is reserved conditioned on the limit (reservePreVerification) in the deposit's
 *   creation transaction and released when the deposit fails or expires
 * - the first deposit is claimed with a condition (attribute_not_exists(firstDepositId)): of two
 *   concurrent first deposits exactly one commit succeeds; the other fails with first_deposit_taken
 *   and its caller re-reads and retries as a non-first deposit
 * - these items are kept by ADD / SET Updates (no lost update under concurrency), so they are not declared with
 *   defineEntity (which writes whole items with the envelope: ADR 0013); reads still parse their fixed
 *   attributes (a malformed item is a StoredItemError), and counters convert exactly (big)
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { parseStored } from '../entity.ts';
import type { CommitWrite } from '../items.ts';
import { paymentKeys } from '../keys.ts';
import { batchGet, big, keyId, optStr, queryAll } from '../ledger/codec.ts';

export interface PaymentState {
  clientId: string;
  firstDepositId?: string | undefined;
  firstDepositAt?: string | undefined;
  /** Minor units deposited while not KYC-approved, per currency. */
  preVerification: Record<string, bigint>;
  withdrawalsFrozen?: { reason: string; caseId?: string | undefined; at: string } | undefined;
}

export interface FundingSource {
  clientId: string;
  sourceId: string;
  methodId: string;
  methodKind: string;
  provider: string;
  /** What a payout to this source is sent to (the provider's fingerprint / token, an IBAN, an address). */
  account: string;
  /** Masked, for the client: 'Visa •4242', 'DE89 •••• 3000'. */
  display: string;
  firstUsedAt: string;
  lastUsedAt: string;
  /** Minor units in per currency (completed deposits). */
  deposited: Record<string, bigint>;
  /** Minor units back per currency (refunds, chargebacks, completed withdrawals to this source). */
  returned: Record<string, bigint>;
}

const PV = 'pv_';
const DEP = 'dep_';
const RET = 'ret_';

/** A stable id for (provider, method, account): the same card or IBAN is always the same source. */
export const fundingSourceId = (provider: string, methodId: string, account: string) =>
  `src_${createHash('sha256').update(`${provider}\u0000${methodId}\u0000${account.trim().toUpperCase()}`, 'utf8').digest('hex').slice(0, 24)}`;

function counters(item: Record<string, unknown>, prefix: string): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const [k, v] of Object.entries(item)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = big(v);
  return out;
}

/** The payment state's fixed attributes (the pv_<currency> counters are read with `big`). */
const PaymentStateAttributes = z.looseObject({
  firstDepositId: z.string().optional(),
  firstDepositAt: z.string().optional(),
  withdrawalsFrozen: z.object({ reason: z.string(), caseId: z.string().optional(), at: z.string() }).optional(),
});

function toPaymentState(clientId: string, item: Record<string, unknown> | undefined): PaymentState {
  if (!item) return { clientId, preVerification: {} };
  const a = parseStored(paymentKeys.paymentStateType, PaymentStateAttributes, item);
  return {
    clientId,
    firstDepositId: optStr(a.firstDepositId),
    firstDepositAt: optStr(a.firstDepositAt),
    preVerification: counters(item, PV),
    withdrawalsFrozen: a.withdrawalsFrozen,
  };
}

export async function getPaymentState(clientId: string): Promise<PaymentState> {
  const k = paymentKeys.paymentState(clientId);
  return toPaymentState(clientId, (await batchGet([k])).get(keyId(k)));
}

/** A funding source's fixed attributes (the dep_ / ret_<currency> counters are read with `big`). */
const FundingSourceAttributes = z.looseObject({
  clientId: z.string(),
  sourceId: z.string(),
  methodId: z.string(),
  methodKind: z.string(),
  provider: z.string(),
  account: z.string(),
  display: z.string(),
  firstUsedAt: z.string(),
  lastUsedAt: z.string(),
});

function toFundingSource(item: Record<string, unknown>): FundingSource {
  const a = parseStored(paymentKeys.fundingSourceType, FundingSourceAttributes, item);
  return {
    clientId: a.clientId,
    sourceId: a.sourceId,
    methodId: a.methodId,
    methodKind: a.methodKind,
    provider: a.provider,
    account: a.account,
    display: a.display,
    firstUsedAt: a.firstUsedAt,
    lastUsedAt: a.lastUsedAt,
    deposited: counters(item, DEP),
    returned: counters(item, RET),
  };
}

/** Every funding source of the client, oldest first (strongly consistent: the closed-loop check reads it). */
export async function listFundingSources(clientId: string): Promise<FundingSource[]> {
  const out: FundingSource[] = [];
  for await (const page of queryAll({
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': paymentKeys.fundingSourcePartition(clientId) },
    ConsistentRead: true,
  })) {
    out.push(...page.map(toFundingSource));
  }
  return out.sort((a, b) => a.firstUsedAt.localeCompare(b.firstUsedAt));
}

export async function getFundingSource(clientId: string, sourceId: string): Promise<FundingSource | undefined> {
  const k = paymentKeys.fundingSource(clientId, sourceId);
  const item = (await batchGet([k])).get(keyId(k));
  return item ? toFundingSource(item) : undefined;
}

const currencyAttr = (prefix: string, currency: string) => {
  if (!/^[A-Z0-9]{3,5}$/.test(currency)) throw new Error(`client-state: bad currency ${currency}`);
  return `${prefix}${currency}`;
};

/** Money came in from a source (a completed deposit): creates the source on first use. */
export function fundingSourceDeposit(
  s: Omit<FundingSource, 'deposited' | 'returned' | 'firstUsedAt' | 'lastUsedAt'>,
  amount: { minor: bigint; currency: string },
  at: string,
): CommitWrite {
  return {
    Update: {
      Key: paymentKeys.fundingSource(s.clientId, s.sourceId),
      UpdateExpression:
        'SET #type = :type, clientId = :c, sourceId = :s, methodId = :m, methodKind = :mk, provider = :p, account = :a, display = :d, firstUsedAt = if_not_exists(firstUsedAt, :at), lastUsedAt = :at ADD #amt :n',
      ExpressionAttributeNames: { '#type': 'type', '#amt': currencyAttr(DEP, amount.currency) },
      ExpressionAttributeValues: {
        ':type': paymentKeys.fundingSourceType,
        ':c': s.clientId,
        ':s': s.sourceId,
        ':m': s.methodId,
        ':mk': s.methodKind,
        ':p': s.provider,
        ':a': s.account,
        ':d': s.display,
        ':at': at,
        ':n': amount.minor,
      },
    },
  };
}

/** Money went back to a source (refund, chargeback, completed withdrawal). The source must exist. */
export function fundingSourceReturn(
  clientId: string,
  sourceId: string,
  amount: { minor: bigint; currency: string },
): CommitWrite {
  return {
    Update: {
      Key: paymentKeys.fundingSource(clientId, sourceId),
      UpdateExpression: 'ADD #amt :n',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#amt': currencyAttr(RET, amount.currency) },
      ExpressionAttributeValues: { ':n': amount.minor },
    },
    conditionFailedError: new DomainError('funding_source_not_found', 'unprocessable', 'No such funding source'),
  };
}

/**
 * The completed deposit's changes to the payment state: claims the first deposit when `first` (conditioned,
 * see the module invariants), and adds to the pre-verification total when `preVerification` is given.
 * Undefined when there is nothing to change.
 */
export function paymentStateOnDeposit(
  clientId: string,
  change: { first?: { depositId: string; at: string }; preVerification?: { minor: bigint; currency: string } },
): CommitWrite | undefined {
  const sets = ['#type = :type', 'clientId = :c'];
  const names: Record<string, string> = { '#type': 'type' };
  const values: Record<string, unknown> = { ':type': paymentKeys.paymentStateType, ':c': clientId };
  let add = '';
  let condition: string | undefined;
  if (change.first) {
    sets.push('firstDepositId = :fd', 'firstDepositAt = :fat');
    values[':fd'] = change.first.depositId;
    values[':fat'] = change.first.at;
    condition = 'attribute_not_exists(firstDepositId)';
  }
  if (change.preVerification) {
    names['#pv'] = currencyAttr(PV, change.preVerification.currency);
    values[':pv'] = change.preVerification.minor;
    add = ' ADD #pv :pv';
  }
  if (!change.first && !change.preVerification) return undefined;
  return {
    Update: {
      Key: paymentKeys.paymentState(clientId),
      UpdateExpression: `SET ${sets.join(', ')}${add}`,
      ...(condition ? { ConditionExpression: condition } : {}),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
    ...(change.first
      ? { conditionFailedError: new DomainError('first_deposit_taken', 'conflict', 'Another deposit completed first; retry') }
      : {}),
  };
}

/**
 * Reserves `minor` of the pre-verification allowance for a new deposit intent, in the SAME transaction
 * that creates the deposit: the counter grows only while it is at most `cap` (= limit - minor) before the
 * change, so concurrent intents can never take the total above the limit; a failed condition is
 * pre_verification_limit_exceeded (422). The reservation stays counted when the deposit completes and
 * is released (releasePreVerification) when it fails or expires.
 */
export function reservePreVerification(clientId: string, r: { minor: bigint; currency: string; cap: bigint }): CommitWrite {
  return {
    Update: {
      Key: paymentKeys.paymentState(clientId),
      UpdateExpression: 'SET #type = :type, clientId = :c ADD #pv :n',
      ConditionExpression: 'attribute_not_exists(#pv) OR #pv <= :cap',
      ExpressionAttributeNames: { '#type': 'type', '#pv': currencyAttr(PV, r.currency) },
      ExpressionAttributeValues: { ':type': paymentKeys.paymentStateType, ':c': clientId, ':n': r.minor, ':cap': r.cap },
    },
    conditionFailedError: new DomainError(
      'pre_verification_limit_exceeded',
      'unprocessable',
      'This deposit would exceed what may be deposited before verification',
      [{ field: 'amount', code: 'pre_verification_limit_exceeded', message: 'exceeds the pre-verification limit' }],
    ),
  };
}

/** Gives back a reservation of a deposit that failed or expired (the counter exists: the reservation made it). */
export function releasePreVerification(clientId: string, r: { minor: bigint; currency: string }): CommitWrite {
  return {
    Update: {
      Key: paymentKeys.paymentState(clientId),
      UpdateExpression: 'ADD #pv :n',
      ConditionExpression: 'attribute_exists(#pv)',
      ExpressionAttributeNames: { '#pv': currencyAttr(PV, r.currency) },
      ExpressionAttributeValues: { ':n': -r.minor },
    },
  };
}

/** Freezes the client's withdrawals (a chargeback), naming why and the compliance case. */
export function freezeWithdrawals(clientId: string, frozen: { reason: string; caseId?: string; at: string }): CommitWrite {
  return {
    Update: {
      Key: paymentKeys.paymentState(clientId),
      UpdateExpression: 'SET #type = :type, clientId = :c, withdrawalsFrozen = :f',
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: { ':type': paymentKeys.paymentStateType, ':c': clientId, ':f': frozen },
    },
  };
}

/** Lifts a withdrawal freeze (compliance closing the case), only while it still names `freezerCaseId`. */
export function unfreezeWithdrawals(clientId: string, freezerCaseId: string): CommitWrite {
  return {
    Update: {
      Key: paymentKeys.paymentState(clientId),
      UpdateExpression: 'REMOVE withdrawalsFrozen',
      ConditionExpression: 'withdrawalsFrozen.caseId = :case',
      ExpressionAttributeValues: { ':case': freezerCaseId },
    },
  };
}
