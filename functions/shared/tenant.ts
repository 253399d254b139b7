/**
 * The running tenant's config. In Lambda, esbuild inlines TENANT_CONFIG at build time
 * (infra/ sets it with `define`); locally the runtime sets the environment variable.
 */
import { parseTenantConfig, type TenantConfig } from '#domain/tenant/config.ts';

let cached: TenantConfig | undefined;

export function tenantConfig(): TenantConfig {
  if (cached) return cached;
  const raw = process.env.TENANT_CONFIG;
  if (!raw) throw new Error('TENANT_CONFIG is not set');
  cached = parseTenantConfig(JSON.parse(raw));
  return cached;
}

/** For tests and the local runtime. */
export function setTenantConfig(cfg: TenantConfig | undefined): void {
  cached = cfg;
}
