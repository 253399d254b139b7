/**
 * The esbuild options every Lambda bundle is built with. The CDK stack (infra/constructs/functions.ts)
 * and `npm run size` both use these, so the measured size is the deployed size.
 */
import type { BuildOptions } from 'esbuild';
import type { TenantConfig } from '#domain/tenant/config.ts';

/** ESM bundles still meet CommonJS dependencies that call require(). */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __backofficeCreateRequire } from 'node:module'; const require = __backofficeCreateRequire(import.meta.url);";

export function esbuildOptions(tenantConfig: TenantConfig): BuildOptions {
  return {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    minify: true,
    external: ['@aws-sdk/*'],
    define: { 'process.env.TENANT_CONFIG': JSON.stringify(JSON.stringify(tenantConfig)) },
  };
}
