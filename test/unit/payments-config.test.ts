/**
 * The tenant's `payments` section (domain/tenant/config.ts): a bad method names the exact field and
 * why; the demo tenant's methods are valid; defaults are applied.
 */
import { describe, expect, it } from 'vitest';
import { parseTenantConfig } from '#domain/tenant/config.ts';
import demo from '../../infra/tenants/demo.json' with { type: 'json' };
import { configProblems } from '../support/tenant.ts';

const base = {
  tenant: 'acme',
  production: false,
  brand: { name: 'Acme FX', supportEmail: 'support@acme.test' },
  baseCurrency: 'USD',
  currencies: ['USD', 'EUR', 'JPY', 'USDT'],
  jurisdictions: [
    { code: 'EU', regulator: 'CySEC', countries: ['DE', 'FR'] },
    { code: 'AU', regulator: 'ASIC', countries: ['AU'] },
    { code: 'ROW', regulator: 'FSA-SC', countries: ['ZA', 'BR'] },
  ],
  restrictedCountries: ['US'],
  locales: ['en', 'de'],
  defaultLocale: 'en',
  audit: { retentionYears: 7 },
  email: { transport: 'table' },
};

const method = (over: Record<string, unknown> = {}) => ({
  id: 'card',
  kind: 'card',
  label: { en: 'Card', de: 'Karte' },
  provider: 'sandbox',
  directions: ['deposit', 'withdrawal'],
  currencies: ['USD', 'EUR'],
  limits: { USD: { min: '10.00', max: '1000.00' }, EUR: { min: '10.00', max: '1000.00' } },
  fees: { deposit: { percentBps: 250 } },
  processingTime: { deposit: 'instant', withdrawal: { minMinutes: 1440, maxMinutes: 4320 } },
  regions: ['EU', 'ROW'],
  ...over,
});

const tenant = (...methods: unknown[]) => ({ ...base, payments: { methods } });

const problems = configProblems;

const expectProblem = (input: unknown, path: string, message: RegExp) => {
  const lines = problems(input);
  expect(
    lines.some((l) => l.startsWith(`${path}:`) && message.test(l)),
    `expected "${path}: ${message}" in\n${lines.join('\n')}`,
  ).toBe(true);
};

const at = (field: string) => `payments.methods.0.${field}`;

describe('a valid payments section parses with defaults', () => {
  it('the demo tenant has SEPA, SWIFT, card, e-wallet and crypto methods', () => {
    const cfg = parseTenantConfig(demo);
    expect(cfg.payments.methods.map((m) => [m.id, m.kind])).toEqual([
      ['sepa-wire', 'bank_wire'],
      ['card', 'card'],
      ['skrill', 'e_wallet'],
      ['usdt-trc20', 'crypto'],
      ['swift-wire', 'bank_wire'],
    ]);
  });

  it('a tenant without payments has no methods; a method gets empty fee maps, no exclusions, no order', () => {
    const payments = parseTenantConfig(base).payments;
    expect(payments.methods).toEqual([]);
    expect(payments.deposits).toEqual({ intentTtlMinutes: 60, wireIntentTtlHours: 168 });
    expect(payments.withdrawals).toMatchObject({
      autoApproveMax: {},
      largeAmount: {},
      reviewTimeoutDays: 14,
      payoutTimeoutHours: 72,
    });
    const m = parseTenantConfig(tenant(method())).payments.methods[0]!;
    expect(m.fees.deposit).toEqual({ fixed: {}, percentBps: 250, minimum: {}, maximum: {} });
    expect(m.fees.withdrawal).toBeUndefined();
    expect(m.excludedCountries).toEqual([]);
    expect(m.displayOrder).toEqual({});
  });
});

