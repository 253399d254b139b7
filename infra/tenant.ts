/**
 * Loads and validates a tenant file (infra/tenants/<name>.json) at synth time.
 * A bad file stops the synth with one message that names the file and every bad field.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTenantConfig, type TenantConfig } from '#domain/tenant/config.ts';

export const TENANTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'tenants');

const TENANT_NAME = /^[a-z][a-z0-9-]{1,30}$/;

export function loadTenantConfig(name: string, dir: string = TENANTS_DIR): TenantConfig {
  if (!TENANT_NAME.test(name)) {
    throw new Error(`Invalid tenant name "${name}": use lower-case letters, digits and dashes (e.g. -c tenant=demo)`);
  }
  const file = join(dir, `${name}.json`);
  if (!existsSync(file)) {
    const known = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.json'))
          .map((f) => f.slice(0, -'.json'.length))
      : [];
    throw new Error(`Unknown tenant "${name}": ${file} does not exist. Known tenants: ${known.join(', ') || '(none)'}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`Tenant file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  let cfg: TenantConfig;
  try {
    cfg = parseTenantConfig(raw);
  } catch (err) {
    throw new Error(`Tenant file ${file}: ${(err as Error).message}`);
  }
  if (cfg.tenant !== name) {
    throw new Error(`Tenant file ${file}: "tenant" is "${cfg.tenant}" but the file is named for "${name}"`);
  }
  return cfg;
}
