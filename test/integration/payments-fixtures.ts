/**
 * Fixtures for the refund / chargeback / back-office tests: a KYC-approved client with a wallet, a
 * completed deposit seeded the way the deposit webhook leaves it (the deposit journal dep_<id>:
 * psp_clearing -gross, wallet +net, fee_income +fee; the deposit item 'completed' with its provider
 * reference item and funding source), balances in decimal strings, and a webhook event marker.
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { formatAmount, toMinor } from '#domain/money/index.ts';
import { ddb } from '#shared/clients.ts';
import { commit, systemActor } from '#store/audit.ts';
import { paymentKeys } from '#store/keys.ts';
import { ensureWallet, getBalance, houseAccount } from '#store/ledger/accounts.ts';
import { postJournal } from '#store/ledger/journals.ts';
import { fundingSourceDeposit, fundingSourceId } from '#store/payments/client-state.ts';
import { depositIdFor, newDeposit, type StoredDeposit } from '#store/payments/deposits.ts';
import { providerRefWrite, webhookMarker } from '#store/payments/webhook-events.ts';
import { seedClient } from '../support/clients.ts';

export const uid = () => randomUUID().slice(0, 8);
const ctx = { actor: systemActor('test'), requestId: 'test' };

export async function countItems(table: string): Promise<number> {
  const res = await ddb().send(new ScanCommand({ TableName: table, Select: 'COUNT', ConsistentRead: true }));
  return res.Count ?? 0;
}

/** A KYC-approved client with a wallet in `currency`. */
export async function paymentClient(currency = 'EUR') {
  const { clientId, claims } = await seedClient({ clientId: `client-${uid()}`, kycStatus: 'approved' });
  await ensureWallet(clientId, currency, ctx);
  return { clientId, claims, walletId: `wal_${clientId}_${currency}` };
}

/** A completed card deposit of `gross` (fee `fee`) into the client's wallet, as the deposit webhook leaves it. */
export async function completedDeposit(
  c: { clientId: string; walletId: string },
  gross: string,
  fee: string,
  currency = 'EUR',
): Promise<StoredDeposit> {
  const depositId = depositIdFor(c.clientId, `seed-${uid()}`);
  const g = toMinor(gross, currency);
  const f = toMinor(fee, currency);
  const net = formatAmount(g - f, currency);
  const [clearing, feeIncome] = await Promise.all([houseAccount('psp_clearing', currency), houseAccount('fee_income', currency)]);
  const journalId = `dep_${depositId}`;
  await postJournal({
    draft: {
      journalId,
      type: 'deposit',
      postings: [
        { accountId: clearing.accountId, amount: -g, currency },
        { accountId: c.walletId, amount: g - f, currency },
        ...(f > 0n ? [{ accountId: feeIncome.accountId, amount: f, currency }] : []),
      ],
      metadata: { psp: { provider: 'sandbox', providerRef: `psp_${depositId}`, kind: 'deposit' }, depositId },
    },
    idempotency: { scope: 'psp-deposit', key: depositId, requestHash: depositId },
    ...ctx,
  });
  const now = new Date().toISOString();
  const providerRef = `psp_${depositId}`;
  const sourceId = fundingSourceId('sandbox', 'card', `card_${c.clientId}`);
  const base = newDeposit(
    {
      depositId,
      clientId: c.clientId,
      walletId: c.walletId,
      methodId: 'card',
      methodKind: 'card',
      provider: 'sandbox',
      gross: { amount: gross, currency },
      fee: { amount: fee, currency },
      net: { amount: net, currency },
      idempotencyKey: `seed-${depositId}`,
      requestHash: 'seed',
      intentExpiresAt: now,
    },
    now,
  );
  const { gsi2pk: _a, gsi2sk: _b, ...rest } = base;
  const deposit: StoredDeposit = {
    ...rest,
    ...paymentKeys.depositStatusIndex('completed', now, depositId),
    status: 'completed',
    timeline: [
      { status: 'created', at: now },
      { status: 'pending', at: now },
      { status: 'completed', at: now },
    ],
    providerRef,
    journalId,
    completedAt: now,
    sourceId,
    sourceDisplay: 'Visa •4242',
  };
  await commit({
    writes: [
      { Put: { Item: deposit as unknown as Record<string, unknown> } },
      providerRefWrite('sandbox', providerRef, { paymentKind: 'deposit', paymentId: depositId }, now),
      fundingSourceDeposit(
        {
          clientId: c.clientId,
          sourceId,
          methodId: 'card',
          methodKind: 'card',
          provider: 'sandbox',
          account: `card_${c.clientId}`,
          display: 'Visa •4242',
        },
        { minor: g, currency },
        now,
      ),
    ],
    audit: {
      ...ctx,
      action: 'payment.deposit.completed',
      entity: { type: 'deposit', id: depositId },
      clientId: c.clientId,
      before: null,
      after: { depositId },
    },
  });
  return deposit;
}

/** Moves money out of the wallet (the client spent it), so less is available. */
export async function spend(walletId: string, amount: string, currency = 'EUR') {
  const house = await houseAccount('house_adjustments', currency);
  await postJournal({
    draft: {
      journalId: `spend_${uid()}`,
      type: 'adjustment',
      postings: [
        { accountId: walletId, amount: -toMinor(amount, currency), currency },
        { accountId: house.accountId, amount: toMinor(amount, currency), currency },
      ],
      metadata: {},
    },
    idempotency: { scope: 'test-spend', key: uid(), requestHash: 'x' },
    ...ctx,
  });
}

/** Ledger, held and available of an account as decimal strings. */
export async function balanceOf(accountId: string, currency = 'EUR') {
  const b = await getBalance(accountId);
  return {
    ledger: formatAmount(b.ledger, currency),
    held: formatAmount(b.held, currency),
    available: formatAmount(b.available, currency),
  };
}

/** A webhook context as the dispatcher builds it. */
export function webhookCtx(event: {
  type: string;
  providerRef: string;
  merchantRef?: string;
  amount: string;
  currency?: string;
  failureCode?: string;
  dispute?: { id: string; reasonCode: string };
  eventId?: string;
}) {
  const eventId = event.eventId ?? `evt_${uid()}`;
  const currency = event.currency ?? 'EUR';
  const receivedAt = new Date().toISOString();
  return {
    provider: 'sandbox',
    event: {
      eventId,
      type: event.type as never,
      providerRef: event.providerRef,
      ...(event.merchantRef ? { merchantRef: event.merchantRef } : {}),
      amount: { amount: toMinor(event.amount, currency), currency },
      occurredAt: receivedAt,
      ...(event.failureCode ? { failureCode: event.failureCode } : {}),
      ...(event.dispute ? { dispute: event.dispute } : {}),
    },
    marker: webhookMarker('sandbox', eventId, { type: event.type, providerRef: event.providerRef, receivedAt }),
    requestId: `req-${uid()}`,
    actor: systemActor('psp-sandbox'),
  };
}