describe('every bad field is named', () => {
  it('id must be kebab-case and unique', () => {
    expectProblem(tenant(method({ id: 'Card_1' })), at('id'), /kebab-case/);
    expectProblem(tenant(method(), method()), 'payments.methods.1.id', /duplicate payment method id "card"/);
  });

  it('kind, provider and directions are from their vocabularies', () => {
    expectProblem(tenant(method({ kind: 'cheque' })), at('kind'), /.+/);
    expectProblem(tenant(method({ provider: 'Stripe!' })), at('provider'), /provider id/);
    expectProblem(tenant(method({ directions: ['deposit', 'refund'] })), at('directions.1'), /.+/);
    expectProblem(tenant(method({ directions: ['deposit', 'deposit'] })), at('directions'), /must not repeat/);
    expectProblem(tenant(method({ directions: [] })), at('directions'), /.+/);
  });

  it('a label for every tenant locale, and only tenant locales', () => {
    expectProblem(tenant(method({ label: { en: 'Card' } })), at('label.de'), /missing label for tenant locale de/);
    expectProblem(tenant(method({ label: { en: 'Card', de: 'Karte', es: 'Tarjeta' } })), at('label.es'), /not a tenant locale/);
  });

  it('currencies must be known and enabled, each with limits', () => {
    expectProblem(
      tenant(method({ currencies: ['USD', 'GBP'], limits: { USD: { min: '1', max: '2' }, GBP: { min: '1', max: '2' } } })),
      at('currencies.1'),
      /GBP is not an enabled tenant currency/,
    );
    expectProblem(tenant(method({ currencies: ['USD', 'XYZ'] })), at('currencies.1'), /unknown currency XYZ/);
    expectProblem(
      tenant(method({ limits: { USD: { min: '10.00', max: '1000.00' } } })),
      at('limits.EUR'),
      /missing limits for EUR/,
    );
  });

  it('limits: only method currencies, at most the currency decimals, min > 0, min <= max', () => {
    const limits = (l: Record<string, unknown>) => method({ currencies: ['USD'], limits: l });
    expectProblem(
      tenant(limits({ USD: { min: '1', max: '2' }, JPY: { min: '1', max: '2' } })),
      at('limits.JPY'),
      /not one of the method's currencies/,
    );
    expectProblem(
      tenant(limits({ USD: { min: '10.001', max: '20.00' } })),
      at('limits.USD.min'),
      /At most 2 decimal places for USD/,
    );
    expectProblem(tenant(limits({ USD: { min: '0.00', max: '20.00' } })), at('limits.USD.min'), /greater than zero/);
    expectProblem(tenant(limits({ USD: { min: '30.00', max: '20.00' } })), at('limits.USD.max'), /max must not be below min/);
    expectProblem(tenant(limits({ USD: { min: '1e3', max: '20.00' } })), at('limits.USD.min'), /decimal string/);
    const jpy = method({ currencies: ['JPY'], limits: { JPY: { min: '1000.5', max: '20000' } }, fees: {} });
    expectProblem(tenant(jpy), at('limits.JPY.min'), /At most 0 decimal places for JPY/);
  });

  it('fees: only for supported directions and method currencies, valid decimals, minimum <= maximum', () => {
    const depositOnly = { directions: ['deposit'], processingTime: { deposit: 'instant' } };
    expectProblem(
      tenant(method({ ...depositOnly, fees: { withdrawal: { percentBps: 10 } } })),
      at('fees.withdrawal'),
      /does not support withdrawals/,
    );
    expectProblem(
      tenant(method({ fees: { deposit: { fixed: { JPY: '1' } } } })),
      at('fees.deposit.fixed.JPY'),
      /not one of the method's currencies/,
    );
    expectProblem(
      tenant(method({ fees: { deposit: { fixed: { USD: '0.005' } } } })),
      at('fees.deposit.fixed.USD'),
      /At most 2 decimal/,
    );
    expectProblem(
      tenant(method({ fees: { deposit: { minimum: { USD: '5.00' }, maximum: { USD: '1.00' } } } })),
      at('fees.deposit.maximum.USD'),
      /maximum fee must not be below minimum fee/,
    );
    expectProblem(tenant(method({ fees: { deposit: { percentBps: 10_001 } } })), at('fees.deposit.percentBps'), /.+/);
    expectProblem(tenant(method({ fees: { deposit: { percentBps: 2.5 } } })), at('fees.deposit.percentBps'), /.+/);
    expectProblem(tenant(method({ fees: { refund: {} } })), at('fees'), /.+/);
  });

  it('a fee that would swallow the minimum amount is refused', () => {
    expectProblem(
      tenant(method({ fees: { withdrawal: { fixed: { USD: '10.00' } } } })),
      at('fees.withdrawal'),
      /USD fee at the minimum amount 10.00 must be less than that amount/,
    );
    expectProblem(tenant(method({ fees: { deposit: { percentBps: 10_000 } } })), at('fees.deposit'), /minimum amount/);
    // a cap below the minimum amount makes it fine again
    expect(problems(tenant(method({ fees: { withdrawal: { fixed: { USD: '10.00' }, maximum: { USD: '9.99' } } } })))).toEqual([]);
  });

  it('a processing time for every supported direction and for no other; min <= max', () => {
    expectProblem(tenant(method({ processingTime: { deposit: 'instant' } })), at('processingTime.withdrawal'), /required/);
    expectProblem(
      tenant(method({ directions: ['deposit'], fees: {} })),
      at('processingTime.withdrawal'),
      /does not support withdrawals/,
    );
    expectProblem(
      tenant(method({ processingTime: { deposit: { minMinutes: 60, maxMinutes: 30 }, withdrawal: 'instant' } })),
      at('processingTime.deposit.minMinutes'),
      /minMinutes must not exceed maxMinutes/,
    );
    expectProblem(
      tenant(method({ processingTime: { deposit: 'soon', withdrawal: 'instant' } })),
      at('processingTime.deposit'),
      /.+/,
    );
  });

  it('regions name enabled jurisdictions or served, unrestricted countries', () => {
    expectProblem(
      tenant(method({ regions: ['EU', 'UK'] })),
      at('regions.1'),
      /UK is neither an enabled jurisdiction \(EU, AU, ROW\)/,
    );
    expectProblem(tenant(method({ regions: ['US'] })), at('regions.0'), /US is a restricted country/);
    expectProblem(tenant(method({ regions: ['EU', 'EU'] })), at('regions'), /must not repeat/);
    expect(problems(tenant(method({ regions: ['DE', 'ROW'] })))).toEqual([]);
  });

  it('excluded countries must lie inside the regions', () => {
    expectProblem(tenant(method({ excludedCountries: ['AU'] })), at('excludedCountries.0'), /AU is not in the method's regions/);
    expect(problems(tenant(method({ excludedCountries: ['FR'] })))).toEqual([]);
  });

  it('display orders only for default and regions where the method is offered', () => {
    expectProblem(tenant(method({ displayOrder: { AU: 1 } })), at('displayOrder.AU'), /not offered in AU/);
    expectProblem(tenant(method({ displayOrder: { XX: 1 } })), at('displayOrder.XX'), /neither an enabled jurisdiction/);
    expectProblem(
      tenant(method({ excludedCountries: ['FR'], displayOrder: { FR: 1 } })),
      at('displayOrder.FR'),
      /not offered in FR/,
    );
    expectProblem(tenant(method({ displayOrder: { EU: -1 } })), at('displayOrder.EU'), /.+/);
    expect(problems(tenant(method({ displayOrder: { default: 5, EU: 1, DE: 0 } })))).toEqual([]);
  });
});
