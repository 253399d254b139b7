/**
 * The fixed vocabulary of payments: method kinds, directions and the display-order defaults. Tenant
 * files refer to these names; which methods a tenant offers, where, in which currencies and at what
 * fee is data in the tenant config (`payments.methods`, domain/tenant/config.ts).
 * No imports: the tenant config schema depends on this module.
 */

export const PAYMENT_METHOD_KINDS = ['bank_wire', 'card', 'e_wallet', 'crypto'] as const;
export type PaymentMethodKind = (typeof PAYMENT_METHOD_KINDS)[number];

/** deposit: money in (PSP -> client wallet); withdrawal: money out (client wallet -> PSP payout). */
export const PAYMENT_DIRECTIONS = ['deposit', 'withdrawal'] as const;
export type PaymentDirection = (typeof PAYMENT_DIRECTIONS)[number];

/** The key of `displayOrder` that applies where neither the country nor its jurisdiction is listed. */
export const DEFAULT_ORDER_KEY = 'default';
/** The order of a method whose `displayOrder` names neither the region nor a default: after every ordered one. */
export const UNORDERED = 1_000_000;

/** Fee percentages are integer basis points: 250 bps = 2.50 %. At most 100 %. */
export const MAX_FEE_BPS = 10_000;

/** Longest processing time a method may declare: 60 days. */
export const MAX_PROCESSING_MINUTES = 60 * 24 * 60;
