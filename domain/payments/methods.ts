/**
 * The tenant's payment methods as a client sees them: which are offered in its country, in what
 * order, within which limits, and what they cost (fees.ts) and take (processing times).
 *
 * Invariants:
 * - methodsFor lists only methods offered in the country (regions.ts: a restricted or unserved
 *   country gets none), optionally only those supporting a direction and/or currency, sorted by
 *   the country's display order (country entry > jurisdiction entry > default), ties in file order
 * - limits are per currency and apply to the gross of both directions: min <= gross <= max
 * - every refusal is a DomainError with its own code and a field error: method_not_offered_in_region,
 *   method_direction_not_supported, currency_not_supported_by_method, amount_below_minimum and
 *   amount_above_maximum (the last two carry meta.min and meta.max as money JSON); all are 422
 * - a label is in the requested locale, else its primary language, else the tenant default, else en
 */
import { DomainError } from '../errors.ts';
import { formatMoney, type Money, type MoneyJson, toMinor } from '../money/index.ts';
import type { PaymentMethodConfig, ProcessingTime, TenantConfig } from '../tenant/config.ts';
import type { PaymentDirection } from './catalog.ts';
import { assertCurrencySupported, assertDirectionSupported } from './fees.ts';
import { displayOrderIn, offeredIn, type RegionConfig } from './regions.ts';

export type PaymentsTenant = RegionConfig & Pick<TenantConfig, 'payments'>;

export interface OfferedMethod {
  method: PaymentMethodConfig;
  /** The method's position for this country (ascending). */
  displayOrder: number;
}

export interface MethodQuery {
  country: string;
  direction?: PaymentDirection;
  currency?: string;
}

/** The methods a client resident in `country` may use, in display order. Empty when none. */
export function methodsFor(cfg: PaymentsTenant, q: MethodQuery): OfferedMethod[] {
  return cfg.payments.methods
    .map((method, index) => ({ method, index }))
    .filter(
      ({ method }) =>
        offeredIn(cfg, method, q.country) &&
        (q.direction === undefined || method.directions.includes(q.direction)) &&
        (q.currency === undefined || method.currencies.includes(q.currency)),
    )
    .map(({ method, index }) => ({ method, index, displayOrder: displayOrderIn(cfg, method, q.country) }))
    .sort((a, b) => a.displayOrder - b.displayOrder || a.index - b.index)
    .map(({ method, displayOrder }) => ({ method, displayOrder }));
}

/** The configured method with this id, or undefined. */
export function findMethod(cfg: Pick<TenantConfig, 'payments'>, id: string): PaymentMethodConfig | undefined {
  return cfg.payments.methods.find((m) => m.id === id);
}

/** The method's limits for a currency it supports, in minor units. */
export function limitsFor(method: PaymentMethodConfig, currency: string): { min: bigint; max: bigint } {
  assertCurrencySupported(method, currency);
  const l = method.limits[currency]!; // the config guarantees limits for every method currency
  return { min: toMinor(l.min, currency), max: toMinor(l.max, currency) };
}

/** Throws method_not_offered_in_region unless the method is offered to clients resident in `country`. */
export function assertOfferedIn(cfg: RegionConfig, method: PaymentMethodConfig, country: string): void {
  if (!offeredIn(cfg, method, country)) {
    const c = country.trim().toUpperCase().slice(0, 8);
    throw new DomainError(
      'method_not_offered_in_region',
      'unprocessable',
      `${method.id} is not offered in ${c}`,
      [{ field: 'methodId', code: 'method_not_offered_in_region', message: `not offered in ${c}` }],
      { methodId: method.id, country: c },
    );
  }
}

/**
 * Throws unless `money` (the gross) may be paid through `method` in `direction`: the direction and
 * currency are supported and min <= amount <= max. Codes in the order checked:
 * method_direction_not_supported, currency_not_supported_by_method, amount_below_minimum,
 * amount_above_maximum (meta: { min, max } as money JSON, methodId).
 */
