/** Sets the demo tenant config and the environment the HTTP edge reads, for unit tests. */
import { parseTenantConfig } from '#domain/tenant/config.ts';
import { setTenantConfig } from '#shared/tenant.ts';
import demo from '../../infra/tenants/demo.json' with { type: 'json' };

export function useDemoTenant(): void {
  process.env.TABLE_NAME ??= 'backoffice-test';
  process.env.TENANT ??= 'demo';
  setTenantConfig(parseTenantConfig(demo));
}

/** The "path: message" lines of a rejected tenant config (empty when it parses). */
export function configProblems(input: unknown): string[] {
  try {
    parseTenantConfig(input);
    return [];
  } catch (e) {
    return (e as Error).message
      .split('\n')
      .slice(1)
      .map((l) => l.trim());
  }
}

/** A minimal valid non-production tenant (one currency, one jurisdiction, one locale) for config tests. */
export const MINIMAL_TENANT = {
  tenant: 'acme',
  production: false,
  brand: { name: 'Acme FX', supportEmail: 'support@acme-fx.com', domain: 'acme-fx.com' },
  baseCurrency: 'USD',
  currencies: ['USD'],
  jurisdictions: [{ code: 'EU', regulator: 'CySEC', countries: ['CY'] }],
  locales: ['en'],
  defaultLocale: 'en',
  audit: { retentionYears: 7 },
};
