/**
 * Calendar-date arithmetic on YYYY-MM-DD strings (UTC, no time of day). Reuses the identity rules' parser.
 *
 * Invariants:
 * - a date that is not a real calendar date yields undefined, never a rolled-over date
 * - `today(now)` is the UTC calendar date of the injected clock
 */
import { parseIsoDate } from '../identity/rules.ts';

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 for a YYYY-MM-DD string, or undefined when it is not a real date. */
export function epochDay(iso: string): number | undefined {
  const d = parseIsoDate(iso);
  return d ? Date.UTC(d.year, d.month - 1, d.day) / DAY_MS : undefined;
}

export function todayEpochDay(now: Date): number {
  return Math.floor(now.getTime() / DAY_MS);
}
