/** Four-eyes rules for manual adjustments: the threshold (in the base currency), who may decide, once, before expiry. */
import { describe, expect, it } from 'vitest';
import {
  type AdjustmentRequest,
  assertDecidable,
  checkThreshold,
  dailyApprovalRequired,
  decide,
  effectiveStatus,
  expiryOf,
  signedFor,
  thresholdMinor,
  utcDay,
} from '#domain/ledger/adjustments.ts';
import { fxQuote, parseTenantConfig, splitPair } from '#domain/tenant/config.ts';
import demo from '../../infra/tenants/demo.json' with { type: 'json' };

const cfg = parseTenantConfig(demo);

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

describe('tenant ledger and fx config', () => {
  it('defaults the threshold to 10,000.00 in the base currency, and the rest, when a tenant file omits them', () => {
    const { ledger: _l, fx: _f, ...rest } = demo as Record<string, unknown>;
    const bare = parseTenantConfig({ ...rest, baseCurrency: 'EUR' });
    expect(bare.ledger).toEqual({
      adjustmentApprovalThreshold: { amount: '10000.00', currency: 'EUR' },
      houseAccountShards: 8,
      holdTtlHours: 72,
    });
    expect(bare.fx).toEqual({ source: 'static', rates: {}, markupBps: 0 });
  });

  it('re-parses its own output (the config is inlined as JSON)', () => {
    expect(parseTenantConfig(JSON.parse(JSON.stringify(cfg)))).toEqual(cfg);
  });

  it('rejects pairs of unknown currencies and a threshold in a disabled currency', () => {
    expect(() => parseTenantConfig({ ...demo, fx: { ...demo.fx, rates: { EURCHF: '0.95' } } })).toThrow(/fx\.rates\.EURCHF/);
    expect(() =>
      parseTenantConfig({ ...demo, ledger: { ...demo.ledger, adjustmentApprovalThreshold: { amount: '1', currency: 'CHF' } } }),
    ).toThrow(/adjustmentApprovalThreshold/);
  });

  it('splits pairs unambiguously, USDT included', () => {
    expect(splitPair('USDTUSD', cfg.currencies)).toEqual(['USDT', 'USD']);
    expect(splitPair('EUR/USDT', cfg.currencies)).toEqual(['EUR', 'USDT']);
    expect(splitPair('USDUSD', cfg.currencies)).toBeUndefined();
  });

  it('quotes direct, inverse and cross rates, with the markup against the client', () => {
    expect(fxQuote(cfg, 'EUR', 'USD')).toMatchObject({ rate: '1.085', via: 'direct' });
    expect(fxQuote(cfg, 'EUR', 'USD', { markup: true })).toMatchObject({ rate: '1.0822875', midRate: '1.085', markupBps: 25 });
    expect(fxQuote(cfg, 'USD', 'JPY')?.rate).toBe('151.2');
    expect(fxQuote(cfg, 'JPY', 'USD')?.via).toBe('inverse');
    expect(fxQuote(cfg, 'JPY', 'GBP')).toMatchObject({ via: 'cross' });
    expect(fxQuote(cfg, 'USD', 'CHF')).toBeUndefined();
  });
});

describe('checkThreshold', () => {
  it('is inclusive at exactly the threshold in the base currency', () => {
    expect(checkThreshold({ amount: 1_000_000n, currency: 'USD' }, cfg).approvalRequired).toBe(true);
    expect(checkThreshold({ amount: 999_999n, currency: 'USD' }, cfg).approvalRequired).toBe(false);
  });

  it('converts other currencies at the exact mid rate (no markup, no rounding)', () => {
    // 9216.58 EUR * 1.085 = 9999.9893 USD; 9216.59 EUR * 1.085 = 10000.00015 USD
    expect(checkThreshold({ amount: 921_658n, currency: 'EUR' }, cfg)).toMatchObject({ approvalRequired: false });
    expect(checkThreshold({ amount: 921_659n, currency: 'EUR' }, cfg)).toMatchObject({
      approvalRequired: true,
      converted: '10000.00015',
    });
    // JPY: exponent 0; 1,512,000 JPY / 151.2 = exactly 10,000 USD
    expect(checkThreshold({ amount: 1_512_000n, currency: 'JPY' }, cfg).approvalRequired).toBe(true);
    expect(checkThreshold({ amount: 1_511_999n, currency: 'JPY' }, cfg).approvalRequired).toBe(false);
    // USDT: exponent 6
    expect(checkThreshold({ amount: 10_005_002_502n, currency: 'USDT' }, cfg).approvalRequired).toBe(true);
    expect(checkThreshold({ amount: 10_005_002_500n, currency: 'USDT' }, cfg).approvalRequired).toBe(false);
  });

  it('requires approval when the amount cannot be converted (fail safe)', () => {
    const noRates = { ...cfg, fx: { ...cfg.fx, rates: {} } };
    expect(checkThreshold({ amount: 1n, currency: 'EUR' }, noRates).approvalRequired).toBe(true);
  });
});

