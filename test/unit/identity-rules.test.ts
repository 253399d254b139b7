import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialOnboarding, nextStep, ONBOARDING_STAGES } from '#domain/identity/onboarding.ts';
import {
  ageOn,
  countryProblem,
  dateOfBirthProblem,
  isValidEmail,
  normalizeEmail,
  parseIsoDate,
  passwordViolations,
} from '#domain/identity/rules.ts';

const cfg = {
  jurisdictions: [
    { code: 'EU', regulator: 'CySEC', countries: ['DE', 'CY'] },
    { code: 'UK', regulator: 'FCA', countries: ['GB', 'US'] },
  ],
  restrictedCountries: ['US', 'KP'],
};

describe('an email is normalised once and differs only by case => same user', () => {
  it('trims and lower-cases', () => {
    expect(normalizeEmail('  Alice.Smith@Example.COM ')).toBe('alice.smith@example.com');
  });
  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (e) => {
        expect(normalizeEmail(normalizeEmail(e))).toBe(normalizeEmail(e));
      }),
    );
  });
  it('accepts ordinary addresses and rejects malformed ones', () => {
    for (const ok of ['a@b.co', 'first.last+tag@sub.example.org', "o'brien@example.ie"]) expect(isValidEmail(ok)).toBe(true);
    for (const bad of [
      '',
      'plain',
      'a@b',
      '@b.com',
      'a@@b.com',
      'a@b.c',
      'a..b@c.com',
      'a b@c.com',
      'a@-b.com',
      `${'x'.repeat(65)}@b.com`,
    ]) {
      expect(isValidEmail(bad)).toBe(false);
    }
  });
});

describe('a client is an adult: age in whole years on now >= 18', () => {
  const now = new Date('2025-06-15T12:00:00Z');
  it('turns 18 exactly on the 18th birthday', () => {
    expect(dateOfBirthProblem('2007-06-15', now)).toBeNull();
    expect(dateOfBirthProblem('2007-06-16', now)).toBe('underage');
  });
  it('a 29 February birthday ages on 1 March in non-leap years', () => {
    expect(ageOn(parseIsoDate('2004-02-29')!, new Date('2022-02-28T00:00:00Z'))).toBe(17);
    expect(ageOn(parseIsoDate('2004-02-29')!, new Date('2022-03-01T00:00:00Z'))).toBe(18);
  });
  it('age is monotone in now', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1950-01-01'), max: new Date('2020-01-01'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 20_000 }),
        fc.integer({ min: 0, max: 2_000 }),
        (dob, d1, d2) => {
          const b = parseIsoDate(dob.toISOString().slice(0, 10))!;
          const t1 = new Date(dob.getTime() + d1 * 86_400_000);
          const t2 = new Date(t1.getTime() + d2 * 86_400_000);
          expect(ageOn(b, t2)).toBeGreaterThanOrEqual(ageOn(b, t1));
        },
      ),
    );
  });
});

describe('a date of birth is a real calendar date, not in the future, not before 1900', () => {
  const now = new Date('2025-06-15T12:00:00Z');
  it.each(['2001-02-29', '1990-13-01', '1990-00-10', '1990-04-31', '90-01-01', '1899-12-31', 'yesterday'])(
    '%s is invalid_date',
    (d) => {
      expect(dateOfBirthProblem(d, now)).toBe('invalid_date');
    },
  );
  it('rejects a future date', () => {
    expect(dateOfBirthProblem('2025-06-16', now)).toBe('date_in_future');
  });
});

describe('a country is served only if a jurisdiction lists it and it is not restricted', () => {
  it('restriction wins over a jurisdiction listing', () => expect(countryProblem(cfg, 'US')).toBe('country_restricted'));
  it('unlisted countries are not served', () => expect(countryProblem(cfg, 'FR')).toBe('country_not_served'));
  it('listed, unrestricted countries are served', () => expect(countryProblem(cfg, 'DE')).toBeNull());
});

describe('a password meets the Cognito default policy and every violation is named', () => {
  it('accepts a strong password', () => expect(passwordViolations('Corr3ct-Horse')).toEqual([]));
  it('names each violation', () => {
    expect(passwordViolations('abc')).toEqual(['too_short', 'missing_uppercase', 'missing_digit', 'missing_symbol']);
    expect(passwordViolations(' Abcdef1! ')).toEqual(['leading_or_trailing_space']);
    expect(passwordViolations('ABCDEFG1!')).toEqual(['missing_lowercase']);
    expect(passwordViolations(`Aa1!${'x'.repeat(300)}`)).toEqual(['too_long']);
  });
  it('a space inside counts as a symbol', () => expect(passwordViolations('Abc def1')).toEqual([]));
});

describe('onboarding: a fresh client is registered with KYC not started; next is a function of the stage', () => {
  it('initial state', () =>
    expect(initialOnboarding()).toEqual({ stage: 'registered', kycStatus: 'not_started', next: 'complete_profile' }));
  it('every stage has a next step', () => {
    for (const s of ONBOARDING_STAGES) expect(nextStep(s)).toMatch(/^[a-z_]+$/);
  });
});
