/**
 * Trading account types as tenant data (domain/trading/account-types.ts): which types a client is offered, the
 * leverage check that names the cap, the per-type amounts, and the tenant-file checks that refuse a type naming a
 * platform, currency or jurisdiction the tenant does not have.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDomainError } from '#domain/errors.ts';
import { ESMA_RETAIL_LEVERAGE, INSTRUMENT_CLASSES, type InstrumentClass } from '#domain/onboarding/catalog.ts';
import {
  type AccountType,
  AccountTypeSchema,
  accountLeverageCap,
  accountTypeFor,
  checkLeverage,
  groupFor,
  leverageChoices,
  offeredAccountTypes,
  TradingConfigSchema,
  typeAmount,
} from '#domain/trading/account-types.ts';
import { configProblems, MINIMAL_TENANT } from '../support/tenant.ts';

const type = (over: Record<string, unknown> = {}): AccountType =>
  AccountTypeSchema.parse({
    id: 'standard',
    label: { en: 'Standard' },
    platform: 'mt5',
    kinds: ['live', 'demo'],
    groups: { live: 'real\\standard-{currency}', demo: 'demo\\standard-{currency}' },
    currencies: ['USD', 'EUR'],
    leverageOptions: [1, 10, 30, 100, 500],
    jurisdictions: ['EU', 'ROW'],
    minFirstDeposit: { USD: '100.00' },
    demoStartingBalance: { USD: '10000.00' },
    ...over,
  });

const config = TradingConfigSchema.parse({
  platforms: ['mt5'],
  accountTypes: [
    type(),
    type({ id: 'pro-only', clientTypes: ['professional'] }),
    type({ id: 'live-only', kinds: ['live'], groups: { live: 'real\\x-{currency}' }, demoStartingBalance: {} }),
    type({ id: 'ctrader', platform: 'ctrader' }),
  ],
});

const retailEu = { jurisdiction: 'EU', clientType: 'retail' as const };
const professionalCaps = Object.fromEntries(INSTRUMENT_CLASSES.map((c) => [c, 500])) as Record<InstrumentClass, number>;

describe('offered account types', () => {
  it('follow the platform, jurisdiction, client type and kind, in file order', () => {
    expect(offeredAccountTypes(config, retailEu).map((t) => t.id)).toEqual(['standard', 'live-only']);
    expect(offeredAccountTypes(config, retailEu, 'demo').map((t) => t.id)).toEqual(['standard']);
    expect(offeredAccountTypes(config, { jurisdiction: 'EU', clientType: 'professional' }).map((t) => t.id)).toEqual([
      'standard',
      'pro-only',
      'live-only',
    ]);
    expect(offeredAccountTypes(config, { jurisdiction: 'UK', clientType: 'retail' })).toEqual([]);
  });

  it('an unknown type, one not offered to the client and one without the kind are alike: 404 account_type_not_found', () => {
    for (const [id, kind] of [
      ['nope', 'live'],
      ['pro-only', 'live'],
      ['live-only', 'demo'],
      ['ctrader', 'live'],
    ] as const) {
      expect(() => accountTypeFor(config, retailEu, id, kind)).toThrow(
        expect.objectContaining({ code: 'account_type_not_found', kind: 'not_found' }),
      );
    }
    expect(accountTypeFor(config, retailEu, 'standard', 'demo').id).toBe('standard');
  });
});

describe('leverage', () => {
  it('the account cap is the highest class cap: 30 for ESMA retail', () => {
    expect(accountLeverageCap(ESMA_RETAIL_LEVERAGE)).toBe(30);
    expect(accountLeverageCap(professionalCaps)).toBe(500);
  });

  it('above the cap is 422 leverage_above_cap naming the cap; an option not offered is leverage_not_offered', () => {
    const t = type();
    try {
      checkLeverage(t, 100, ESMA_RETAIL_LEVERAGE);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({
        code: 'leverage_above_cap',
        kind: 'unprocessable',
        meta: { cap: 30 },
        errors: [{ field: 'leverage', code: 'leverage_above_cap' }],
      });
      expect((err as Error).message).toContain('1:30');
    }
    expect(() => checkLeverage(t, 50, professionalCaps)).toThrow(expect.objectContaining({ code: 'leverage_not_offered' }));
    expect(checkLeverage(t, 30, ESMA_RETAIL_LEVERAGE)).toBe(30);
    expect(checkLeverage(t, 500, professionalCaps)).toBe(500);
    expect(leverageChoices(t, ESMA_RETAIL_LEVERAGE)).toEqual([1, 10, 30]);
  });

  it('accepts exactly the offered options within the cap, and refuses everything else with one of the two codes', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.record(Object.fromEntries(INSTRUMENT_CLASSES.map((c) => [c, fc.integer({ min: 1, max: 1000 })]))),
        (options, requested, caps) => {
          const t = type({ leverageOptions: [...options].sort((a, b) => a - b) });
          const c = caps as Record<InstrumentClass, number>;
          const ok = options.includes(requested) && requested <= Math.max(...Object.values(c));
          try {
            expect(checkLeverage(t, requested, c)).toBe(requested);
            expect(ok).toBe(true);
          } catch (err) {
            if (!isDomainError(err)) throw err;
            expect(ok).toBe(false);
            expect(['leverage_not_offered', 'leverage_above_cap']).toContain(err.code);
          }
          expect(leverageChoices(t, c).every((l) => checkLeverage(t, l, c) === l)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('amounts', () => {
  it('are read as minor units of their currency; a currency without one is undefined', () => {
    const t = type({ currencies: ['USD', 'JPY'], minFirstDeposit: { USD: '100.00', JPY: '15000' } });
    expect(typeAmount(t, 'minFirstDeposit', 'USD')).toBe(10_000n);
    expect(typeAmount(t, 'minFirstDeposit', 'JPY')).toBe(15_000n);
    expect(typeAmount(t, 'commissionPerLot', 'USD')).toBeUndefined();
  });
});

describe('the schema refuses', () => {
  const issues = (over: Record<string, unknown>) =>
    (AccountTypeSchema.safeParse({ ...type(), ...over }).error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);

  it('a kind without its group, amounts in other currencies or not valid for the currency, unsorted leverage', () => {
    expect(issues({ groups: { live: 'real\\x-{currency}' } })).toEqual(['groups.demo: a demo account needs a group']);
    expect(issues({ groups: { live: 'real\\x', demo: 'demo\\x-{currency}' } })).toEqual([
      'groups.live: a type in several currencies needs {currency} in its group (one deposit currency per group)',
    ]);
    expect(groupFor(type(), 'demo', 'EUR')).toBe('demo\\standard-eur');
    expect(issues({ minFirstDeposit: { GBP: '1.00' } })).toEqual([
      'minFirstDeposit.GBP: currency must be one of the type currencies',
    ]);
    expect(issues({ minFirstDeposit: { USD: '1.001' } })).toEqual(['minFirstDeposit.USD: not a valid USD amount']);
    expect(issues({ leverageOptions: [30, 10] })).toEqual(['leverageOptions: leverageOptions must be ascending without repeats']);
    expect(issues({ kinds: ['live'], groups: { live: 'x-{currency}' }, demoStartingBalance: { USD: '1.00' } })).toEqual([
      'demoStartingBalance: only a type with demo accounts starts a balance',
    ]);
  });

  it('in a tenant file: a platform the tenant does not offer, a disabled currency, an unknown jurisdiction', () => {
    const tenant = MINIMAL_TENANT;
    expect(
      configProblems({ ...tenant, trading: { platforms: ['mt5'], accountTypes: [type({ jurisdictions: ['EU'] })] } }),
    ).toEqual(['trading.accountTypes.0.currencies.1: currency must be enabled']);
    expect(
      configProblems({
        ...tenant,
        trading: {
          platforms: ['ctrader'],
          accountTypes: [type({ currencies: ['USD'], minFirstDeposit: {}, demoStartingBalance: {} })],
        },
      }),
    ).toEqual([
      'trading.accountTypes.0.platform: platform must be one of trading.platforms',
      'trading.accountTypes.0.jurisdictions.1: unknown jurisdiction',
    ]);
    // MetaTrader 4 is a known platform without an adapter: a tenant cannot offer it
    expect(
      configProblems({
        ...tenant,
        trading: {
          platforms: ['mt4'],
          accountTypes: [type({ platform: 'mt4', currencies: ['USD'], minFirstDeposit: {}, demoStartingBalance: {} })],
        },
      }),
    ).toEqual([
      'trading.platforms.0: no adapter for mt4 in this build (adapted: mt5, ctrader, dxtrade, match_trader)',
      'trading.accountTypes.0.jurisdictions.1: unknown jurisdiction',
    ]);
  });
});
