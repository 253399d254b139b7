/**
 * Invariant: the routes each API module serves are exactly the routes the manifest gives its function
 * (method, path, auth) - nothing missing, nothing extra - so infra, local and the handlers cannot drift.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { functions, type RouteSpec } from '#functions/manifest.ts';
import type { AnyRoute } from '#middleware/http.ts';
import { useDemoTenant } from '../support/tenant.ts';

useDemoTenant();
const root = path.resolve(import.meta.dirname, '../..');

const norm = (r: { method: string; path: string; auth: RouteSpec['auth'] }) => ({
  method: r.method,
  path: r.path,
  auth: typeof r.auth === 'string' ? r.auth : [...r.auth].sort().join(','),
});
const byKey = (a: { method: string; path: string }, b: { method: string; path: string }) =>
  `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`);

describe('every API module serves exactly its manifest routes', () => {
  for (const fn of functions.filter((f) => f.routes && f.routes.length > 0)) {
    it(`${fn.name} (${fn.entry})`, async () => {
      const mod = (await import(pathToFileURL(path.join(root, fn.entry)).href)) as { routes?: AnyRoute[]; handler?: unknown };
      expect(Array.isArray(mod.routes), `${fn.entry} exports routes`).toBe(true);
      expect(typeof mod.handler, `${fn.entry} exports handler`).toBe('function');
      const served = mod.routes!.map(norm).sort(byKey);
      const declared = fn.routes!.map(norm).sort(byKey);
      expect(served).toEqual(declared);
    });
  }
});
