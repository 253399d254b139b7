/**
 * Tenant (brand) configuration: one JSON file per tenant under infra/tenants/, validated here.
 * The CDK stack reads it at synth time and inlines it into every bundle; the local runtime
 * reads the same file. Business rules that vary per tenant live here as data, not code branches.
 */
import * as z from 'zod';

const currencyCode = z.string().regex(/^[A-Z][A-Z0-9]{2,5}$/, 'ISO 4217-style currency code');
const countryCode = z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 country code');
const locale = z.string().regex(/^[a-z]{2}(-[A-Z]{2})?$/, 'BCP 47 locale such as en or de-DE');

export const JurisdictionSchema = z.strictObject({
  /** e.g. EU (ESMA), UK (FCA), AU (ASIC), ROW */
  code: z.string().regex(/^[A-Z]{2,5}$/),
  regulator: z.string().min(2).max(40),
  countries: z.array(countryCode).min(1),
});

export const TenantConfigSchema = z
  .strictObject({
    tenant: z.string().regex(/^[a-z][a-z0-9-]{1,30}$/, 'lower-case tenant id'),
    brand: z.strictObject({
      name: z.string().min(1).max(80),
      supportEmail: z.email(),
      domain: z.string().min(3).max(253).optional(),
    }),
    baseCurrency: currencyCode,
    currencies: z.array(currencyCode).min(1),
    jurisdictions: z.array(JurisdictionSchema).min(1),
    restrictedCountries: z.array(countryCode).default([]),
    locales: z.array(locale).min(1),
    defaultLocale: locale,
    audit: z.strictObject({
      retentionYears: z.number().int().min(1).max(100).default(7),
    }),
    api: z
      .strictObject({
        rateLimitPer5Min: z.number().int().min(100).max(20_000_000).default(2000),
        throttleRps: z.number().int().min(1).max(10_000).default(50),
        throttleBurst: z.number().int().min(1).max(5_000).default(100),
      })
      .default({ rateLimitPer5Min: 2000, throttleRps: 50, throttleBurst: 100 }),
    alarmEmail: z.email().optional(),
  })
  .superRefine((cfg, ctx) => {
    if (!cfg.currencies.includes(cfg.baseCurrency)) {
      ctx.addIssue({ code: 'custom', path: ['baseCurrency'], message: 'baseCurrency must be one of currencies' });
    }
    if (!cfg.locales.includes(cfg.defaultLocale)) {
      ctx.addIssue({ code: 'custom', path: ['defaultLocale'], message: 'defaultLocale must be one of locales' });
    }
  });

export type TenantConfig = z.infer<typeof TenantConfigSchema>;

/** Parses a tenant config, throwing an error that names every bad field. */
export function parseTenantConfig(input: unknown): TenantConfig {
  const result = TenantConfigSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`Invalid tenant config:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** The jurisdiction that covers a country, if any is enabled for the tenant. */
export function jurisdictionFor(cfg: TenantConfig, country: string) {
  return cfg.jurisdictions.find((j) => j.countries.includes(country));
}
