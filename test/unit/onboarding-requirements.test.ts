/** Onboarding requirements and leverage caps come from the tenant config, per jurisdiction and client type. */
import { describe, expect, it } from 'vitest';
import { DomainError } from '#domain/errors.ts';
import { ESMA_RETAIL_LEVERAGE, INSTRUMENT_CLASSES } from '#domain/onboarding/catalog.ts';
import { assertLeverageAllowed, maxLeverage, requirementsFor } from '#domain/onboarding/requirements.ts';
import { parseTenantConfig } from '#domain/tenant/config.ts';
import demo from '../../infra/tenants/demo.json' with { type: 'json' };

const cfg = parseTenantConfig(demo);

function thrown(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected a DomainError');
}

const ESMA = {
  fx_major: 30,
  fx_minor: 20,
  gold: 20,
  index_major: 20,
  index_minor: 10,
  commodity: 10,
  equity: 5,
  crypto: 2,
} as const;

describe('retail leverage caps follow ESMA / FCA / ASIC', () => {
  it('the shipped defaults are the ESMA retail caps', () => expect(ESMA_RETAIL_LEVERAGE).toEqual(ESMA));

  for (const jurisdiction of ['EU', 'UK', 'AU']) {
    for (const instrumentClass of INSTRUMENT_CLASSES) {
      it(`${jurisdiction} retail ${instrumentClass} is ${ESMA[instrumentClass]}:1`, () => {
        expect(maxLeverage(cfg, { jurisdiction, clientType: 'retail', instrumentClass })).toBe(ESMA[instrumentClass]);
      });
    }
  }

  it('a jurisdiction without onboarding rules gets the ESMA caps for both client types', () => {
    const bare = parseTenantConfig({ ...demo, onboarding: undefined });
    for (const jurisdiction of ['EU', 'ROW']) {
      for (const clientType of ['retail', 'professional'] as const) {
        expect(requirementsFor(bare, { country: jurisdiction === 'EU' ? 'DE' : 'ZA', clientType }).leverageCaps).toEqual(ESMA);
      }
    }
  });
});

describe('professional and ROW caps are as configured', () => {
  it('EU professional FX majors go to 500:1', () => {
    expect(maxLeverage(cfg, { jurisdiction: 'EU', clientType: 'professional', instrumentClass: 'fx_major' })).toBe(500);
    expect(maxLeverage(cfg, { jurisdiction: 'EU', clientType: 'professional', instrumentClass: 'crypto' })).toBe(10);
  });
  it('ROW retail is per config', () => {
    expect(maxLeverage(cfg, { jurisdiction: 'ROW', clientType: 'retail', instrumentClass: 'fx_major' })).toBe(500);
    expect(maxLeverage(cfg, { jurisdiction: 'ROW', clientType: 'professional', instrumentClass: 'fx_major' })).toBe(1000);
  });
  it('a class left out of a caps block keeps the ESMA retail cap', () => {
    const c = parseTenantConfig({
      ...demo,
      onboarding: { jurisdictions: { ROW: { professional: { leverageCaps: { fx_major: 400 } } } } },
    });
    expect(maxLeverage(c, { jurisdiction: 'ROW', clientType: 'professional', instrumentClass: 'fx_major' })).toBe(400);
    expect(maxLeverage(c, { jurisdiction: 'ROW', clientType: 'professional', instrumentClass: 'equity' })).toBe(5);
  });
  it('an unknown jurisdiction or class is a validation error', () => {
    expect(thrown(() => maxLeverage(cfg, { jurisdiction: 'XX', clientType: 'retail', instrumentClass: 'gold' })).code).toBe(
      'unknown_jurisdiction',
    );
    expect(
      thrown(() => maxLeverage(cfg, { jurisdiction: 'EU', clientType: 'retail', instrumentClass: 'bonds' as 'gold' })).code,
    ).toBe('unknown_instrument_class');
  });
});

describe('assertLeverageAllowed', () => {
  const q = { jurisdiction: 'EU', clientType: 'retail', instrumentClass: 'fx_major' } as const;
  it('allows the cap exactly', () => expect(() => assertLeverageAllowed(cfg, { ...q, leverage: 30 })).not.toThrow());
  it('refuses one above the cap with the cap in meta', () => {
    const err = thrown(() => assertLeverageAllowed(cfg, { ...q, leverage: 31 }));
    expect(err.code).toBe('leverage_above_cap');
    expect(err.kind).toBe('unprocessable');
    expect(err.meta).toMatchObject({
      cap: 30,
      requested: 31,
      jurisdiction: 'EU',
      clientType: 'retail',
      instrumentClass: 'fx_major',
    });
    expect(err.errors[0]).toMatchObject({ field: 'leverage', code: 'leverage_above_cap' });
  });
  it('professional clients may go higher', () => {
    expect(() => assertLeverageAllowed(cfg, { ...q, clientType: 'professional', leverage: 500 })).not.toThrow();
  });
  it('refuses non-integer or zero leverage', () => {
    expect(thrown(() => assertLeverageAllowed(cfg, { ...q, leverage: 0 })).code).toBe('invalid_leverage');
    expect(thrown(() => assertLeverageAllowed(cfg, { ...q, leverage: 2.5 })).code).toBe('invalid_leverage');
  });
});

