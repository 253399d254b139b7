/**
 * Tenant (brand) configuration: one JSON file per tenant under infra/tenants/, validated here.
 * The CDK stack reads it at synth time and inlines it into every bundle; the local runtime
 * reads the same file. Business rules that vary per tenant live here as data, not code branches.
 */
import * as z from 'zod';
import { CopyConfigSchema } from '../copy/config.ts';
import { isCurrency, toMinor } from '../money/index.ts';
import {
  DOCUMENT_SIDES,
  ESMA_RETAIL_LEVERAGE,
  IDENTITY_DOCUMENT_TYPES,
  INSTRUMENT_CLASSES,
  MAX_CONFIGURABLE_LEVERAGE,
  PROOF_OF_ADDRESS_TYPES,
  QUESTIONNAIRE_IDS,
} from '../onboarding/catalog.ts';
import { PartnersConfigSchema } from '../partners/config.ts';
import {
  DEFAULT_ORDER_KEY,
  MAX_FEE_BPS,
  MAX_PROCESSING_MINUTES,
  PAYMENT_DIRECTIONS,
  PAYMENT_METHOD_KINDS,
} from '../payments/catalog.ts';
import { feeMinor } from '../payments/fees.ts';
import { offeredIn, regionsCover, resolveRegion } from '../payments/regions.ts';
import { TradingConfigSchema } from '../trading/account-types.ts';
import { ADAPTED_PLATFORMS } from '../trading/port.ts';

const currencyCode = z.string().regex(/^[A-Z][A-Z0-9]{2,5}$/, 'ISO 4217-style currency code');
const countryCode = z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 country code');
const locale = z.string().regex(/^[a-z]{2}(-[A-Z]{2})?$/, 'BCP 47 locale such as en or de-DE');

export const JurisdictionSchema = z.strictObject({
  /** e.g. EU (ESMA), UK (FCA), AU (ASIC), ROW */
  code: z.string().regex(/^[A-Z]{2,5}$/),
  regulator: z.string().min(2).max(40),
  countries: z.array(countryCode).min(1),
});

/** A decimal string in major units, e.g. '10000.00' (the currency's exponent is checked where it is used). */
const decimalAmount = z.string().regex(/^\d{1,15}(\.\d{1,18})?$/, 'decimal string such as 10000.00');
/** A positive decimal rate, e.g. '1.0850'. */
const decimalRate = z
  .string()
  .regex(/^\d{1,12}(\.\d{1,12})?$/, 'decimal rate such as 1.0850')
  .refine((s) => /[1-9]/.test(s), 'rate must be positive');
/** An FX pair: base then quote, 'EURUSD' or 'EUR/USD' (the slash form for ambiguous codes). */
const fxPair = z.string().regex(/^[A-Z][A-Z0-9]{2,5}\/?[A-Z][A-Z0-9]{2,5}$/, "pair such as 'EURUSD' or 'EUR/USDT'");

export const LedgerConfigSchema = z.strictObject({
  /** Adjustments at or above this amount (converted to its currency) need a second finance user. Default: 10,000.00 base. */
  adjustmentApprovalThreshold: z.strictObject({ amount: decimalAmount, currency: currencyCode }).optional(),
  /** Balance shards of hot house accounts (fee income, PSP clearing, FX position). */
  houseAccountShards: z.number().int().min(1).max(64).default(8),
  /** Lifetime of an open hold before reconciliation expires it. */
  holdTtlHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .default(72),
});

export const FxConfigSchema = z.strictObject({
  /** 'static': the rates below (mid rates; quote units per one base unit). */
  source: z.literal('static').default('static'),
  rates: z.record(fxPair, decimalRate).default({}),
  /** Spread taken on client FX conversions, in basis points of the rate. */
  markupBps: z.number().int().min(0).max(1000).default(0),
});

/** Leverage N (for N:1) per instrument class; a class left out gets the ESMA retail cap (the conservative default). */
const leverage = z.number().int().min(1).max(MAX_CONFIGURABLE_LEVERAGE);
export const LeverageCapsSchema = z.strictObject(
  Object.fromEntries(INSTRUMENT_CLASSES.map((c) => [c, leverage.default(ESMA_RETAIL_LEVERAGE[c])])) as {
    [K in (typeof INSTRUMENT_CLASSES)[number]]: z.ZodDefault<typeof leverage>;
  },
);

const IdentityDocumentSchema = z.strictObject({
  type: z.enum(IDENTITY_DOCUMENT_TYPES),
  /** The sides to upload: a passport's photo page is 'front' only; cards are front and back. */
  sides: z
    .array(z.enum(DOCUMENT_SIDES))
    .min(1)
    .refine((s) => new Set(s).size === s.length, 'sides must not repeat'),
});

const DEFAULT_IDENTITY_DOCUMENTS = [
  { type: 'passport', sides: ['front'] },
  { type: 'national_id', sides: ['front', 'back'] },
  { type: 'driving_licence', sides: ['front', 'back'] },
  { type: 'residence_permit', sides: ['front', 'back'] },
] as const;

