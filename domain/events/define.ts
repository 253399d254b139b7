/**
 * How an event of the catalogue is declared (`defineEvent`), the field schemas the contexts' event modules
 * share, and the error a consumer gets for a detail that breaks its contract. Pure; the catalogue itself is
 * `domain/events/index.ts`.
 *
 * Invariants:
 * - a detail-type is lowercase dot-separated words (`<prefix>.<entity>.<fact>`, e.g. `ledger.journal.posted`);
 *   a breaking change of a published event is a NEW detail-type with the next version (`ledger.journal.posted.v2`,
 *   version 2), produced side by side with the old one until its consumers moved; additive changes (a new
 *   optional field, a new value where consumers already tolerate unknown ones) keep the detail-type and version
 * - the schema describes the `detail` as producers write it (without the publication fields `eventId` and
 *   `eventVersion`, which the outbox adds); unknown fields are tolerated and stripped when parsing, so a consumer
 *   built against version n keeps working when a field is added
 * - money is a decimal string (or a minor-unit integer string), never a JSON number
 * - every definition carries an `example` its schema accepts (the catalogue test checks it)
 */
import * as z from 'zod';
import { DomainError, type FieldError } from '../errors.ts';

/** The bounded contexts that produce events (functions/manifest.ts CONTEXTS; the catalogue test checks them). */
export const EVENT_CONTEXTS = ['identity', 'kyc', 'ledger', 'payments', 'trading', 'partners'] as const;
export type EventContext = (typeof EVENT_CONTEXTS)[number];

const DETAIL_TYPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

export interface EventDefinition<T extends string = string, S extends z.ZodObject = z.ZodObject> {
  /** The EventBridge detail-type, e.g. 'ledger.journal.posted'. */
  readonly detailType: T;
  /** Starts at 1; published as detail.eventVersion (see the module comment for the compatibility rule). */
  readonly version: number;
  /** The bounded context that owns the entity the event is about (and writes it). */
  readonly context: EventContext;
  /**
   * true: published for the broker's own integrations (a contract kept whether or not a rule of ours consumes
   * it); false: internal, and then at least one rule of functions/manifest.ts consumes it.
   */
  readonly external: boolean;
  /** What happened, in one sentence. */
  readonly description: string;
  /** The detail as producers write it. */
  readonly schema: S;
  /** A representative detail (documentation, and the catalogue test's positive case). */
  readonly example: z.input<S>;
}

/** Declares one event of the catalogue (checks its detail-type and version; the result is frozen). */
export function defineEvent<const T extends string, S extends z.ZodObject>(def: EventDefinition<T, S>): EventDefinition<T, S> {
  if (!DETAIL_TYPE.test(def.detailType))
    throw new Error(`defineEvent: '${def.detailType}' is not a dotted lowercase detail-type`);
  if (!Number.isInteger(def.version) || def.version < 1) throw new Error(`defineEvent: ${def.detailType} version must be >= 1`);
  return Object.freeze({ ...def });
}

// ---- shared field schemas -------------------------------------------------------------------------------

/** An identifier (client, wallet, journal, ...): a non-empty string. */
export const id = z.string().min(1);
/** An unsigned decimal amount string, e.g. "97.50" (never a JSON number). */
export const decimal = z.string().regex(/^\d+(\.\d+)?$/, 'unsigned decimal string');
/** A signed decimal amount string, e.g. "-97.50". */
export const signedDecimal = z.string().regex(/^-?\d+(\.\d+)?$/, 'signed decimal string');
/** Signed minor units as an integer string, e.g. "-9750". */
export const minorUnits = z.string().regex(/^-?\d+$/, 'signed integer string (minor units)');
/** A currency code of domain/money (ISO 4217 or a crypto ticker such as USDT). */
export const currencyCode = z.string().regex(/^[A-Z0-9]{3,5}$/, 'currency code');
/** An ISO-8601 instant as the code writes them (Date#toISOString). */
export const instant = z.iso.datetime();
/** A calendar date YYYY-MM-DD. */
export const calendarDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD');

// ---- consumer errors ------------------------------------------------------------------------------------

/**
 * A detail that breaks its event's contract (400-kind DomainError, code `malformed_event`), a detail-type the
 * catalogue does not know (`unknown_event_type`), or a detail published under another version of its
 * detail-type (`event_version_mismatch`). A consumer lets it fail the record (retried, then DLQ).
 */
export class EventContractError extends DomainError {
  constructor(
    code: 'malformed_event' | 'unknown_event_type' | 'event_version_mismatch',
    readonly detailType: string,
    message: string,
    errors: FieldError[] = [],
  ) {
    super(code, 'validation', message, errors, { detailType });
    this.name = 'EventContractError';
  }
}

export const isEventContractError = (e: unknown): e is EventContractError => e instanceof EventContractError;

/** zod issues as FieldErrors (paths joined with dots). */
export const fieldErrorsOf = (error: z.ZodError): FieldError[] =>
  error.issues.map((i) => ({ field: i.path.map(String).join('.') || '(detail)', code: i.code, message: i.message }));
