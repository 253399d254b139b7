/**
 * What the partner reports share (issue 16 part 5: the dashboard's accruals, the staff explanation, fraud flag and
 * replay): a bounded period [from, to) of instants, and the staff role check.
 *
 * Invariants:
 * - from and to are instants (400 invalid_date); from is before to (422 invalid_range); the period is at most the report's maximum number of days (422
 *   range_too_long); both are refused before anything is read
 * - a staff report or command refuses a caller that is not staff with one of its roles (403 forbidden_role), as the
 *   edge does (the use case does not rely on it)
 */
import { DomainError } from '#domain/errors.ts';
import type { Caller } from '#domain/identity/roles.ts';

const DAY_MS = 86_400_000;

export const invalidRange = (message: string) =>
  new DomainError('invalid_range', 'unprocessable', message, [{ field: 'from', code: 'invalid_range', message }]);
export const rangeTooLong = (maxDays: number) =>
  new DomainError('range_too_long', 'unprocessable', `The period is longer than ${maxDays} days`, [
    { field: 'to', code: 'range_too_long', message: `At most ${maxDays} days` },
  ]);

/** [from, to) as instants: from before to, at most `maxDays` long (422 invalid_range, range_too_long). */
export function boundedPeriod(from: string, to: string, maxDays: number): { fromMs: number; toMs: number } {
  const fromMs = Date.parse(from);
  const toMs = Date.parse(to);
  if (Number.isNaN(fromMs) || Number.isNaN(toMs)) {
    const field = Number.isNaN(fromMs) ? 'from' : 'to';
    throw new DomainError('invalid_date', 'validation', `${field} must be an ISO date-time`, [
      { field, code: 'invalid_date', message: 'Not an ISO date-time' },
    ]);
  }
  if (fromMs >= toMs) throw invalidRange('from must be before to');
  if (toMs - fromMs > maxDays * DAY_MS) throw rangeTooLong(maxDays);
  return { fromMs, toMs };
}

export const forbiddenRole = () => new DomainError('forbidden_role', 'forbidden', 'Your role may not do this');

/** The caller is staff with one of `roles` (403 forbidden_role otherwise). */
export function assertStaff(caller: Caller, roles: readonly string[]): void {
  if (!caller.isStaff || !caller.roles.some((r) => roles.includes(r))) throw forbiddenRole();
}
