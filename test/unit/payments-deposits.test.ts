/**
 * Planning a deposit (domain/payments/deposits.ts) with the demo tenant: the fee shown and the net
 * that arrives, the next-action kind and intent expiry per method kind, every refusal code in its
 * order, and the pre-verification gate: an unverified EU client may reserve up to the limit and not
 * one cent more (the cap the store conditions on), in the limit's currency.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAmount, toMinor } from '#domain/money/index.ts';
import {
  countedInLimitCurrency,
  type DepositKycFacts,
  depositFailureReason,
  intentExpiry,
  planDeposit,
} from '#domain/payments/deposits.ts';
import { findMethod } from '#domain/payments/methods.ts';
import { parseTenantConfig } from '#domain/tenant/config.ts';
import demo from '../../infra/tenants/demo.json' with { type: 'json' };
import { thrown } from '../support/errors.ts';

const cfg = parseTenantConfig(demo);
const method = (id: string) => findMethod(cfg, id)!;
const now = new Date('2025-03-01T10:00:00.000Z');
const registeredAt = '2025-02-25T10:00:00.000Z';
const EU_RULE = { limit: { amount: '2000.00', currency: 'EUR' }, maxDays: 15 };
const approved: DepositKycFacts = { approved: true, registeredAt, counted: 0n };
const unverified = (counted: bigint, extra: Partial<DepositKycFacts> = {}): DepositKycFacts => ({
  approved: false,
  registeredAt,
  rule: EU_RULE,
  counted,
  ...extra,
});
const eur = (s: string) => ({ amount: toMinor(s, 'EUR'), currency: 'EUR' });

const plan = (id: string, amount: { amount: bigint; currency: string }, kyc = approved, country = 'DE') =>
  planDeposit({ cfg, method: method(id), country, walletCurrency: amount.currency, amount, kyc, now });

describe('planDeposit', () => {
  it('shows the card fee and the net that reaches the wallet, with a redirect and a 60-minute intent', () => {
    const p = plan('card', eur('100.00'));
    expect(formatAmount(p.quote.fee.amount, 'EUR')).toBe('2.50');
    expect(formatAmount(p.quote.net.amount, 'EUR')).toBe('97.50');
    expect(p.nextActionKind).toBe('redirect');
    expect(p.intentExpiresAt).toBe('2025-03-01T11:00:00.000Z');
    expect(p.preVerification).toBeUndefined();
  });

  it('gives wires bank details and a 168-hour intent, crypto an address', () => {
    const wire = plan('sepa-wire', eur('500.00'));
    expect(wire.nextActionKind).toBe('bank_transfer');
    expect(wire.intentExpiresAt).toBe('2025-03-08T10:00:00.000Z');
    expect(wire.quote.fee.amount).toBe(0n);
    const usdt = plan('usdt-trc20', { amount: toMinor('50.00', 'USDT'), currency: 'USDT' }, approved, 'ZA');
    expect(usdt.nextActionKind).toBe('crypto_address');
    expect(intentExpiry(cfg.payments.deposits, 'e_wallet', now)).toBe('2025-03-01T11:00:00.000Z');
  });

  it('refuses each bad input with its own code, in order', () => {
    const mismatch = thrown(() =>
      planDeposit({
        cfg,
        method: method('card'),
        country: 'DE',
        walletCurrency: 'USD',
        amount: eur('100.00'),
        kyc: approved,
        now,
      }),
    );
    expect(mismatch.code).toBe('currency_mismatch');
    expect(thrown(() => plan('sepa-wire', eur('100.00'), approved, 'AU')).code).toBe('method_not_offered_in_region');
    expect(thrown(() => plan('card', eur('9.99'))).code).toBe('amount_below_minimum');
    expect(thrown(() => plan('card', eur('10000.01'))).code).toBe('amount_above_maximum');
    expect(thrown(() => plan('sepa-wire', { amount: toMinor('100.00', 'USD'), currency: 'USD' })).code).toBe(
      'currency_not_supported_by_method',
    );
  });

  it('refuses an unverified client where the jurisdiction has no allowance, or after its window', () => {
    const noRule = thrown(() => plan('card', eur('100.00'), unverified(0n, { rule: undefined })));
    expect(noRule.code).toBe('kyc_required');
    expect(noRule.kind).toBe('forbidden');
    const late = thrown(() => plan('card', eur('100.00'), unverified(0n, { registeredAt: '2025-02-01T00:00:00.000Z' })));
    expect(late.code).toBe('kyc_required');
    expect(late.meta.reason).toBe('window_expired');
  });

  it('lets an unverified client reserve up to the limit and not one cent more', () => {
    const ok = plan('card', eur('500.00'), unverified(toMinor('1500.00', 'EUR')));
    expect(ok.preVerification).toEqual({ counted: eur('500.00'), limit: eur('2000.00'), cap: toMinor('1500.00', 'EUR') });
    const over = thrown(() => plan('card', eur('500.01'), unverified(toMinor('1500.00', 'EUR'))));
    expect(over.code).toBe('pre_verification_limit_exceeded');
    expect(over.meta.remaining).toEqual({ amount: '500.00', currency: 'EUR' });
  });

  it('allows a pre-verification deposit exactly when counter + amount <= limit, and the cap says the same', () => {
    const limit = toMinor('2000.00', 'EUR');
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: limit + 100n }), fc.bigInt({ min: 1000n, max: 1_000_000n }), (counted, amount) => {
        const fits = counted + amount <= limit;
        let reservation: ReturnType<typeof plan>['preVerification'];
        try {
          reservation = plan('card', { amount, currency: 'EUR' }, unverified(counted)).preVerification;
        } catch {
          reservation = undefined;
        }
        expect(reservation !== undefined).toBe(fits);
        if (reservation) {
          expect(reservation.cap + reservation.counted.amount).toBe(limit);
          expect(counted <= reservation.cap).toBe(true);
        }
      }),
    );
  });

  it('counts a deposit in another currency in the limit currency, and names a missing rate', () => {
    expect(countedInLimitCurrency({ amount: 10_850n, currency: 'USD' }, 'EUR', '0.9216589862')).toEqual(eur('100.00'));
    const usd = { amount: toMinor('100.00', 'USD'), currency: 'USD' };
    const p = planDeposit({
      cfg,
      method: method('card'),
      country: 'DE',
      walletCurrency: 'USD',
      amount: usd,
      kyc: unverified(0n, { rateToLimit: '0.5' }),
      now,
    });
    expect(p.preVerification?.counted).toEqual(eur('50.00'));
    const noRate = thrown(() =>
      planDeposit({ cfg, method: method('card'), country: 'DE', walletCurrency: 'USD', amount: usd, kyc: unverified(0n), now }),
    );
    expect(noRate.code).toBe('fx_rate_unavailable');
  });

  it('keeps fee + net = gross with a positive net for every allowed card amount', () => {
    const min = toMinor('10.00', 'EUR');
    const max = toMinor('10000.00', 'EUR');
    fc.assert(
      fc.property(fc.bigInt({ min, max }), (gross) => {
        const { quote } = plan('card', { amount: gross, currency: 'EUR' });
        expect(quote.fee.amount + quote.net.amount).toBe(gross);
        expect(quote.net.amount > 0n).toBe(true);
        expect(quote.fee.amount >= 0n).toBe(true);
      }),
    );
  });
});

describe('depositFailureReason', () => {
  it('maps provider codes to catalogue reasons, payment_declined by default', () => {
    expect(depositFailureReason('card_declined')).toBe('payment_declined');
    expect(depositFailureReason('expired')).toBe('intent_expired');
    expect(depositFailureReason(undefined)).toBe('payment_declined');
    expect(depositFailureReason('something_new')).toBe('payment_declined');
  });
});
