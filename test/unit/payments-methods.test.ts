/**
 * Which methods a client sees, in what order (domain/payments/methods.ts, regions.ts), on the demo
 * tenant and on small purpose-built tenants: region filtering (jurisdiction and country keys,
 * exclusions, restricted and unknown countries), display order precedence (country > jurisdiction >
 * default > unordered, ties in file order), direction/currency filters, labels, processing times,
 * and the region refusal code.
 */
import { describe, expect, it } from 'vitest';
import {
  assertOfferedIn,
  assertPaymentAllowed,
  displayOrderIn,
  findMethod,
  labelFor,
  methodsFor,
  offeredIn,
  processingTimeView,
  resolveRegion,
  servedJurisdiction,
  UNORDERED,
} from '#domain/payments/index.ts';
import { parseTenantConfig } from '#domain/tenant/config.ts';
import demo from '../../infra/tenants/demo.json' with { type: 'json' };

const cfg = parseTenantConfig(demo);
const ids = (country: string, q: { direction?: 'deposit' | 'withdrawal'; currency?: string } = {}) =>
  methodsFor(cfg, { country, ...q }).map((o) => o.method.id);
const thrown = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e as { code: string; kind: string; meta: Record<string, unknown>; errors: { field: string; code: string }[] };
  }
  throw new Error('expected a throw');
};

describe('methodsFor on the demo tenant', () => {
  it('a German client sees SEPA first, then card, e-wallet and SWIFT (EU order), no crypto', () => {
    expect(ids('DE')).toEqual(['sepa-wire', 'card', 'skrill', 'swift-wire']);
    expect(methodsFor(cfg, { country: 'DE' }).map((o) => o.displayOrder)).toEqual([1, 2, 3, 4]);
  });

  it("a country's own order beats its jurisdiction's: the card moves to the end in NL", () => {
    expect(ids('NL')).toEqual(['sepa-wire', 'skrill', 'swift-wire', 'card']);
    expect(methodsFor(cfg, { country: 'NL' }).find((o) => o.method.id === 'card')?.displayOrder).toBe(5);
  });

  it('an Australian client sees no EU-only or ROW-only method; the default order applies', () => {
    expect(ids('AU')).toEqual(['card', 'swift-wire']);
    expect(ids('GB')).toEqual(['card', 'swift-wire']);
  });

  it('rest of world gets crypto; an excluded country loses the card', () => {
    expect(ids('ZA')).toEqual(['card', 'skrill', 'usdt-trc20', 'swift-wire']);
    expect(ids('NG')).toEqual(['skrill', 'usdt-trc20', 'swift-wire']);
  });

  it('restricted and unserved countries see nothing', () => {
    expect(ids('US')).toEqual([]);
    expect(ids('KP')).toEqual([]);
    expect(ids('JP')).toEqual([]);
    expect(ids('')).toEqual([]);
  });

  it('the country code is case- and space-insensitive', () => {
    expect(ids(' de ')).toEqual(ids('DE'));
  });

  it('filters by currency and direction', () => {
    expect(ids('DE', { currency: 'USD' })).toEqual(['card', 'skrill', 'swift-wire']);
    expect(ids('DE', { currency: 'USDT' })).toEqual([]);
    expect(ids('ZA', { currency: 'USDT', direction: 'withdrawal' })).toEqual(['usdt-trc20']);
    expect(ids('DE', { currency: 'JPY' })).toEqual([]);
  });
});