export const DocumentRequirementsSchema = z.strictObject({
  /** The client uploads ONE of these. */
  identity: z
    .strictObject({
      accepted: z
        .array(IdentityDocumentSchema)
        .min(1)
        .refine((a) => new Set(a.map((d) => d.type)).size === a.length, 'each document type at most once')
        .default(DEFAULT_IDENTITY_DOCUMENTS.map((d) => ({ type: d.type, sides: [...d.sides] }))),
    })
    .prefault({}),
  proofOfAddress: z
    .strictObject({
      required: z.boolean().default(true),
      /** The document must be issued no more than this many days before upload. */
      maxAgeDays: z.number().int().min(1).max(366).default(90),
      accepted: z
        .array(z.enum(PROOF_OF_ADDRESS_TYPES))
        .min(1)
        .default([...PROOF_OF_ADDRESS_TYPES]),
    })
    .prefault({}),
  selfie: z.strictObject({ required: z.boolean().default(false) }).prefault({}),
});

export const ClientTypeOnboardingSchema = z.strictObject({
  documents: DocumentRequirementsSchema.prefault({}),
  /** The suitability/appropriateness questionnaire to complete, e.g. 'mifid2-appropriateness' for EU retail. */
  questionnaire: z.enum(QUESTIONNAIRE_IDS).optional(),
  leverageCaps: LeverageCapsSchema.prefault({}),
});

/** CySEC-style allowance: a client may deposit up to `limit` within `maxDays` of registering, before verification. */
export const PreVerificationDepositSchema = z.strictObject({
  enabled: z.boolean().default(false),
  limit: z.strictObject({ amount: decimalAmount, currency: currencyCode }).default({ amount: '2000.00', currency: 'EUR' }),
  maxDays: z.number().int().min(1).max(366).default(15),
});

export const JurisdictionOnboardingSchema = z.strictObject({
  retail: ClientTypeOnboardingSchema.prefault({}),
  professional: ClientTypeOnboardingSchema.prefault({}),
  preVerificationDeposit: PreVerificationDepositSchema.optional(),
});
export type JurisdictionOnboarding = z.output<typeof JurisdictionOnboardingSchema>;

/**
 * Onboarding rules per jurisdiction code (EU, UK, AU, ROW...) and client type. A jurisdiction left
 * out gets the defaults: every identity document type, proof of address <= 90 days, no selfie,
 * no questionnaire, ESMA retail leverage caps for both client types, no pre-verification deposits.
 */
export const OnboardingConfigSchema = z.strictObject({
  jurisdictions: z.record(z.string().regex(/^[A-Z]{2,5}$/), JurisdictionOnboardingSchema).default({}),
});

/** How KYC submissions are checked and reviewed (domain/kyc). */
export const KycConfigSchema = z.strictObject({
  /** Hard issues sent to manual review (high priority) instead of automatic rejection. */
  escalate: z.array(z.string().regex(/^[a-z_]+$/)).default(['sanctions_hit']),
  /** A manual review older than this breaches its SLA (shown in the queue). */
  reviewSlaHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 14)
    .default(24),
  /** Documents expiring within this many days are flagged (at checks and by the daily expiry job). */
  expiringSoonDays: z.number().int().min(1).max(180).default(30),
  /** Fields extracted below this confidence (0..100) send the submission to manual review. */
  minConfidence: z.number().int().min(1).max(100).default(80),
  /** Name similarity (0..1) at or above which names match. */
  nameThreshold: z.number().min(0.5).max(1).default(0.85),
});
export type KycConfig = z.output<typeof KycConfigSchema>;

/** Decimal amounts per currency code, e.g. { "USD": "25.00" } (each checked against its currency's exponent). */
const amountsByCurrency = z.record(currencyCode, decimalAmount);

/**
 * A method's fee for one direction: `fixed[currency]` + `percentBps` of the amount (rounded half-even
 * to the minor unit), the total clamped to [`minimum[currency]`, `maximum[currency]`]. A currency left
 * out of a map has no fixed part / no floor / no cap. A direction without a fee entry is free.
 */
export const PaymentFeeSchema = z.strictObject({
  fixed: amountsByCurrency.default({}),
  percentBps: z.number().int().min(0).max(MAX_FEE_BPS).default(0),
  minimum: amountsByCurrency.default({}),
  maximum: amountsByCurrency.default({}),
});
export type PaymentFee = z.output<typeof PaymentFeeSchema>;

const minutes = z.number().int().min(0).max(MAX_PROCESSING_MINUTES);
/** 'instant', or a range in minutes (a wire: { minMinutes: 1440, maxMinutes: 4320 } for 1-3 days). */
export const ProcessingTimeSchema = z.union([
  z.literal('instant'),
  z.strictObject({ minMinutes: minutes, maxMinutes: minutes }).refine((t) => t.minMinutes <= t.maxMinutes, {
    message: 'minMinutes must not exceed maxMinutes',
    path: ['minMinutes'],
  }),
]);
export type ProcessingTime = z.output<typeof ProcessingTimeSchema>;

