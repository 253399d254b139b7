/**
 * Trading account types as tenant data: what a broker offers per platform, jurisdiction and client type
 * (Standard, Raw, Swap-free, ...), each mapped to a platform group, and the leverage a client may choose.
 *
 * Invariants:
 * - a type is offered to a client when the tenant offers its platform, it lists the client's jurisdiction and
 *   client type, and it has the requested kind (live or demo); nothing else decides it (no code branches)
 * - every kind a type offers has its own platform group (live and demo servers keep them apart), per currency
 *   through a `{currency}` placeholder when the type has several (an MT4/MT5 group has one deposit currency)
 * - the leverage a client asks for must be one of the type's options AND at most the client's account cap:
 *   the highest per-class cap of the client's jurisdiction and client type (tenant onboarding leverage caps,
 *   ESMA 30:1 for retail by default). Per-instrument caps below it (20:1 gold, 2:1 crypto, ...) are the
 *   platform group's margin settings, which the simulator applies per class. A refusal names the cap:
 *   422 leverage_above_cap with meta { cap } and the field error on `leverage`; an option the type does not
 *   offer is 422 leverage_not_offered
 * - amounts are decimal strings per currency in the file and bigint minor units once read (minFirstDeposit,
 *   commissionPerLot, demoStartingBalance); a currency the type does not list is refused at load
 */
import * as z from 'zod';
import { DomainError } from '../errors.ts';
import { toMinor } from '../money/index.ts';
import { CLIENT_TYPES, type ClientType, INSTRUMENT_CLASSES, type InstrumentClass } from '../onboarding/catalog.ts';
import { PLATFORMS, type Platform } from './port.ts';

export const ACCOUNT_KINDS = ['live', 'demo'] as const;
/** Replaced by the account currency, lower case, in a type's group names. */
export const CURRENCY_PLACEHOLDER = '{currency}';
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

/** The highest leverage (N for N:1) a type may offer. */
export const MAX_ACCOUNT_LEVERAGE = 3000;

const currencyCode = z.string().regex(/^[A-Z][A-Z0-9]{2,5}$/, 'ISO 4217-style currency code');
const decimalAmount = z.string().regex(/^\d{1,15}(\.\d{1,18})?$/, 'decimal string such as 100.00');
const locale = z.string().regex(/^[a-z]{2}(-[A-Z]{2})?$/, 'BCP 47 locale such as en or de-DE');
const amounts = z.record(currencyCode, decimalAmount);
const unique = <T>(xs: readonly T[]) => new Set(xs).size === xs.length;

export const AccountTypeSchema = z
  .strictObject({
    /** Stable id, kebab-case ('standard', 'raw-spread'): accounts refer to it. */
    id: z
      .string()
      .max(40)
      .regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, "kebab-case id such as 'raw-spread'"),
    /** Display name per locale. */
    label: z.record(locale, z.string().trim().min(1).max(60)),
    platform: z.enum(PLATFORMS),
    kinds: z.array(z.enum(ACCOUNT_KINDS)).min(1).refine(unique, 'kinds must not repeat'),
    /**
     * The platform group per kind. A group has one deposit currency on MT4/MT5, so a type in several currencies
     * names its groups with a `{currency}` placeholder (lower case when substituted):
     * { live: 'real\\standard-{currency}', demo: 'demo\\standard-{currency}' }.
     */
    groups: z.strictObject({
      live: z.string().min(1).max(64).optional(),
      demo: z.string().min(1).max(64).optional(),
    }),
    currencies: z.array(currencyCode).min(1).refine(unique, 'currencies must not repeat'),
    /** The leverages (N for N:1) a client may choose, ascending. */
    leverageOptions: z
      .array(z.number().int().min(1).max(MAX_ACCOUNT_LEVERAGE))
      .min(1)
      .refine((l) => l.every((x, i) => i === 0 || l[i - 1]! < x), 'leverageOptions must be ascending without repeats'),
    /** Where it is offered (jurisdiction codes) and to whom. */
    jurisdictions: z
      .array(z.string().regex(/^[A-Z]{2,5}$/))
      .min(1)
      .refine(unique, 'jurisdictions must not repeat'),
    clientTypes: z
      .array(z.enum(CLIENT_TYPES))
      .min(1)
      .refine(unique, 'clientTypes must not repeat')
      .default([...CLIENT_TYPES]),
    /** The smallest first transfer into a new live account, per currency (none: no minimum). */
    minFirstDeposit: amounts.default({}),
    /** Commission per lot per side charged on the platform, per account currency (the IB programme reads it). */
    commissionPerLot: amounts.default({}),
    /** Markup over the raw spread, in points (the IB programme reads it). */
    spreadMarkupPoints: z.number().int().min(0).max(10_000).default(0),
    swapFree: z.boolean().default(false),
    /** What a new demo account starts with, per currency. */
    demoStartingBalance: amounts.default({}),
  })
  .superRefine((t, ctx) => {
    for (const kind of t.kinds) {
      const group = t.groups[kind];
      if (!group) ctx.addIssue({ code: 'custom', path: ['groups', kind], message: `a ${kind} account needs a group` });
      else if (t.currencies.length > 1 && !group.includes(CURRENCY_PLACEHOLDER)) {
        ctx.addIssue({
          code: 'custom',
          path: ['groups', kind],
          message: `a type in several currencies needs ${CURRENCY_PLACEHOLDER} in its group (one deposit currency per group)`,
        });
      }
    }
    for (const field of ['minFirstDeposit', 'commissionPerLot', 'demoStartingBalance'] as const) {
      for (const [cur, amount] of Object.entries(t[field])) {
        if (!t.currencies.includes(cur)) {
          ctx.addIssue({ code: 'custom', path: [field, cur], message: 'currency must be one of the type currencies' });
          continue;
        }
        try {
          toMinor(amount, cur);
        } catch {
          ctx.addIssue({ code: 'custom', path: [field, cur], message: `not a valid ${cur} amount` });
        }
      }
    }
    if (Object.keys(t.demoStartingBalance).length > 0 && !t.kinds.includes('demo')) {
      ctx.addIssue({ code: 'custom', path: ['demoStartingBalance'], message: 'only a type with demo accounts starts a balance' });
    }
  });
