/**
 * The caller's locale from Accept-Language, restricted to the tenant's locales.
 *
 * Guarantees:
 * - the result is always one of `locales` (the tenant's), else `defaultLocale`
 * - preference follows q-values (ties keep header order); q=0 ranges are never chosen
 * - a range matches a tenant locale exactly (case-insensitive) or by primary language ("de-AT" -> "de",
 *   "de" -> "de-DE" when only the regional form is configured)
 */
export function resolveLocale(acceptLanguage: string | undefined, locales: readonly string[], defaultLocale: string): string {
  if (!acceptLanguage) return defaultLocale;
  const ranges = acceptLanguage
    .split(',')
    .slice(0, 20)
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const q = qParam ? Number(qParam.slice(2)) : 1;
      return { tag: tag.trim().toLowerCase(), q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((r) => r.tag.length > 0 && r.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of ranges) {
    if (tag === '*') return defaultLocale;
    const exact = locales.find((l) => l.toLowerCase() === tag);
    if (exact) return exact;
    const primary = tag.split('-')[0];
    const byPrimary =
      locales.find((l) => l.toLowerCase() === primary) ?? locales.find((l) => l.toLowerCase().split('-')[0] === primary);
    if (byPrimary) return byPrimary;
  }
  return defaultLocale;
}