/** A jurisdiction code (EU, ROW) or an ISO country code (DE); a key naming a jurisdiction is that jurisdiction. */
const regionCode = z.string().regex(/^[A-Z]{2,5}$/, 'jurisdiction code such as EU or country code such as DE');

export const PaymentMethodSchema = z.strictObject({
  /** Stable id, kebab-case: 'sepa-wire'. Later deposits and withdrawals refer to it. */
  id: z
    .string()
    .max(40)
    .regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, "kebab-case id such as 'sepa-wire'"),
  kind: z.enum(PAYMENT_METHOD_KINDS),
  /** Display name per locale; every tenant locale must have one. */
  label: z.record(locale, z.string().trim().min(1).max(60)),
  /** The PSP adapter that processes it ('sandbox' locally). */
  provider: z.string().regex(/^[a-z][a-z0-9-]{1,30}$/, "lower-case provider id such as 'sandbox'"),
  directions: z
    .array(z.enum(PAYMENT_DIRECTIONS))
    .min(1)
    .refine((d) => new Set(d).size === d.length, 'directions must not repeat'),
  currencies: z
    .array(currencyCode)
    .min(1)
    .refine((c) => new Set(c).size === c.length, 'currencies must not repeat'),
  /** Per currency, in that currency: the smallest and largest single payment (both directions). */
  limits: z.record(currencyCode, z.strictObject({ min: decimalAmount, max: decimalAmount })),
  fees: z.strictObject({ deposit: PaymentFeeSchema.optional(), withdrawal: PaymentFeeSchema.optional() }).prefault({}),
  /** Shown before the client commits; required for every direction the method supports. */
  processingTime: z.strictObject({
    deposit: ProcessingTimeSchema.optional(),
    withdrawal: ProcessingTimeSchema.optional(),
  }),
  /** Where it is offered: jurisdiction codes and/or country codes. */
  regions: z
    .array(regionCode)
    .min(1)
    .refine((r) => new Set(r).size === r.length, 'regions must not repeat'),
  /** Countries inside `regions` where it is nevertheless not offered. */
  excludedCountries: z.array(countryCode).default([]),
  /**
   * Position in the list (ascending) per region: a country's entry beats its jurisdiction's, which
   * beats `default`; unlisted everywhere = after every ordered method. Ties keep the file's order.
   */
  displayOrder: z.record(z.union([z.literal(DEFAULT_ORDER_KEY), regionCode]), z.number().int().min(0).max(999_999)).default({}),
});
export type PaymentMethodConfig = z.output<typeof PaymentMethodSchema>;

/** Deposit intents: how long a client has to pay before the intent expires. */
export const DepositPolicySchema = z.strictObject({
  /** Card, e-wallet and crypto intents. */
  intentTtlMinutes: z
    .number()
    .int()
    .min(5)
    .max(60 * 24 * 14)
    .default(60),
  /** Bank wires take days to arrive: their intents (and the reference the client quotes) live longer. */
  wireIntentTtlHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(24 * 7),
});

/**
 * Withdrawal approval (step-functions/withdrawal-approval.asl.json, domain/payments/withdrawal-checks.ts).
 * Amounts are gross, per currency; a currency left out of autoApproveMax is never approved automatically.
 */
export const WithdrawalPolicySchema = z.strictObject({
  /** A withdrawal whose every check is clean is approved without a human up to this gross. */
  autoApproveMax: amountsByCurrency.default({}),
  /** AML: a single withdrawal at or above this gross goes to review. */
  largeAmount: amountsByCurrency.default({}),
  /** AML round trip: deposits completed within this many hours before the request are "recent". */
  roundTripHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(72),
  /** ... and withdrawing at least this share (percent) of them ... */
  roundTripSharePercent: z.number().int().min(1).max(100).default(50),
  /** ... with trading turnover since below this share (percent) of them, is flagged. */
  minTurnoverPercent: z.number().int().min(0).max(10_000).default(100),
  /** A manual review not decided within this many days ends the request (failed, review_expired; funds released). */
  reviewTimeoutDays: z.number().int().min(1).max(60).default(14),
  /** A payout the provider has not confirmed within this many hours fails (payout_expired; funds released). */
  payoutTimeoutHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 14)
    .default(72),
});
export type WithdrawalPolicy = z.output<typeof WithdrawalPolicySchema>;

/** Deposit and withdrawal methods and policies (domain/payments). */
export const PaymentsConfigSchema = z.strictObject({
  methods: z.array(PaymentMethodSchema).max(50).default([]),
  deposits: DepositPolicySchema.prefault({}),
  withdrawals: WithdrawalPolicySchema.prefault({}),
});
export type PaymentsConfig = z.output<typeof PaymentsConfigSchema>;

