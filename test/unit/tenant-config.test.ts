/**
 * The tenant-wide fields of the tenant config (domain/tenant/config.ts): the required production
 * flag, the business time zone, audit retention (years or days, production minimums, Object Lock
 * mode) and the email transport (SES needs a verifiable brand domain). The shipped tenant files parse.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { auditRetention, corsOrigins, parseTenantConfig, reservedDomain } from '#domain/tenant/config.ts';
import { configProblems, MINIMAL_TENANT } from '../support/tenant.ts';

/** A valid non-production tenant that sends through SES from its own domain. */
const base = MINIMAL_TENANT;
const prod = { ...base, production: true };

const problems = configProblems;

const shipped = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../infra/tenants/${name}.json`, import.meta.url), 'utf8'));

describe('production flag', () => {
  it('is required: a missing flag is an issue naming production, with no default either way', () => {
    const { production: _p, ...rest } = base;
    const p = problems(rest);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^production: required/);
  });

  it('must be a boolean', () => {
    expect(problems({ ...base, production: 'yes' })).toEqual([expect.stringMatching(/^production: /)]);
  });

  it('is kept as given', () => {
    expect(parseTenantConfig(base).production).toBe(false);
    expect(parseTenantConfig(prod).production).toBe(true);
  });
});

describe('timezone', () => {
  it('defaults to UTC', () => {
    expect(parseTenantConfig(base).timezone).toBe('UTC');
  });

  it('accepts an IANA zone', () => {
    expect(parseTenantConfig({ ...base, timezone: 'Europe/London' }).timezone).toBe('Europe/London');
  });

  it('rejects an unknown zone, an empty string and a bare UTC offset', () => {
    for (const timezone of ['Mars/Olympus_Mons', '', '+02:00']) {
      expect(problems({ ...base, timezone })).toEqual(['timezone: unknown IANA time zone']);
    }
  });
});

describe('audit retention', () => {
  it('defaults to 7 years when neither years nor days is given', () => {
    expect(parseTenantConfig({ ...base, audit: {} }).audit).toEqual({ retentionYears: 7 });
  });

  it('refuses both years and days', () => {
    expect(problems({ ...base, audit: { retentionYears: 7, retentionDays: 30 } })).toEqual([
      'audit.retentionDays: give retentionYears or retentionDays, not both',
    ]);
  });

  it('a non-production tenant may use days', () => {
    expect(parseTenantConfig({ ...base, audit: { retentionDays: 1 } }).audit).toEqual({ retentionDays: 1 });
  });

  it('a production tenant may not use days', () => {
    const p = problems({ ...prod, audit: { retentionDays: 3650 } });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^audit\.retentionDays: only for non-production tenants.*retentionYears.*at least 5/);
  });

  it('a production tenant keeps at least 5 years', () => {
    const p = problems({ ...prod, audit: { retentionYears: 3 } });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^audit\.retentionYears: .*at least 5 years/);
    expect(problems({ ...prod, audit: { retentionYears: 5 } })).toEqual([]);
    expect(problems({ ...base, audit: { retentionYears: 3 } })).toEqual([]);
  });

  it('keeps the range checks of each unit', () => {
    expect(problems({ ...base, audit: { retentionYears: 0 } })).toEqual([expect.stringMatching(/^audit\.retentionYears: /)]);
    expect(problems({ ...base, audit: { retentionDays: 36_501 } })).toEqual([expect.stringMatching(/^audit\.retentionDays: /)]);
    expect(problems({ ...base, audit: { retentionMonths: 6 } })).toEqual([expect.stringMatching(/^audit: .*retentionMonths/)]);
  });

  it('auditRetention: COMPLIANCE in years for production, GOVERNANCE with years or days otherwise', () => {
    expect(auditRetention(parseTenantConfig({ ...prod, audit: { retentionYears: 10 } }))).toEqual({
      mode: 'COMPLIANCE',
      years: 10,
    });
    expect(auditRetention(parseTenantConfig({ ...base, audit: {} }))).toEqual({ mode: 'GOVERNANCE', years: 7 });
    expect(auditRetention(parseTenantConfig({ ...base, audit: { retentionDays: 1 } }))).toEqual({
      mode: 'GOVERNANCE',
      days: 1,
    });
  });
});

describe('email transport', () => {
  it("defaults to 'ses'", () => {
    expect(parseTenantConfig(base).email).toEqual({ transport: 'ses' });
  });

  it("'ses' needs brand.domain", () => {
    const p = problems({ ...base, brand: { name: 'Acme FX', supportEmail: 'support@acme-fx.com' } });
    expect(p).toEqual([expect.stringMatching(/^brand\.domain: required with email transport 'ses'/)]);
  });

  it("'ses' needs supportEmail at brand.domain or a subdomain of it", () => {
    const brand = (supportEmail: string) => ({ ...base, brand: { ...base.brand, supportEmail } });
    expect(problems(brand('support@gmail.com'))).toEqual([expect.stringMatching(/^brand\.supportEmail: must be an address at/)]);
    // A look-alike that merely ends with the same letters is not a subdomain.
    expect(problems(brand('support@notacme-fx.com'))).toEqual([expect.stringMatching(/^brand\.supportEmail: /)]);
    expect(problems(brand('support@mail.acme-fx.com'))).toEqual([]);
    expect(problems(brand('Support@ACME-FX.com'))).toEqual([]);
  });

  it("'ses' refuses a reserved domain that SES can never verify", () => {
    for (const domain of ['demo.test', 'example.com', 'x.example']) {
      const p = problems({ ...base, brand: { name: 'Acme FX', supportEmail: `support@${domain}`, domain } });
      expect(p).toEqual([expect.stringMatching(new RegExp(`^brand\\.domain: ${domain.replace('.', '\\.')} is a reserved name`))]);
    }
  });

  it("'table' needs no domain, so the reserved demo address is fine", () => {
    const cfg = parseTenantConfig({
      ...base,
      brand: { name: 'Demo', supportEmail: 'support@demo.test' },
      email: { transport: 'table' },
    });
    expect(cfg.email.transport).toBe('table');
  });

  it("a production tenant must use 'ses'", () => {
    expect(problems({ ...prod, email: { transport: 'table' } })).toEqual([
      expect.stringMatching(/^email\.transport: a production tenant sends its emails: transport must be 'ses'/),
    ]);
  });

  it('an unknown transport is refused', () => {
    expect(problems({ ...base, email: { transport: 'smtp' } })).toEqual([expect.stringMatching(/^email\.transport: /)]);
  });

  it('reservedDomain: RFC 2606 / 6761 TLDs and the example second-level domains, with their subdomains', () => {
    for (const d of ['demo.test', 'x.example', 'a.invalid', 'app.localhost', 'example.com', 'mail.example.org', 'EXAMPLE.NET.']) {
      expect(reservedDomain(d), d).toBe(true);
    }
    for (const d of ['acme-trading.co.uk', 'example.co.uk', 'myexample.com', 'test.com', 'testing.io']) {
      expect(reservedDomain(d), d).toBe(false);
    }
  });
});

describe('brand.domain', () => {
  it('is a lower-case DNS name with at least one dot', () => {
    const withDomain = (domain: string) => ({ ...base, brand: { ...base.brand, supportEmail: `support@${domain}`, domain } });
    for (const ok of ['acme-fx.com', 'acme-trading.co.uk', 'a1.b2.io', 'xn--bcher-kva.de']) {
      expect(problems(withDomain(ok)), ok).toEqual([]);
    }
    for (const bad of [
      'Acme-FX.com',
      'localhost',
      '-acme.com',
      'acme-.com',
      'acme..com',
      'acme_fx.com',
      '10.0.0.1',
      'acme.com.',
    ]) {
      expect(problems(withDomain(bad)), bad).toContainEqual(expect.stringMatching(/^brand\.domain: lower-case DNS name/));
    }
  });
});

describe('shipped tenant files', () => {
  it('demo: a non-production tenant mailing to the table, audit locked a day in GOVERNANCE mode', () => {
    const cfg = parseTenantConfig(shipped('demo'));
    expect(cfg.production).toBe(false);
    expect(cfg.timezone).toBe('Europe/Nicosia');
    expect(cfg.email.transport).toBe('table');
    expect(auditRetention(cfg)).toEqual({ mode: 'GOVERNANCE', days: 1 });
  });

  it('acme: a production FCA tenant sending through SES, audit locked 7 years in COMPLIANCE mode', () => {
    const cfg = parseTenantConfig(shipped('acme'));
    expect(cfg.tenant).toBe('acme');
    expect(cfg.production).toBe(true);
    expect(cfg.timezone).toBe('Europe/London');
    expect(cfg.baseCurrency).toBe('GBP');
    expect(cfg.email.transport).toBe('ses');
    expect(cfg.brand.domain).toBe('acme-trading.co.uk');
    expect(auditRetention(cfg)).toEqual({ mode: 'COMPLIANCE', years: 7 });
    expect(cfg.jurisdictions.map((j) => j.code)).toEqual(['UK']);
    expect(cfg.onboarding.jurisdictions.UK?.retail.leverageCaps.fx_major).toBe(30);
    // Cards through Stripe only: no provider adapter here pays out bank transfers yet.
    expect(cfg.payments.methods.map((m) => [m.id, m.provider])).toEqual([['card', 'stripe']]);
  });
});

describe('browser origins (CORS)', () => {
  it('the trader room first, then the site, then api.corsOrigins, without repeats', () => {
    const cfg = parseTenantConfig({ ...base, api: { corsOrigins: ['http://localhost:5173', 'https://acme-fx.com'] } });
    expect(corsOrigins(cfg)).toEqual(['https://app.acme-fx.com', 'https://acme-fx.com', 'http://localhost:5173']);
  });

  it('none at all when the file names neither a domain nor origins (infra then refuses to deploy)', () => {
    const { domain: _d, ...brand } = base.brand;
    const cfg = parseTenantConfig({ ...base, brand, email: { transport: 'table' } });
    expect(corsOrigins(cfg)).toEqual([]);
  });

  it('an origin is scheme://host[:port] only; production origins are https', () => {
    expect(problems({ ...base, api: { corsOrigins: ['https://app.example.com/path'] } })).toEqual([
      expect.stringMatching(/^api\.corsOrigins\.0: .*no path/),
    ]);
    expect(problems({ ...base, api: { corsOrigins: ['*'] } })).toHaveLength(1);
    expect(problems({ ...prod, api: { corsOrigins: ['http://trader.acme-fx.com'] } })).toEqual([
      expect.stringMatching(/^api\.corsOrigins\.0: a production origin must be https/),
    ]);
    expect(problems({ ...prod, api: { corsOrigins: ['https://trader.acme-fx.com:8443'] } })).toEqual([]);
  });
});