describe('deciding a request', () => {
  const at = '2025-03-01T10:00:00.000Z';
  const req: AdjustmentRequest = {
    adjustmentId: 'a1',
    walletId: 'w1',
    clientId: 'c1',
    direction: 'credit',
    amount: { amount: '20000.00', currency: 'USD' },
    reason: 'Goodwill credit after outage',
    requestedBy: 'finance-1',
    requestedAt: at,
    expiresAt: expiryOf(at),
    status: 'pending_approval',
  };
  const soon = new Date('2025-03-01T11:00:00.000Z');

  it('the requester cannot approve their own request (four eyes)', () => {
    expect(codeOf(() => assertDecidable(req, 'finance-1', soon))).toBe('four_eyes_required');
    expect(codeOf(() => assertDecidable(req, 'finance-2', soon))).toBeUndefined();
  });

  it('is decided once', () => {
    const approved = decide(req, { decision: 'approve', by: 'finance-2', at: soon.toISOString(), journalId: 'j1' });
    expect(approved).toMatchObject({ status: 'posted', decidedBy: 'finance-2', journalId: 'j1' });
    expect(codeOf(() => assertDecidable(approved, 'finance-3', soon))).toBe('already_decided');
    const rejected = decide(req, { decision: 'reject', by: 'finance-2', at: soon.toISOString(), note: 'no' });
    expect(rejected).toMatchObject({ status: 'rejected', note: 'no' });
    expect(rejected.journalId).toBeUndefined();
    expect(codeOf(() => assertDecidable(rejected, 'finance-3', soon))).toBe('already_decided');
  });

  it('expires: a pending request past its expiry reads expired and cannot be decided', () => {
    const late = new Date(Date.parse(req.expiresAt));
    expect(effectiveStatus(req, soon)).toBe('pending_approval');
    expect(effectiveStatus(req, late)).toBe('expired');
    expect(codeOf(() => assertDecidable(req, 'finance-2', late))).toBe('adjustment_expired');
  });

  it('an approval needs its journal; debits are negative', () => {
    expect(() => decide(req, { decision: 'approve', by: 'x', at })).toThrow();
    expect(signedFor('debit', 5n)).toBe(-5n);
    expect(signedFor('credit', 5n)).toBe(5n);
  });
});

describe('the daily total against splitting', () => {
  it('converts to minor units of the threshold currency, rounding the amount up and the threshold down', () => {
    expect(thresholdMinor({ amount: 400_000n, currency: 'USD' }, cfg)).toEqual({ amount: 400_000n, limit: 1_000_000n });
    // 9,216.58 EUR at 1.0850 = 9,999.9893 USD -> 999,999 cents (rounded up)
    expect(thresholdMinor({ amount: 921_658n, currency: 'EUR' }, cfg)).toEqual({ amount: 999_999n, limit: 1_000_000n });
    expect(thresholdMinor({ amount: -400_000n, currency: 'USD' }, cfg)?.amount).toBe(400_000n);
    expect(thresholdMinor({ amount: 1n, currency: 'XXX' }, cfg)).toBeUndefined();
  });

  it('needs approval once the day total plus the amount reaches the threshold', () => {
    expect(dailyApprovalRequired(0n, 400_000n, 1_000_000n)).toBe(false);
    expect(dailyApprovalRequired(400_000n, 400_000n, 1_000_000n)).toBe(false);
    expect(dailyApprovalRequired(800_000n, 400_000n, 1_000_000n)).toBe(true);
    expect(dailyApprovalRequired(600_000n, 400_000n, 1_000_000n)).toBe(true);
    expect(dailyApprovalRequired(599_999n, 400_000n, 1_000_000n)).toBe(false);
    expect(utcDay('2025-03-01T23:59:59.999Z')).toBe('2025-03-01');
    expect(utcDay('2025-03-02T00:00:00.000Z')).toBe('2025-03-02');
  });
});