/** Account types only name enabled currencies, known jurisdictions and platforms the tenant offers. */
function checkTrading(
  cfg: {
    currencies: string[];
    jurisdictions: { code: string }[];
    trading: z.output<typeof TradingConfigSchema>;
  },
  ctx: z.RefinementCtx,
): void {
  const codes = cfg.jurisdictions.map((j) => j.code);
  cfg.trading.platforms.forEach((p, i) => {
    if (!ADAPTED_PLATFORMS.includes(p)) {
      ctx.addIssue({
        code: 'custom',
        path: ['trading', 'platforms', i],
        message: `no adapter for ${p} in this build (adapted: ${ADAPTED_PLATFORMS.join(', ')})`,
      });
    }
  });
  cfg.trading.accountTypes.forEach((t, i) => {
    const at = (...p: (string | number)[]) => ['trading', 'accountTypes', i, ...p];
    if (!cfg.trading.platforms.includes(t.platform)) {
      ctx.addIssue({ code: 'custom', path: at('platform'), message: 'platform must be one of trading.platforms' });
    }
    t.currencies.forEach((c, k) => {
      if (!cfg.currencies.includes(c))
        ctx.addIssue({ code: 'custom', path: at('currencies', k), message: 'currency must be enabled' });
    });
    t.jurisdictions.forEach((j, k) => {
      if (!codes.includes(j)) ctx.addIssue({ code: 'custom', path: at('jurisdictions', k), message: 'unknown jurisdiction' });
    });
  });
}

