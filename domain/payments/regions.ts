/**
 * Where a payment method is offered, and where it sits in the list, from the region keys of its
 * config (`regions`, `excludedCountries`, `displayOrder`).
 *
 * Invariants:
 * - a region key is a jurisdiction code when a tenant jurisdiction has that code, otherwise a country
 *   code (the jurisdiction reading wins: 'AU' is the AU jurisdiction, which covers the country AU)
 * - a restricted country, or one no enabled jurisdiction lists, is offered nothing, whatever the
 *   method's regions say
 * - a method is offered in a served country when its regions name the country or its jurisdiction,
 *   and `excludedCountries` does not name the country
 * - the display order for a country is its own `displayOrder` entry, else its jurisdiction's, else
 *   `default`, else UNORDERED (after every ordered method)
 * No imports except the catalog: the tenant config schema validates with these functions.
 */
import { DEFAULT_ORDER_KEY, UNORDERED } from './catalog.ts';

/** The part of a tenant config that region keys are resolved against. */
export interface RegionConfig {
  jurisdictions: ReadonlyArray<{ code: string; countries: readonly string[] }>;
  restrictedCountries: readonly string[];
}

export type RegionRef =
  | { kind: 'jurisdiction'; code: string; countries: readonly string[] }
  | { kind: 'country'; code: string; jurisdiction: string }
  /** A restricted country: never a valid region. */
  | { kind: 'restricted'; code: string }
  /** Neither an enabled jurisdiction nor a country of one. */
  | { kind: 'unknown'; code: string };

export function resolveRegion(cfg: RegionConfig, key: string): RegionRef {
  const j = cfg.jurisdictions.find((x) => x.code === key);
  if (j) return { kind: 'jurisdiction', code: j.code, countries: j.countries };
  if (cfg.restrictedCountries.includes(key)) return { kind: 'restricted', code: key };
  const home = cfg.jurisdictions.find((x) => x.countries.includes(key));
  return home ? { kind: 'country', code: key, jurisdiction: home.code } : { kind: 'unknown', code: key };
}

/** The jurisdiction code serving `country` (upper-cased), or undefined when it is restricted or not served. */
export function servedJurisdiction(cfg: RegionConfig, country: string): string | undefined {
  const c = country.trim().toUpperCase();
  if (cfg.restrictedCountries.includes(c)) return undefined;
  return cfg.jurisdictions.find((x) => x.countries.includes(c))?.code;
}

const isJurisdictionCode = (cfg: RegionConfig, key: string) => cfg.jurisdictions.some((j) => j.code === key);

/** True when `regions` name the served country `country` or its jurisdiction (exclusions not applied). */
export function regionsCover(cfg: RegionConfig, regions: readonly string[], country: string): boolean {
  const c = country.trim().toUpperCase();
  const j = servedJurisdiction(cfg, c);
  if (!j) return false;
  return regions.includes(j) || (regions.includes(c) && !isJurisdictionCode(cfg, c));
}

/** True when the method is offered to a client resident in `country`. */
export function offeredIn(
  cfg: RegionConfig,
  method: { regions: readonly string[]; excludedCountries: readonly string[] },
  country: string,
): boolean {
  const c = country.trim().toUpperCase();
  return regionsCover(cfg, method.regions, c) && !method.excludedCountries.includes(c);
}

/** The method's position for a client in `country`: country entry, else jurisdiction entry, else default. */
export function displayOrderIn(cfg: RegionConfig, method: { displayOrder: Readonly<Record<string, number>> }, country: string) {
  const c = country.trim().toUpperCase();
  const order = method.displayOrder;
  const own = !isJurisdictionCode(cfg, c) ? order[c] : undefined;
  if (own !== undefined) return own;
  const j = servedJurisdiction(cfg, c);
  const byJurisdiction = j !== undefined ? order[j] : undefined;
  return byJurisdiction ?? order[DEFAULT_ORDER_KEY] ?? UNORDERED;
}