export function assertAmountAllowed(method: PaymentMethodConfig, direction: PaymentDirection, money: Money): void {
  assertDirectionSupported(method, direction);
  const { min, max } = limitsFor(method, money.currency);
  const meta = {
    methodId: method.id,
    min: formatMoney({ amount: min, currency: money.currency }),
    max: formatMoney({ amount: max, currency: money.currency }),
  };
  if (money.amount < min) {
    throw new DomainError(
      'amount_below_minimum',
      'unprocessable',
      `The minimum for ${method.id} is ${meta.min.amount} ${money.currency}`,
      [{ field: 'amount', code: 'amount_below_minimum', message: `must be at least ${meta.min.amount}` }],
      meta,
    );
  }
  if (money.amount > max) {
    throw new DomainError(
      'amount_above_maximum',
      'unprocessable',
      `The maximum for ${method.id} is ${meta.max.amount} ${money.currency}`,
      [{ field: 'amount', code: 'amount_above_maximum', message: `must be at most ${meta.max.amount}` }],
      meta,
    );
  }
}

/** Everything a payment must pass before it is created: the region, then assertAmountAllowed. */
export function assertPaymentAllowed(
  cfg: RegionConfig,
  method: PaymentMethodConfig,
  p: { country: string; direction: PaymentDirection; money: Money },
): void {
  assertOfferedIn(cfg, method, p.country);
  assertAmountAllowed(method, p.direction, p.money);
}

/** The method's label in `locale` (then its primary language, the tenant default, en, any). */
export function labelFor(
  method: { id: string; label: Readonly<Record<string, string>> },
  locale: string,
  defaultLocale = 'en',
): string {
  const l = method.label;
  const primary = locale.split('-')[0] ?? locale;
  return l[locale] ?? l[primary] ?? l[defaultLocale] ?? l.en ?? Object.values(l)[0] ?? method.id;
}

export interface ProcessingTimeView {
  instant: boolean;
  minMinutes: number;
  maxMinutes: number;
  /** e.g. "Instant", "Up to 30 minutes", "1–3 days", in the requested locale. */
  text: string;
}

type Unit = 'minute' | 'hour' | 'day';
const UNITS: Record<'en' | 'de' | 'es', Record<Unit, [string, string]> & { instant: string; upTo: string }> = {
  en: { minute: ['minute', 'minutes'], hour: ['hour', 'hours'], day: ['day', 'days'], instant: 'Instant', upTo: 'Up to' },
  de: { minute: ['Minute', 'Minuten'], hour: ['Stunde', 'Stunden'], day: ['Tag', 'Tage'], instant: 'Sofort', upTo: 'Bis zu' },
  es: { minute: ['minuto', 'minutos'], hour: ['hora', 'horas'], day: ['día', 'días'], instant: 'Inmediato', upTo: 'Hasta' },
};

/**
 * A processing time for display. The unit follows the maximum: minutes below 2 hours, hours below
 * 2 days, else days; the minimum rounds down and the maximum up to that unit (never promising less).
 */
export function processingTimeView(pt: ProcessingTime, locale: string): ProcessingTimeView {
  const words = UNITS[(locale.split('-')[0] ?? 'en') as keyof typeof UNITS] ?? UNITS.en;
  if (pt === 'instant') return { instant: true, minMinutes: 0, maxMinutes: 0, text: words.instant };
  const { minMinutes, maxMinutes } = pt;
  if (maxMinutes === 0) return { instant: true, minMinutes: 0, maxMinutes: 0, text: words.instant };
  const [unit, size]: [Unit, number] = maxMinutes < 120 ? ['minute', 1] : maxMinutes < 2 * 1440 ? ['hour', 60] : ['day', 1440];
  const lo = Math.floor(minMinutes / size);
  const hi = Math.ceil(maxMinutes / size);
  const name = words[unit][hi === 1 ? 0 : 1];
  const text = lo === 0 ? `${words.upTo} ${hi} ${name}` : lo === hi ? `${hi} ${name}` : `${lo}–${hi} ${name}`;
  return { instant: false, minMinutes, maxMinutes, text };
}

/** Money JSON of a decimal config amount (canonical decimals). */
export const configMoney = (decimal: string, currency: string): MoneyJson =>
  formatMoney({ amount: toMinor(decimal, currency), currency });