/** A lower-case DNS name with at least one dot: labels of a-z0-9 and inner dashes, a TLD starting with a letter. */
const DNS_NAME = /^(?=.{3,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Whether a string is a time zone name the runtime knows (an IANA name such as Europe/London, or UTC).
 * UTC offsets such as +02:00 are refused: newer runtimes accept them, but they are not zones (no DST).
 */
function isTimeZone(timeZone: string): boolean {
  if (!/^[A-Za-z]/.test(timeZone)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** Production tenants keep their audit trail at least this long (MiFID II art. 16(6) / AML record keeping: 5 years). */
export const MIN_PRODUCTION_AUDIT_YEARS = 5;
const DEFAULT_AUDIT_YEARS = 7;

/**
 * How long audit records are locked (S3 Object Lock default retention of the audit bucket): exactly
 * one of `retentionYears` or `retentionDays`; neither = 7 years. `retentionDays` is for non-production
 * tenants only (a demo keeps its trail a day); a production tenant needs `retentionYears` >= 5.
 */
export const AuditConfigSchema = z
  .strictObject({
    retentionYears: z.number().int().min(1).max(100).optional(),
    retentionDays: z.number().int().min(1).max(36_500).optional(),
  })
  .superRefine((a, ctx) => {
    if (a.retentionYears !== undefined && a.retentionDays !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['retentionDays'], message: 'give retentionYears or retentionDays, not both' });
    }
  })
  .transform(
    (a): { retentionYears: number; retentionDays?: undefined } | { retentionYears?: undefined; retentionDays: number } =>
      a.retentionDays !== undefined
        ? { retentionDays: a.retentionDays }
        : { retentionYears: a.retentionYears ?? DEFAULT_AUDIT_YEARS },
  );

export const EMAIL_TRANSPORTS = ['ses', 'table'] as const;
export type EmailTransport = (typeof EMAIL_TRANSPORTS)[number];

/**
 * How client emails leave: 'ses' sends through Amazon SES from brand.supportEmail, which needs a
 * domain the tenant owns and can verify (brand.domain, not a reserved name); 'table' only writes each
 * rendered message to the table (the mailbox the back office and the local runtime read), for a
 * tenant without a domain of its own such as the demo. Production tenants must use 'ses'. Locally
 * (STAGE=local) every tenant uses the table.
 */
export const EmailConfigSchema = z.strictObject({
  transport: z.enum(EMAIL_TRANSPORTS).default('ses'),
});

/** Top-level names reserved by RFC 2606 / RFC 6761 (never delegated, so never verifiable). */
const RESERVED_TLDS = ['test', 'example', 'invalid', 'localhost'];
/** Second-level names reserved by RFC 2606 (IANA-held: nobody else can verify them). */
const RESERVED_DOMAINS = ['example.com', 'example.net', 'example.org'];

/** Whether a domain (or a subdomain of one) is reserved for documentation/testing and can never be verified by SES. */
export function reservedDomain(domain: string): boolean {
  const d = domain.trim().toLowerCase().replace(/\.$/, '');
  const tld = d.slice(d.lastIndexOf('.') + 1);
  return RESERVED_TLDS.includes(tld) || RESERVED_DOMAINS.some((r) => d === r || d.endsWith(`.${r}`));
}

/** A browser origin: scheme, host and optional port; no path, query or trailing slash. */
const origin = z
  .string()
  .max(253)
  .regex(/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/, 'an origin such as https://app.example.com (no path)');

export const TenantConfigSchema = z
  .strictObject({
    tenant: z.string().regex(/^[a-z][a-z0-9-]{1,30}$/, 'lower-case tenant id'),
    /**
     * Whether this tenant serves real clients. REQUIRED, with no default: a forgotten flag must never
     * silently turn a production tenant into a test one (or the reverse). It decides:
     * - production: the audit bucket's Object Lock is COMPLIANCE mode for `audit.retentionYears`
     *   (at least 5; nobody, root included, can shorten it), deletion protection is on, and the
     *   tenant's data is retained when the stack is deleted; email must go out through SES
     * - non-production (demos, staging): Object Lock is GOVERNANCE mode with a short retention
     *   (`audit.retentionDays` allowed), and the data is deleted with the stack
     */
    production: z.boolean({
      error: (iss) => (iss.input === undefined ? 'required: true for a tenant serving real clients, else false' : undefined),
    }),
    brand: z.strictObject({
      name: z.string().min(1).max(80),
      /** The From address of every email (and the SES identity's address with email.transport 'ses'). */
      supportEmail: z.email(),
      /** The brand's own DNS domain, lower case (e.g. acme-trading.co.uk); required with email.transport 'ses'. */
      domain: z.string().max(253).regex(DNS_NAME, 'lower-case DNS name such as acme-trading.co.uk').optional(),
    }),
    /**
     * IANA time zone of the business (default UTC), checked against the runtime's zone data:
     * business-facing schedules (fee settlement, IB payouts, daily reports) run in it.
     */
    timezone: z.string().default('UTC').refine(isTimeZone, 'unknown IANA time zone'),
    baseCurrency: currencyCode,
    currencies: z.array(currencyCode).min(1),
    jurisdictions: z.array(JurisdictionSchema).min(1),
    restrictedCountries: z.array(countryCode).default([]),
    locales: z.array(locale).min(1),
    defaultLocale: locale,
    audit: AuditConfigSchema,
    api: z
      .strictObject({
        rateLimitPer5Min: z.number().int().min(100).max(20_000_000).default(2000),
        /** Per-IP requests per 5 minutes on the PSP webhook path (providers deliver from a few addresses). */
        webhookRateLimitPer5Min: z.number().int().min(100).max(20_000_000).default(20_000),
        throttleRps: z.number().int().min(1).max(10_000).default(50),
        throttleBurst: z.number().int().min(1).max(5_000).default(100),
        /**
         * Further browser origins the API answers with CORS headers, besides https://app.<brand.domain> and
         * https://<brand.domain> (e.g. a developer's trader-room dev server against a test tenant). A deployed
         * tenant must have at least one origin from either; production origins must be https.
         */
        corsOrigins: z.array(origin).max(20).default([]),
      })
      .prefault({}),
    alarmEmail: z.email().optional(),
    ledger: LedgerConfigSchema.default({ houseAccountShards: 8, holdTtlHours: 72 }),
    fx: FxConfigSchema.default({ source: 'static', rates: {}, markupBps: 0 }),
    onboarding: OnboardingConfigSchema.prefault({}),
    kyc: KycConfigSchema.prefault({}),
    payments: PaymentsConfigSchema.prefault({}),
    email: EmailConfigSchema.prefault({}),
    /** Trading platforms and account types (domain/trading/account-types.ts). */
    trading: TradingConfigSchema.prefault({}),
    /** Copy trading: sizing policy, signal age, fee caps and split, exposure alert (domain/copy/config.ts). */
    copy: CopyConfigSchema.prefault({}),
    /** Introducing brokers: attribution policy, network depth, clawback window, payout minimums (domain/partners/config.ts). */
    partners: PartnersConfigSchema.prefault({}),
  })
  .superRefine((cfg, ctx) => {
    checkProduction(cfg, ctx);
    checkTrading(cfg, ctx);
    checkEmail(cfg, ctx);
    if (!cfg.currencies.includes(cfg.baseCurrency)) {
      ctx.addIssue({ code: 'custom', path: ['baseCurrency'], message: 'baseCurrency must be one of currencies' });
    }
    if (!cfg.locales.includes(cfg.defaultLocale)) {
      ctx.addIssue({ code: 'custom', path: ['defaultLocale'], message: 'defaultLocale must be one of locales' });
    }
    const threshold = cfg.ledger.adjustmentApprovalThreshold;
    if (threshold && !cfg.currencies.includes(threshold.currency)) {
      ctx.addIssue({
        code: 'custom',
        path: ['ledger', 'adjustmentApprovalThreshold', 'currency'],
        message: 'threshold currency must be one of currencies',
      });
    }
    for (const pair of Object.keys(cfg.fx.rates)) {
      if (!splitPair(pair, cfg.currencies)) {
        ctx.addIssue({
          code: 'custom',
          path: ['fx', 'rates', pair],
          message: 'pair must be two different enabled currencies, unambiguously split (use EUR/USDT when in doubt)',
        });
      }
    }
    const codes = cfg.jurisdictions.map((j) => j.code);
    for (const [code, rules] of Object.entries(cfg.onboarding.jurisdictions)) {
      if (!codes.includes(code)) {
        ctx.addIssue({
          code: 'custom',
          path: ['onboarding', 'jurisdictions', code],
          message: `not an enabled jurisdiction (one of ${codes.join(', ')})`,
        });
      }
      const pvd = rules.preVerificationDeposit;
      if (pvd?.enabled && !cfg.currencies.includes(pvd.limit.currency)) {
        ctx.addIssue({
          code: 'custom',
          path: ['onboarding', 'jurisdictions', code, 'preVerificationDeposit', 'limit', 'currency'],
          message: 'limit currency must be one of currencies',
        });
      }
    }
    if (cfg.production) {
      cfg.api.corsOrigins.forEach((o, i) => {
        if (!o.startsWith('https://')) {
          ctx.addIssue({ code: 'custom', path: ['api', 'corsOrigins', i], message: 'a production origin must be https' });
        }
      });
    }
    checkPayments(cfg, ctx);
  })
  .transform((cfg) => ({
    ...cfg,
    onboarding: {
      ...cfg.onboarding,
      // Every enabled jurisdiction has rules after parsing (defaults when the file has none).
      jurisdictions: Object.fromEntries(
        cfg.jurisdictions.map((j) => [j.code, cfg.onboarding.jurisdictions[j.code] ?? JurisdictionOnboardingSchema.parse({})]),
      ) as Record<string, JurisdictionOnboarding>,
    },
    ledger: {
      ...cfg.ledger,
      adjustmentApprovalThreshold: cfg.ledger.adjustmentApprovalThreshold ?? { amount: '10000.00', currency: cfg.baseCurrency },
    },
  }));

export type TenantConfig = z.output<typeof TenantConfigSchema>;

type ProductionInput = Pick<TenantConfig, 'production' | 'audit' | 'email'>;

/** Production tenants: audit retention in years, at least MIN_PRODUCTION_AUDIT_YEARS; email through SES. */
function checkProduction(cfg: ProductionInput, ctx: z.RefinementCtx): void {
  if (!cfg.production) return;
  if (cfg.audit.retentionDays !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['audit', 'retentionDays'],
      message: `only for non-production tenants: a production tenant sets retentionYears (at least ${MIN_PRODUCTION_AUDIT_YEARS}, the MiFID II / AML record-keeping minimum)`,
    });
  } else if (cfg.audit.retentionYears < MIN_PRODUCTION_AUDIT_YEARS) {
    ctx.addIssue({
      code: 'custom',
      path: ['audit', 'retentionYears'],
      message: `a production tenant keeps its audit trail at least ${MIN_PRODUCTION_AUDIT_YEARS} years (MiFID II / AML record-keeping minimum)`,
    });
  }
  if (cfg.email.transport !== 'ses') {
    ctx.addIssue({
      code: 'custom',
      path: ['email', 'transport'],
      message: "a production tenant sends its emails: transport must be 'ses' ('table' only stores them)",
    });
  }
}