const small = (methods: Record<string, unknown>[]) =>
  parseTenantConfig({
    tenant: 'acme',
    production: false,
    brand: { name: 'Acme FX', supportEmail: 'support@acme.test' },
    baseCurrency: 'USD',
    currencies: ['USD'],
    jurisdictions: [
      { code: 'EU', regulator: 'CySEC', countries: ['DE', 'FR'] },
      { code: 'AU', regulator: 'ASIC', countries: ['AU', 'NZ'] },
    ],
    restrictedCountries: ['US'],
    locales: ['en', 'de'],
    defaultLocale: 'en',
    audit: { retentionYears: 7 },
    email: { transport: 'table' },
    payments: {
      methods: methods.map((over) => ({
        kind: 'card',
        label: { en: 'Method', de: 'Methode' },
        provider: 'sandbox',
        directions: ['deposit', 'withdrawal'],
        currencies: ['USD'],
        limits: { USD: { min: '1.00', max: '100.00' } },
        processingTime: { deposit: 'instant', withdrawal: 'instant' },
        regions: ['EU', 'AU'],
        ...over,
      })),
    },
  });

describe('display order precedence and ties', () => {
  it('methods without any order keep the file order, after every ordered method', () => {
    const t = small([{ id: 'a' }, { id: 'b' }, { id: 'c', displayOrder: { default: 7 } }]);
    expect(methodsFor(t, { country: 'DE' }).map((o) => [o.method.id, o.displayOrder])).toEqual([
      ['c', 7],
      ['a', UNORDERED],
      ['b', UNORDERED],
    ]);
  });

  it('country > jurisdiction > default', () => {
    const t = small([{ id: 'a', displayOrder: { default: 1, EU: 5, FR: 9 } }]);
    const a = t.payments.methods[0]!;
    expect(displayOrderIn(t, a, 'FR')).toBe(9);
    expect(displayOrderIn(t, a, 'DE')).toBe(5);
    expect(displayOrderIn(t, a, 'NZ')).toBe(1);
  });

  it('equal orders keep the file order', () => {
    const t = small([
      { id: 'x', displayOrder: { default: 2 } },
      { id: 'y', displayOrder: { default: 1 } },
      { id: 'z', displayOrder: { default: 2 } },
    ]);
    expect(methodsFor(t, { country: 'AU' }).map((o) => o.method.id)).toEqual(['y', 'x', 'z']);
  });
});

describe('region keys', () => {
  it('a key naming a jurisdiction is that jurisdiction, even when it is also a country code', () => {
    const t = small([{ id: 'a', regions: ['AU'] }]);
    expect(resolveRegion(t, 'AU')).toMatchObject({ kind: 'jurisdiction', countries: ['AU', 'NZ'] });
    expect(offeredIn(t, t.payments.methods[0]!, 'NZ')).toBe(true);
  });

  it('a country key covers that country only; restricted and unknown keys are named', () => {
    const t = small([{ id: 'a', regions: ['FR'] }]);
    expect(methodsFor(t, { country: 'FR' }).map((o) => o.method.id)).toEqual(['a']);
    expect(methodsFor(t, { country: 'DE' })).toEqual([]);
    expect(resolveRegion(t, 'US')).toEqual({ kind: 'restricted', code: 'US' });
    expect(resolveRegion(t, 'JP')).toEqual({ kind: 'unknown', code: 'JP' });
    expect(resolveRegion(t, 'DE')).toEqual({ kind: 'country', code: 'DE', jurisdiction: 'EU' });
    expect(servedJurisdiction(t, 'us')).toBeUndefined();
    expect(servedJurisdiction(t, 'fr')).toBe('EU');
  });

  it('direction filter keeps only methods supporting it', () => {
    const t = small([
      { id: 'in', directions: ['deposit'], processingTime: { deposit: 'instant' } },
      { id: 'out', directions: ['withdrawal'], processingTime: { withdrawal: 'instant' } },
    ]);
    expect(methodsFor(t, { country: 'DE', direction: 'deposit' }).map((o) => o.method.id)).toEqual(['in']);
    expect(methodsFor(t, { country: 'DE', direction: 'withdrawal' }).map((o) => o.method.id)).toEqual(['out']);
  });
});

