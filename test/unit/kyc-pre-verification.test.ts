import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from '#domain/errors.ts';
import { assertDepositAllowed, type PreVerificationInput, preVerificationAllowance } from '#domain/kyc/pre-verification.ts';
import { thrown } from '../support/errors.ts';

const REGISTERED = '2025-06-01T09:30:00.000Z';
const RULE = { limit: { amount: '2000.00', currency: 'EUR' }, maxDays: 15 };
const at = (iso: string) => new Date(iso);
const eur = (amount: string) => ({ amount, currency: 'EUR' });

const allowance = (over: Partial<PreVerificationInput> = {}) =>
  preVerificationAllowance({
    now: at('2025-06-05T00:00:00Z'),
    registeredAt: REGISTERED,
    kycApproved: false,
    rule: RULE,
    depositedBeforeVerification: eur('0'),
    ...over,
  });

describe('preVerificationAllowance', () => {
  it('an approved client is not limited', () => {
    const a = allowance({ kycApproved: true, depositedBeforeVerification: eur('5000.00') });
    expect(a).toEqual({ allowed: true, remaining: null });
    expect(() => assertDepositAllowed(a, { amount: '1000000.00', currency: 'USD' })).not.toThrow();
  });

  it('without a rule for the jurisdiction, an unverified client must complete KYC first', () => {
    const a = allowance({ rule: undefined });
    expect(a).toEqual({ allowed: false, remaining: { amount: '0.00', currency: 'EUR' }, reason: 'kyc_required' });
    const e = thrown(() => assertDepositAllowed(a, eur('10.00')));
    expect(e).toMatchObject({ code: 'kyc_required', kind: 'forbidden', meta: { reason: 'kyc_required' } });
  });

  it('within the window: the rest of the limit, exact to the cent', () => {
    expect(allowance({ depositedBeforeVerification: eur('1500.01') })).toEqual({
      allowed: true,
      remaining: eur('499.99'),
      until: '2025-06-16T09:30:00.000Z',
    });
  });

  it('at exactly the limit: limit_reached, nothing remains; one cent below: one cent remains', () => {
    expect(allowance({ depositedBeforeVerification: eur('2000.00') })).toMatchObject({
      allowed: false,
      remaining: eur('0.00'),
      reason: 'limit_reached',
    });
    expect(allowance({ depositedBeforeVerification: eur('2000') })).toMatchObject({ reason: 'limit_reached' });
    expect(allowance({ depositedBeforeVerification: eur('2150.00') })).toMatchObject({
      remaining: eur('0.00'),
      reason: 'limit_reached',
    });
    expect(allowance({ depositedBeforeVerification: eur('1999.99') })).toMatchObject({ allowed: true, remaining: eur('0.01') });
  });

  it('the window closes exactly maxDays x 24 h after registration', () => {
    const lastMoment = allowance({ now: at('2025-06-16T09:29:59.999Z') });
    expect(lastMoment).toMatchObject({ allowed: true, remaining: eur('2000.00'), until: '2025-06-16T09:30:00.000Z' });
    const closed = allowance({ now: at('2025-06-16T09:30:00.000Z') });
    expect(closed).toEqual({
      allowed: false,
      remaining: eur('0.00'),
      until: '2025-06-16T09:30:00.000Z',
      reason: 'window_expired',
    });
    const e = thrown(() => assertDepositAllowed(closed, eur('1.00')));
    expect(e).toMatchObject({ code: 'kyc_required', kind: 'forbidden', meta: { reason: 'window_expired' } });
  });

  it('a window that closed wins over a reached limit', () => {
    expect(allowance({ now: at('2025-07-01T00:00:00Z'), depositedBeforeVerification: eur('2000.00') }).reason).toBe(
      'window_expired',
    );
  });

  it('deposits counted in another currency than the limit are refused', () => {
    expect(thrown(() => allowance({ depositedBeforeVerification: { amount: '1.00', currency: 'USD' } })).code).toBe(
      'currency_mismatch',
    );
  });
});

describe('assertDepositAllowed', () => {
  const a = allowance({ depositedBeforeVerification: eur('1500.00') });

  it('accepts exactly what remains and refuses one cent more, with the remainder in meta', () => {
    expect(() => assertDepositAllowed(a, eur('500.00'))).not.toThrow();
    expect(() => assertDepositAllowed(a, eur('500'))).not.toThrow();
    const e = thrown(() => assertDepositAllowed(a, eur('500.01')));
    expect(e).toMatchObject({
      code: 'pre_verification_limit_exceeded',
      kind: 'unprocessable',
      meta: { remaining: eur('500.00') },
    });
    expect(e.errors[0]).toMatchObject({ field: 'amount', code: 'pre_verification_limit_exceeded' });
  });

  it('refuses any deposit once the limit is reached', () => {
    const full = allowance({ depositedBeforeVerification: eur('2000.00') });
    const e = thrown(() => assertDepositAllowed(full, eur('0.01')));
    expect(e).toMatchObject({ code: 'pre_verification_limit_exceeded', meta: { remaining: eur('0.00') } });
  });

  it('refuses an amount in another currency and a non-positive amount', () => {
    expect(thrown(() => assertDepositAllowed(a, { amount: '1.00', currency: 'USD' })).code).toBe('currency_mismatch');
    expect(thrown(() => assertDepositAllowed(a, eur('0.00'))).code).toBe('amount_not_positive');
  });

  it('property: exact bigint arithmetic - a deposit is allowed iff deposited + amount <= limit', () => {
    const cents = (n: number) => `${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 250_000 }), fc.integer({ min: 1, max: 250_000 }), (deposited, amount) => {
        const al = allowance({ depositedBeforeVerification: eur(cents(deposited)) });
        let ok = true;
        try {
          assertDepositAllowed(al, eur(cents(amount)));
        } catch (e) {
          expect(e).toBeInstanceOf(DomainError);
          ok = false;
        }
        expect(ok).toBe(deposited + amount <= 200_000);
      }),
    );
  });
});
