/**
 * Expiry of an approved client's identity document, for the client view and the daily expiry job.
 * Pure; the clock is passed in. Dates are YYYY-MM-DD calendar dates compared in UTC.
 *
 * Invariants:
 * - a document is valid through its expiry date inclusive: it is 'expired' only from the day after
 *   (the same rule as checks.ts `checkExpiry`, so a document approved as valid is never 'expired' the
 *   same day)
 * - 'expiring_soon' when 0 <= days left <= windowDays (default 30, checks.ts DEFAULTS.expiringSoonDays);
 *   'valid' when more days are left
 * - `daysUntil` is whole calendar days from today (UTC date of `now`) to the date: 0 on the day itself,
 *   negative once it has passed; the time of day of `now` never matters
 * - a string that is not a real calendar date is a programming/data error: RangeError, never a guess
 */
import { DEFAULTS } from './checks.ts';
import { epochDay, todayEpochDay } from './dates.ts';

export type ExpiryState = 'valid' | 'expiring_soon' | 'expired';

/** Whole calendar days from the UTC date of `now` to `isoDate` (YYYY-MM-DD); negative when it is in the past. */
export function daysUntil(isoDate: string, now: Date): number {
  const day = epochDay(isoDate);
  if (day === undefined) throw new RangeError(`not a calendar date (YYYY-MM-DD): ${JSON.stringify(isoDate)}`);
  return day - todayEpochDay(now);
}

/** 'expired' after the expiry date, 'expiring_soon' within `windowDays` of it (inclusive), else 'valid'. */
export function classifyExpiry(
  identityExpiresOn: string,
  now: Date,
  windowDays: number = DEFAULTS.expiringSoonDays,
): ExpiryState {
  const left = daysUntil(identityExpiresOn, now);
  if (left < 0) return 'expired';
  return left <= windowDays ? 'expiring_soon' : 'valid';
}
