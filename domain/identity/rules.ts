/**
 * Identity rules for registration and staff users: pure functions, no I/O. The clock is passed in.
 *
 * Invariants:
 * - an email is normalised once (trimmed, NFC, lower-cased) and the normalised form is the
 *   uniqueness key and the sign-in name; two addresses differing only in case are the same user
 * - a client is an adult: age in whole years on `now` (UTC calendar date) is >= 18; a person born
 *   on 29 February becomes a year older on 1 March in non-leap years
 * - a date of birth is a real calendar date (YYYY-MM-DD), not in the future, and not before 1900
 * - a country is served only if an enabled jurisdiction lists it and it is not restricted;
 *   restriction wins over a jurisdiction listing (`country_restricted` before `country_not_served`)
 * - a password meets the Cognito default policy: 8..256 characters, at least one lower-case letter,
 *   upper-case letter, digit and symbol, and no leading or trailing space; every violation is named
 */
import type { TenantConfig } from '../tenant/config.ts';

export const MIN_AGE = 18;
export const MAX_EMAIL_LENGTH = 254;

export function normalizeEmail(email: string): string {
  return email.trim().normalize('NFC').toLowerCase();
}

// Local part: RFC 5322 dot-atom characters; domain: labels of letters/digits/hyphens, a TLD of 2+ letters.
const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** A pragmatic address check: one @, a dot-atom local part <= 64, a dotted domain with a 2+ letter TLD. */
export function isValidEmail(email: string): boolean {
  if (email.length === 0 || email.length > MAX_EMAIL_LENGTH) return false;
  const at = email.lastIndexOf('@');
  if (at <= 0 || at !== email.indexOf('@')) return false;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (local.length > 64 || !LOCAL.test(local)) return false;
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return false;
  return /^[A-Za-z]{2,63}$/.test(labels[labels.length - 1] ?? '');
}

export interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

/** Parses YYYY-MM-DD into a real calendar date, or null. */
export function parseIsoDate(s: string): CalendarDate | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1) return null;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return null;
  return { year, month, day };
}

/** Whole years between a birth date and `now` (UTC calendar date). */
export function ageOn(dob: CalendarDate, now: Date): number {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth() + 1;
  const d = now.getUTCDate();
  let age = y - dob.year;
  if (m < dob.month || (m === dob.month && d < dob.day)) age -= 1;
  return age;
}

export type DateOfBirthProblem = 'invalid_date' | 'date_in_future' | 'underage';

export function dateOfBirthProblem(dateOfBirth: string, now: Date): DateOfBirthProblem | null {
  const dob = parseIsoDate(dateOfBirth);
  if (!dob || dob.year < 1900) return 'invalid_date';
  const age = ageOn(dob, now);
  if (age < 0 || (age === 0 && Date.UTC(dob.year, dob.month - 1, dob.day) > now.getTime())) return 'date_in_future';
  if (age < MIN_AGE) return 'underage';
  return null;
}

export type CountryProblem = 'country_restricted' | 'country_not_served';

export function countryProblem(
  cfg: Pick<TenantConfig, 'jurisdictions' | 'restrictedCountries'>,
  country: string,
): CountryProblem | null {
  const c = country.toUpperCase();
  if (cfg.restrictedCountries.includes(c)) return 'country_restricted';
  if (!cfg.jurisdictions.some((j) => j.countries.includes(c))) return 'country_not_served';
  return null;
}

/** The jurisdiction code serving a country (assumes countryProblem returned null). */
export function jurisdictionCode(cfg: Pick<TenantConfig, 'jurisdictions'>, country: string): string | undefined {
  return cfg.jurisdictions.find((j) => j.countries.includes(country.toUpperCase()))?.code;
}

export type PasswordViolation =
  | 'too_short'
  | 'too_long'
  | 'missing_lowercase'
  | 'missing_uppercase'
  | 'missing_digit'
  | 'missing_symbol'
  | 'leading_or_trailing_space';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;
/** The special characters Cognito's policy accepts (a non-leading, non-trailing space counts too). */
export const PASSWORD_SYMBOLS = '^$*.[]{}()?"!@#%&/\\,><\':;|_~`=+- ';

export const PASSWORD_MESSAGES: Record<PasswordViolation, string> = {
  too_short: `must be at least ${PASSWORD_MIN} characters`,
  too_long: `must be at most ${PASSWORD_MAX} characters`,
  missing_lowercase: 'must contain a lower-case letter',
  missing_uppercase: 'must contain an upper-case letter',
  missing_digit: 'must contain a digit',
  missing_symbol: 'must contain a symbol',
  leading_or_trailing_space: 'must not begin or end with a space',
};

/** Every way a password fails the Cognito default policy; empty when it passes. */
export function passwordViolations(pw: string): PasswordViolation[] {
  const v: PasswordViolation[] = [];
  const length = [...pw].length;
  if (length < PASSWORD_MIN) v.push('too_short');
  if (length > PASSWORD_MAX) v.push('too_long');
  if (!/[a-z]/.test(pw)) v.push('missing_lowercase');
  if (!/[A-Z]/.test(pw)) v.push('missing_uppercase');
  if (!/[0-9]/.test(pw)) v.push('missing_digit');
  if (![...pw].some((ch) => PASSWORD_SYMBOLS.includes(ch))) v.push('missing_symbol');
  if (pw.length > 0 && (pw.startsWith(' ') || pw.endsWith(' '))) v.push('leading_or_trailing_space');
  return v;
}