/** Email through SES: a verifiable brand.domain (not reserved) and brand.supportEmail at it or a subdomain of it. */
function checkEmail(cfg: Pick<TenantConfig, 'brand' | 'email'>, ctx: z.RefinementCtx): void {
  if (cfg.email.transport !== 'ses') return;
  const { domain, supportEmail } = cfg.brand;
  if (domain === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['brand', 'domain'],
      message:
        "required with email transport 'ses' (SES sends from brand.supportEmail on this verified domain); use 'table' for a tenant without a domain",
    });
    return;
  }
  if (reservedDomain(domain)) {
    ctx.addIssue({
      code: 'custom',
      path: ['brand', 'domain'],
      message: `${domain} is a reserved name (RFC 2606 / RFC 6761) that SES can never verify; use the tenant's own domain, or email transport 'table'`,
    });
  }
  const at = supportEmail.lastIndexOf('@');
  const mailDomain = supportEmail.slice(at + 1).toLowerCase();
  if (mailDomain !== domain && !mailDomain.endsWith(`.${domain}`)) {
    ctx.addIssue({
      code: 'custom',
      path: ['brand', 'supportEmail'],
      message: `must be an address at brand.domain (${domain}) or a subdomain of it: SES sends from it with that domain's identity`,
    });
  }
}

/**
 * The audit bucket's Object Lock default retention: COMPLIANCE for production tenants (nobody can
 * shorten or lift it), GOVERNANCE otherwise (privileged users may, e.g. to delete a demo stack), for
 * the configured years or days.
 */
/**
 * The browser origins a deployed tenant's API answers with CORS headers: the trader room
 * (https://app.<brand.domain>) first (API Gateway's own error responses can name only one origin), then the
 * site, then `api.corsOrigins`. Empty when the file names none: infra refuses to deploy such a tenant.
 */
export function corsOrigins(cfg: Pick<TenantConfig, 'brand' | 'api'>): string[] {
  const fromDomain = cfg.brand.domain ? [`https://app.${cfg.brand.domain}`, `https://${cfg.brand.domain}`] : [];
  return [...new Set([...fromDomain, ...cfg.api.corsOrigins])];
}

export function auditRetention(cfg: Pick<TenantConfig, 'production' | 'audit'>): {
  mode: 'COMPLIANCE' | 'GOVERNANCE';
  years?: number;
  days?: number;
} {
  const mode = cfg.production ? 'COMPLIANCE' : 'GOVERNANCE';
  return cfg.audit.retentionDays !== undefined
    ? { mode, days: cfg.audit.retentionDays }
    : { mode, years: cfg.audit.retentionYears };
}

type PaymentsInput = Pick<TenantConfig, 'currencies' | 'jurisdictions' | 'restrictedCountries' | 'locales' | 'payments'>;

