/** The onboarding section of the tenant config: defaults keep old tenant files valid; bad values name the field. */
import { describe, expect, it } from 'vitest';
import { parseTenantConfig } from '#domain/tenant/config.ts';
import demo from '../../infra/tenants/demo.json' with { type: 'json' };

function withoutOnboarding(): Record<string, unknown> {
  const copy = structuredClone(demo) as Record<string, unknown>;
  delete copy.onboarding;
  return copy;
}

function message(input: unknown): string {
  try {
    parseTenantConfig(input);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the config to be rejected');
}

describe('onboarding config defaults', () => {
  it('a tenant file without an onboarding section is still valid and gets defaults for every jurisdiction', () => {
    const cfg = parseTenantConfig(withoutOnboarding());
    expect(Object.keys(cfg.onboarding.jurisdictions)).toEqual(['EU', 'UK', 'AU', 'ROW']);
    const eu = cfg.onboarding.jurisdictions.EU!;
    expect(eu.preVerificationDeposit).toBeUndefined();
    expect(eu.retail.questionnaire).toBeUndefined();
    expect(eu.retail.documents.proofOfAddress).toEqual({
      required: true,
      maxAgeDays: 90,
      accepted: ['utility_bill', 'bank_statement', 'tax_document', 'government_letter'],
    });
    expect(eu.retail.documents.selfie).toEqual({ required: false });
    expect(eu.professional.leverageCaps.fx_major).toBe(30);
    // The rest of the file parses as before.
    expect(cfg.ledger.houseAccountShards).toBe(8);
    expect(cfg.fx.markupBps).toBe(25);
  });

  it('the minimal tenant of the infra tests parses with onboarding defaults', () => {
    const cfg = parseTenantConfig({
      tenant: 'acme',
      production: false,
      brand: { name: 'Acme FX', supportEmail: 'support@acme.test' },
      baseCurrency: 'USD',
      currencies: ['USD'],
      jurisdictions: [{ code: 'EU', regulator: 'CySEC', countries: ['CY'] }],
      locales: ['en'],
      defaultLocale: 'en',
      audit: { retentionYears: 10 },
      email: { transport: 'table' },
    });
    expect(cfg.onboarding.jurisdictions.EU?.retail.leverageCaps.crypto).toBe(2);
  });

  it('pre-verification deposit defaults: 2,000.00 EUR for 15 days, disabled unless enabled', () => {
    const cfg = parseTenantConfig({ ...demo, onboarding: { jurisdictions: { EU: { preVerificationDeposit: {} } } } });
    expect(cfg.onboarding.jurisdictions.EU?.preVerificationDeposit).toEqual({
      enabled: false,
      limit: { amount: '2000.00', currency: 'EUR' },
      maxDays: 15,
    });
  });
});

describe('a bad onboarding section names the bad field', () => {
  it('a leverage cap that is not a positive integer', () => {
    expect(message({ ...demo, onboarding: { jurisdictions: { EU: { retail: { leverageCaps: { fx_major: 0 } } } } } })).toMatch(
      /onboarding\.jurisdictions\.EU\.retail\.leverageCaps\.fx_major/,
    );
  });
  it('an unknown instrument class', () => {
    expect(message({ ...demo, onboarding: { jurisdictions: { EU: { retail: { leverageCaps: { bonds: 5 } } } } } })).toMatch(
      /onboarding\.jurisdictions\.EU\.retail\.leverageCaps.*bonds/,
    );
  });
  it('an unknown identity document type', () => {
    expect(
      message({
        ...demo,
        onboarding: {
          jurisdictions: {
            UK: { retail: { documents: { identity: { accepted: [{ type: 'library_card', sides: ['front'] }] } } } },
          },
        },
      }),
    ).toMatch(/onboarding\.jurisdictions\.UK\.retail\.documents\.identity\.accepted\.0\.type/);
  });
  it('an unknown questionnaire', () => {
    expect(message({ ...demo, onboarding: { jurisdictions: { EU: { retail: { questionnaire: 'nope' } } } } })).toMatch(
      /onboarding\.jurisdictions\.EU\.retail\.questionnaire/,
    );
  });
  it('rules for a jurisdiction the tenant does not enable', () => {
    expect(message({ ...demo, onboarding: { jurisdictions: { US: {} } } })).toMatch(
      /onboarding\.jurisdictions\.US: not an enabled/,
    );
  });
  it('a pre-verification limit in a currency the tenant does not enable', () => {
    expect(
      message({
        ...demo,
        onboarding: {
          jurisdictions: { EU: { preVerificationDeposit: { enabled: true, limit: { amount: '2000.00', currency: 'CHF' } } } },
        },
      }),
    ).toMatch(/onboarding\.jurisdictions\.EU\.preVerificationDeposit\.limit\.currency/);
  });
  it('a proof-of-address age out of range', () => {
    expect(
      message({
        ...demo,
        onboarding: { jurisdictions: { ROW: { retail: { documents: { proofOfAddress: { maxAgeDays: 0 } } } } } },
      }),
    ).toMatch(/onboarding\.jurisdictions\.ROW\.retail\.documents\.proofOfAddress\.maxAgeDays/);
  });
});