export type AccountType = z.output<typeof AccountTypeSchema>;

export const TradingConfigSchema = z.strictObject({
  /** The platforms the tenant offers (each needs its connection configured where it is deployed). */
  platforms: z.array(z.enum(PLATFORMS)).refine(unique, 'platforms must not repeat').default([]),
  accountTypes: z
    .array(AccountTypeSchema)
    .max(50)
    .refine((ts) => unique(ts.map((t) => t.id)), 'account type ids must not repeat')
    .default([]),
  /** Open accounts per client and kind. */
  maxAccountsPerClient: z
    .strictObject({ live: z.number().int().min(1).max(100).default(5), demo: z.number().int().min(1).max(100).default(5) })
    .prefault({}),
});
export type TradingConfig = z.output<typeof TradingConfigSchema>;

export interface ClientProfile {
  jurisdiction: string;
  clientType: ClientType;
}

/** The types a client may open, in file order; with `kind`, only those offering it. */
export function offeredAccountTypes(cfg: TradingConfig, client: ClientProfile, kind?: AccountKind): AccountType[] {
  return cfg.accountTypes.filter(
    (t) =>
      cfg.platforms.includes(t.platform) &&
      t.jurisdictions.includes(client.jurisdiction) &&
      t.clientTypes.includes(client.clientType) &&
      (kind === undefined || t.kinds.includes(kind)),
  );
}

/** The type `id` if the client may open it as `kind`; else 404 account_type_not_found (unknown and not offered look alike). */
export function accountTypeFor(cfg: TradingConfig, client: ClientProfile, id: string, kind: AccountKind): AccountType {
  const t = offeredAccountTypes(cfg, client, kind).find((x) => x.id === id);
  if (!t) {
    throw new DomainError('account_type_not_found', 'not_found', `No ${kind} account type '${id}' is offered to this client`, [
      { field: 'accountType', code: 'account_type_not_found', message: 'Not offered' },
    ]);
  }
  return t;
}

/** The account-level cap: the highest per-class cap (N for N:1) of the client's jurisdiction and client type. */
export function accountLeverageCap(caps: Readonly<Record<InstrumentClass, number>>): number {
  return Math.max(...INSTRUMENT_CLASSES.map((c) => caps[c]));
}

/**
 * The leverage a client may have on an account of `type`: one of its options, at most the cap. Throws 422
 * leverage_not_offered / leverage_above_cap (which names the cap) otherwise.
 */
export function checkLeverage(type: AccountType, requested: number, caps: Readonly<Record<InstrumentClass, number>>): number {
  if (!type.leverageOptions.includes(requested)) {
    throw new DomainError(
      'leverage_not_offered',
      'unprocessable',
      `Leverage 1:${requested} is not offered on this account type (options: ${type.leverageOptions.map((l) => `1:${l}`).join(', ')})`,
      [{ field: 'leverage', code: 'leverage_not_offered', message: 'Not one of the options' }],
      { options: type.leverageOptions },
    );
  }
  const cap = accountLeverageCap(caps);
  if (requested > cap) {
    throw new DomainError(
      'leverage_above_cap',
      'unprocessable',
      `Leverage 1:${requested} is above the 1:${cap} cap that applies to this client`,
      [{ field: 'leverage', code: 'leverage_above_cap', message: `At most 1:${cap}` }],
      { cap },
    );
  }
  return requested;
}

/** The options a client may actually choose on `type` (those within the cap). */
export const leverageChoices = (type: AccountType, caps: Readonly<Record<InstrumentClass, number>>): number[] =>
  type.leverageOptions.filter((l) => l <= accountLeverageCap(caps));

/** The platform group of a `kind` account of `type` in `currency` (the `{currency}` placeholder substituted). */
export function groupFor(type: AccountType, kind: AccountKind, currency: string): string {
  const group = type.groups[kind];
  if (!group) throw new Error(`account type ${type.id} has no ${kind} group`);
  return group.replaceAll(CURRENCY_PLACEHOLDER, currency.toLowerCase());
}

/** A type's amounts read as minor units of `currency` (undefined when the type has none for it). */
export function typeAmount(
  type: AccountType,
  field: 'minFirstDeposit' | 'commissionPerLot' | 'demoStartingBalance',
  currency: string,
): bigint | undefined {
  const v = type[field][currency];
  return v === undefined ? undefined : toMinor(v, currency);
}

export type { Platform };
