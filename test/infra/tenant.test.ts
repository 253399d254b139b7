/** Tenant files are validated before anything is built; a bad one stops synth with every bad field named. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp } from '#infra/create-app.ts';
import { loadTenantConfig } from '#infra/tenant.ts';

function tenantsDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tenants-'));
  for (const [name, body] of Object.entries(files)) {
    writeFileSync(join(dir, `${name}.json`), typeof body === 'string' ? body : JSON.stringify(body));
  }
  return dir;
}

const valid = {
  tenant: 'acme',
  brand: { name: 'Acme FX', supportEmail: 'support@acme.test' },
  baseCurrency: 'USD',
  currencies: ['USD', 'EUR'],
  jurisdictions: [{ code: 'EU', regulator: 'CySEC', countries: ['CY'] }],
  locales: ['en'],
  defaultLocale: 'en',
  audit: { retentionYears: 10 },
  production: false,
  email: { transport: 'table' },
};

describe('tenant config', () => {
  it('loads the demo tenant', () => {
    expect(loadTenantConfig('demo').tenant).toBe('demo');
  });

  it('applies schema defaults', () => {
    const cfg = loadTenantConfig('acme', tenantsDir({ acme: valid }));
    expect(cfg.api).toEqual({
      rateLimitPer5Min: 2000,
      webhookRateLimitPer5Min: 20_000,
      throttleRps: 50,
      throttleBurst: 100,
      corsOrigins: [],
    });
  });

  it('an invalid file names the file and every bad field', () => {
    const dir = tenantsDir({
      acme: {
        ...valid,
        baseCurrency: 'usd',
        brand: { name: 'Acme', supportEmail: 'not-an-email' },
        audit: { retentionYears: 0 },
        extra: 1,
      },
    });
    let message = '';
    try {
      createApp({ tenantsDir: dir, context: { tenant: 'acme' } });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(join(dir, 'acme.json'));
    expect(message).toContain('Invalid tenant config');
    expect(message).toMatch(/baseCurrency/);
    expect(message).toMatch(/brand\.supportEmail/);
    expect(message).toMatch(/audit\.retentionYears/);
    expect(message).toMatch(/extra/);
  });

  it('an unknown tenant lists the known ones', () => {
    expect(() => createApp({ tenantsDir: tenantsDir({ acme: valid }), context: { tenant: 'nope' } })).toThrow(
      /Unknown tenant "nope".*Known tenants: acme/s,
    );
  });

  it('a file whose tenant id does not match its name is rejected', () => {
    expect(() => createApp({ tenantsDir: tenantsDir({ other: valid }), context: { tenant: 'other' } })).toThrow(
      /"tenant" is "acme"/,
    );
  });

  it('a tenant that names no browser origin (no brand.domain, no api.corsOrigins) is not deployed with CORS *', () => {
    expect(() => createApp({ tenantsDir: tenantsDir({ acme: valid }), context: { tenant: 'acme' }, nag: false })).toThrow(
      /no browser origins/,
    );
  });

  it('malformed JSON is reported as such', () => {
    expect(() => createApp({ tenantsDir: tenantsDir({ acme: '{ nope' }), context: { tenant: 'acme' } })).toThrow(
      /not valid JSON/,
    );
  });
});
