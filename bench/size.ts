/**
 * Bundle size of every manifest function, built with the same esbuild options the CDK stack uses
 * (infra/bundling.ts): ESM, minified, node22, AWS SDK v3 external (provided by the Lambda runtime).
 * Cold start grows with bundle size, so this is printed by `npm run size` and `npm run bench`.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { functions } from '#functions/manifest.ts';
import { esbuildOptions } from '#infra/bundling.ts';
import { loadTenantConfig } from '#infra/tenant.ts';

export async function bundleSizes(): Promise<{ name: string; bytes: number; gzip: number }[]> {
  const root = path.resolve(import.meta.dirname, '..');
  const out = await mkdtemp(path.join(os.tmpdir(), 'bundle-size-'));
  const config = loadTenantConfig('demo');
  const rows = [];
  try {
    for (const fn of functions) {
      const outfile = path.join(out, `${fn.name}.mjs`);
      await build({
        ...esbuildOptions(config),
        entryPoints: [path.join(root, fn.entry)],
        outfile,
        sourcemap: false,
        logLevel: 'error',
      });
      const bytes = (await stat(outfile)).size;
      rows.push({ name: fn.name, bytes, gzip: gzipSync(await readFile(outfile)).length });
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
  return rows;
}

export function printSizes(rows: { name: string; bytes: number; gzip: number }[]) {
  console.log('\n## bundle sizes (minified ESM, AWS SDK external)');
  console.log('function\tKiB\tgzip KiB');
  for (const r of rows) console.log(`${r.name}\t${(r.bytes / 1024).toFixed(1)}\t${(r.gzip / 1024).toFixed(1)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  printSizes(await bundleSizes());
}