describe('method_not_offered_in_region', () => {
  const sepa = findMethod(cfg, 'sepa-wire')!;

  it('is thrown for a country outside the regions, a restricted one and an excluded one', () => {
    for (const country of ['AU', 'US', 'JP']) {
      const e = thrown(() => assertOfferedIn(cfg, sepa, country));
      expect(e).toMatchObject({ code: 'method_not_offered_in_region', kind: 'unprocessable' });
      expect(e.meta).toEqual({ methodId: 'sepa-wire', country });
      expect(e.errors[0]).toMatchObject({ field: 'methodId', code: 'method_not_offered_in_region' });
    }
    expect(thrown(() => assertOfferedIn(cfg, findMethod(cfg, 'card')!, 'NG')).code).toBe('method_not_offered_in_region');
    expect(() => assertOfferedIn(cfg, sepa, 'DE')).not.toThrow();
  });

  it('assertPaymentAllowed checks the region before the amount', () => {
    const money = { amount: 1n, currency: 'EUR' };
    expect(thrown(() => assertPaymentAllowed(cfg, sepa, { country: 'AU', direction: 'deposit', money })).code).toBe(
      'method_not_offered_in_region',
    );
    expect(thrown(() => assertPaymentAllowed(cfg, sepa, { country: 'DE', direction: 'deposit', money })).code).toBe(
      'amount_below_minimum',
    );
    expect(() =>
      assertPaymentAllowed(cfg, sepa, { country: 'DE', direction: 'deposit', money: { amount: 5000n, currency: 'EUR' } }),
    ).not.toThrow();
  });
});

describe('labels and processing times in the request locale', () => {
  const sepa = findMethod(cfg, 'sepa-wire')!;

  it('label: exact locale, then primary language, then the tenant default', () => {
    expect(labelFor(sepa, 'de')).toBe('SEPA-Überweisung');
    expect(labelFor(sepa, 'de-AT')).toBe('SEPA-Überweisung');
    expect(labelFor(sepa, 'es')).toBe('Transferencia SEPA');
    expect(labelFor(sepa, 'fr', 'en')).toBe('SEPA bank transfer');
  });

  it('processing time: instant, minutes, hours, days; the maximum never understated', () => {
    const t = (pt: Parameters<typeof processingTimeView>[0], locale = 'en') => processingTimeView(pt, locale).text;
    expect(processingTimeView('instant', 'en')).toEqual({ instant: true, minMinutes: 0, maxMinutes: 0, text: 'Instant' });
    expect(t('instant', 'de')).toBe('Sofort');
    expect(t('instant', 'es')).toBe('Inmediato');
    expect(t({ minMinutes: 0, maxMinutes: 30 })).toBe('Up to 30 minutes');
    expect(t({ minMinutes: 0, maxMinutes: 1 })).toBe('Up to 1 minute');
    expect(t({ minMinutes: 10, maxMinutes: 60 })).toBe('10–60 minutes');
    expect(t({ minMinutes: 0, maxMinutes: 1440 })).toBe('Up to 24 hours');
    expect(t({ minMinutes: 0, maxMinutes: 1440 }, 'de')).toBe('Bis zu 24 Stunden');
    expect(t({ minMinutes: 60, maxMinutes: 150 })).toBe('1–3 hours');
    expect(t({ minMinutes: 1440, maxMinutes: 4320 })).toBe('1–3 days');
    expect(t({ minMinutes: 1440, maxMinutes: 4320 }, 'de')).toBe('1–3 Tage');
    expect(t({ minMinutes: 1440, maxMinutes: 4320 }, 'es')).toBe('1–3 días');
    expect(t({ minMinutes: 2880, maxMinutes: 2880 })).toBe('2 days');
    expect(t({ minMinutes: 2880, maxMinutes: 3000 })).toBe('2–3 days');
    expect(t({ minMinutes: 0, maxMinutes: 0 })).toBe('Instant');
    expect(processingTimeView({ minMinutes: 1440, maxMinutes: 4320 }, 'fr')).toMatchObject({
      instant: false,
      minMinutes: 1440,
      maxMinutes: 4320,
      text: '1–3 days',
    });
  });
});