/** Where a region key fails to name an enabled jurisdiction or a served country, why (else undefined). */
function regionProblem(cfg: PaymentsInput, key: string): string | undefined {
  const r = resolveRegion(cfg, key);
  if (r.kind === 'restricted') return `${key} is a restricted country (restrictedCountries)`;
  if (r.kind === 'unknown') {
    return `${key} is neither an enabled jurisdiction (${cfg.jurisdictions.map((j) => j.code).join(', ')}) nor a country of one`;
  }
  return undefined;
}

/**
 * Cross-checks `payments.methods` against the rest of the tenant: ids unique, a label per tenant
 * locale, enabled currencies with limits each (min > 0, min <= max, at most the currency's decimals),
 * fees and processing times only for supported directions (a processing time for every one), fee
 * amounts in method currencies with min <= max and a fee at the minimum amount below that amount,
 * regions that name enabled jurisdictions or served countries, exclusions inside the regions, and
 * display orders only where the method is offered.
 */
function checkPayments(cfg: PaymentsInput, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path: ['payments', 'methods', ...path], message });
  /** Minor units of a configured decimal, or an issue (too many decimals / unknown currency). */
  const minor = (path: (string | number)[], value: string, currency: string): bigint | undefined => {
    if (!isCurrency(currency)) return undefined; // reported once, on the currency itself
    try {
      return toMinor(value, currency);
    } catch (e) {
      issue(path, (e as Error).message);
      return undefined;
    }
  };
  const seen = new Set<string>();
  cfg.payments.methods.forEach((m, i) => {
    if (seen.has(m.id)) issue([i, 'id'], `duplicate payment method id "${m.id}"`);
    seen.add(m.id);

    for (const loc of cfg.locales) {
      if (m.label[loc] === undefined) issue([i, 'label', loc], `missing label for tenant locale ${loc}`);
    }
    for (const loc of Object.keys(m.label)) {
      if (!cfg.locales.includes(loc)) issue([i, 'label', loc], `${loc} is not a tenant locale (${cfg.locales.join(', ')})`);
    }

    m.currencies.forEach((c, k) => {
      if (!isCurrency(c)) issue([i, 'currencies', k], `unknown currency ${c}`);
      else if (!cfg.currencies.includes(c)) issue([i, 'currencies', k], `${c} is not an enabled tenant currency`);
      if (!m.limits[c]) issue([i, 'limits', c], `missing limits for ${c} (every method currency needs { min, max })`);
    });
    const limits = new Map<string, { min: bigint; max: bigint }>();
    for (const [c, l] of Object.entries(m.limits)) {
      if (!m.currencies.includes(c)) {
        issue([i, 'limits', c], `${c} is not one of the method's currencies`);
        continue;
      }
      const min = minor([i, 'limits', c, 'min'], l.min, c);
      const max = minor([i, 'limits', c, 'max'], l.max, c);
      if (min !== undefined && min <= 0n) issue([i, 'limits', c, 'min'], 'min must be greater than zero');
      if (min !== undefined && max !== undefined && min > max) issue([i, 'limits', c, 'max'], 'max must not be below min');
      if (min !== undefined && max !== undefined && min > 0n && min <= max) limits.set(c, { min, max });
    }

    for (const d of PAYMENT_DIRECTIONS) {
      const supported = m.directions.includes(d);
      if (supported && m.processingTime[d] === undefined) {
        issue([i, 'processingTime', d], `required: the method supports ${d}s`);
      }
      if (!supported && m.processingTime[d] !== undefined) {
        issue([i, 'processingTime', d], `the method does not support ${d}s (directions: ${m.directions.join(', ')})`);
      }
      const fee = m.fees[d];
      if (!fee) continue;
      if (!supported) {
        issue([i, 'fees', d], `the method does not support ${d}s (directions: ${m.directions.join(', ')})`);
        continue;
      }
      let valid = true;
      for (const part of ['fixed', 'minimum', 'maximum'] as const) {
        for (const [c, v] of Object.entries(fee[part])) {
          if (!m.currencies.includes(c)) {
            issue([i, 'fees', d, part, c], `${c} is not one of the method's currencies`);
            valid = false;
          } else if (minor([i, 'fees', d, part, c], v, c) === undefined) valid = false;
        }
      }
      if (!valid) continue;
      for (const c of m.currencies) {
        const lo = fee.minimum[c];
        const hi = fee.maximum[c];
        if (lo !== undefined && hi !== undefined && toMinor(lo, c) > toMinor(hi, c)) {
          issue([i, 'fees', d, 'maximum', c], 'maximum fee must not be below minimum fee');
          continue;
        }
        const limit = limits.get(c);
        if (!limit) continue;
        const atMin = feeMinor(fee, limit.min, c).fee;
        if (atMin >= limit.min) {
          issue(
            [i, 'fees', d],
            `the ${c} fee at the minimum amount ${m.limits[c]!.min} must be less than that amount (nothing would arrive)`,
          );
        }
      }
    }

    m.regions.forEach((r, k) => {
      const problem = regionProblem(cfg, r);
      if (problem) issue([i, 'regions', k], problem);
    });
    m.excludedCountries.forEach((c, k) => {
      if (!regionsCover(cfg, m.regions, c)) issue([i, 'excludedCountries', k], `${c} is not in the method's regions`);
    });
    for (const key of Object.keys(m.displayOrder)) {
      if (key === DEFAULT_ORDER_KEY) continue;
      const problem = regionProblem(cfg, key);
      if (problem) {
        issue([i, 'displayOrder', key], problem);
        continue;
      }
      const r = resolveRegion(cfg, key);
      const countries = r.kind === 'jurisdiction' ? r.countries : [key];
      if (!countries.some((c) => offeredIn(cfg, m, c))) issue([i, 'displayOrder', key], `the method is not offered in ${key}`);
    }
  });
}

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