describe('countries', () => {
  it('a restricted country is refused', () => {
    const err = thrown(() => requirementsFor(cfg, { country: 'US', clientType: 'retail' }));
    expect(err.code).toBe('country_restricted');
    expect(err.errors[0]).toMatchObject({ field: 'country', code: 'country_restricted' });
  });
  it('restriction wins over a jurisdiction listing', () => {
    const c = parseTenantConfig({ ...demo, restrictedCountries: ['DE'] });
    expect(thrown(() => requirementsFor(c, { country: 'DE', clientType: 'retail' })).code).toBe('country_restricted');
  });
  it('a country no jurisdiction lists is not served', () => {
    const err = thrown(() => requirementsFor(cfg, { country: 'JP', clientType: 'retail' }));
    expect(err.code).toBe('country_not_served');
    expect(err.meta).toEqual({ country: 'JP' });
  });
  it('country codes are case-insensitive', () => {
    expect(requirementsFor(cfg, { country: 'de', clientType: 'retail' }).jurisdiction).toBe('EU');
  });
  it('an unknown client type is refused', () => {
    expect(thrown(() => requirementsFor(cfg, { country: 'DE', clientType: 'institutional' as 'retail' })).code).toBe(
      'invalid_client_type',
    );
  });
});

describe('requirements differ by jurisdiction and client type as configured', () => {
  it('EU retail: MiFID II questionnaire, every ID type, PoA <= 90 days, CySEC pre-verification deposits', () => {
    const r = requirementsFor(cfg, { country: 'CY', clientType: 'retail' });
    expect(r).toMatchObject({
      jurisdiction: 'EU',
      regulator: 'CySEC',
      clientType: 'retail',
      questionnaire: 'mifid2-appropriateness',
    });
    expect(r.documents.identity.accepted.map((d) => d.type)).toEqual([
      'passport',
      'national_id',
      'driving_licence',
      'residence_permit',
    ]);
    expect(r.documents.identity.accepted[0]).toEqual({ type: 'passport', sides: ['front'] });
    expect(r.documents.identity.accepted[1]).toEqual({ type: 'national_id', sides: ['front', 'back'] });
    expect(r.documents.proofOfAddress).toMatchObject({ required: true, maxAgeDays: 90 });
    expect(r.documents.selfie).toEqual({ required: false });
    expect(r.preVerificationDeposit).toEqual({ limit: { amount: '2000.00', currency: 'EUR' }, maxDays: 15 });
  });
  it('EU professional: no questionnaire, still the pre-verification allowance', () => {
    const r = requirementsFor(cfg, { country: 'DE', clientType: 'professional' });
    expect(r.questionnaire).toBeUndefined();
    expect(r.leverageCaps.fx_major).toBe(500);
    expect(r.preVerificationDeposit).toBeDefined();
  });
  it('UK retail needs a selfie and has no pre-verification deposits', () => {
    const r = requirementsFor(cfg, { country: 'GB', clientType: 'retail' });
    expect(r).toMatchObject({ jurisdiction: 'UK', regulator: 'FCA' });
    expect(r.documents.selfie.required).toBe(true);
    expect(r.preVerificationDeposit).toBeUndefined();
    expect(requirementsFor(cfg, { country: 'GB', clientType: 'professional' }).documents.selfie.required).toBe(false);
  });
  it('AU retail accepts passport or driving licence only; AU professional all types', () => {
    expect(requirementsFor(cfg, { country: 'AU', clientType: 'retail' }).documents.identity.accepted.map((d) => d.type)).toEqual([
      'passport',
      'driving_licence',
    ]);
    expect(requirementsFor(cfg, { country: 'AU', clientType: 'professional' }).documents.identity.accepted).toHaveLength(4);
  });
  it('ROW accepts proof of address up to 180 days old', () => {
    expect(requirementsFor(cfg, { country: 'ZA', clientType: 'retail' }).documents.proofOfAddress.maxAgeDays).toBe(180);
  });
  it('a disabled allowance is not offered', () => {
    const c = parseTenantConfig({
      ...demo,
      onboarding: { jurisdictions: { EU: { preVerificationDeposit: { enabled: false } } } },
    });
    expect(requirementsFor(c, { country: 'DE', clientType: 'retail' }).preVerificationDeposit).toBeUndefined();
  });
  it('the result is a copy: changing it does not change the config', () => {
    const r = requirementsFor(cfg, { country: 'DE', clientType: 'retail' });
    r.leverageCaps.fx_major = 1000;
    r.documents.identity.accepted[0]?.sides.push('back');
    expect(maxLeverage(cfg, { jurisdiction: 'EU', clientType: 'retail', instrumentClass: 'fx_major' })).toBe(30);
    expect(requirementsFor(cfg, { country: 'DE', clientType: 'retail' }).documents.identity.accepted[0]?.sides).toEqual([
      'front',
    ]);
  });
});