/**
 * Splits an FX pair key into [base, quote] among the enabled currencies: 'EUR/USD' by its slash,
 * 'EURUSD' by the one split whose halves are both enabled. Undefined when none or several fit.
 */
export function splitPair(pair: string, currencies: readonly string[]): [string, string] | undefined {
  const fits = (a: string, b: string) => a !== b && currencies.includes(a) && currencies.includes(b);
  if (pair.includes('/')) {
    const [a = '', b = ''] = pair.split('/');
    return fits(a, b) ? [a, b] : undefined;
  }
  const splits: [string, string][] = [];
  for (let i = 3; i <= pair.length - 3; i++) {
    const a = pair.slice(0, i);
    const b = pair.slice(i);
    if (fits(a, b)) splits.push([a, b]);
  }
  return splits.length === 1 ? splits[0] : undefined;
}

/** An exact positive rational (num / den), for rate arithmetic without floating point. */
export interface Ratio {
  num: bigint;
  den: bigint;
}

export function ratioOf(decimal: string): Ratio {
  const [int = '0', frac = ''] = decimal.split('.');
  return { num: BigInt(int + frac), den: 10n ** BigInt(frac.length) };
}

/** A ratio as a decimal string with at most `places` decimals (half-even), trailing zeros trimmed. */
export function ratioToDecimal(r: Ratio, places = 10): string {
  const scale = 10n ** BigInt(places);
  const scaled = r.num * scale;
  let q = scaled / r.den;
  const rem = scaled % r.den;
  if (rem * 2n > r.den || (rem * 2n === r.den && q % 2n === 1n)) q += 1n;
  const s = q.toString().padStart(places + 1, '0');
  const int = s.slice(0, s.length - places);
  const frac = s.slice(s.length - places).replace(/0+$/, '');
  return frac ? `${int}.${frac}` : int;
}

export interface FxQuote {
  from: string;
  to: string;
  /** Units of `to` per one unit of `from`, as applied (markup included when asked for). */
  rate: string;
  /** The mid rate before markup. */
  midRate: string;
  source: 'static';
  /** How it was derived: the configured pair, its inverse, or a cross through the base currency. */
  via: 'direct' | 'inverse' | 'cross';
  markupBps: number;
}

/**
 * The tenant's rate from one currency to another (units of `to` per unit of `from`): a configured
 * pair, its inverse, or the cross through the base currency. With `markup`, the tenant's spread is
 * taken against the client (rate * (1 - markupBps / 10000)). Undefined when no route exists.
 */
export function fxQuote(cfg: TenantConfig, from: string, to: string, opts: { markup?: boolean } = {}): FxQuote | undefined {
  const markupBps = opts.markup ? cfg.fx.markupBps : 0;
  const mid = midRatio(cfg, from, to);
  if (!mid) return undefined;
  const applied: Ratio = { num: mid.ratio.num * BigInt(10_000 - markupBps), den: mid.ratio.den * 10_000n };
  return {
    from,
    to,
    rate: ratioToDecimal(applied),
    midRate: ratioToDecimal(mid.ratio),
    source: cfg.fx.source,
    via: mid.via,
    markupBps,
  };
}

function directRatio(cfg: TenantConfig, from: string, to: string): { ratio: Ratio; via: 'direct' | 'inverse' } | undefined {
  if (from === to) return { ratio: { num: 1n, den: 1n }, via: 'direct' };
  for (const [pair, rate] of Object.entries(cfg.fx.rates)) {
    const split = splitPair(pair, cfg.currencies);
    if (!split) continue;
    const r = ratioOf(rate);
    if (split[0] === from && split[1] === to) return { ratio: r, via: 'direct' };
    if (split[0] === to && split[1] === from) return { ratio: { num: r.den, den: r.num }, via: 'inverse' };
  }
  return undefined;
}

/** The exact mid rate from one currency to another (direct, inverse or cross through the base), if any. */
export function midRatio(cfg: TenantConfig, from: string, to: string): { ratio: Ratio; via: FxQuote['via'] } | undefined {
  const direct = directRatio(cfg, from, to);
  if (direct) return direct;
  const a = directRatio(cfg, from, cfg.baseCurrency);
  const b = directRatio(cfg, cfg.baseCurrency, to);
  if (!a || !b) return undefined;
  return { ratio: { num: a.ratio.num * b.ratio.num, den: a.ratio.den * b.ratio.den }, via: 'cross' };
}
