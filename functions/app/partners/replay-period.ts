/**
 * A staff replay of a period's commissions (issue 16 part 3): POST /v1/admin/partners/replay recomputes every
 * closing deal of the period from the stored facts and compares it with the stored lines, to the minor unit
 * (functions/app/partners/replay.ts replayAccruals, the nightly job's).
 *
 * Invariants:
 * - the period is [from, to), from before to (422 invalid_range), at most MAX_REPLAY_DAYS (422 range_too_long),
 *   refused before anything is read
 * - read-only: a mismatch is reported, never corrected (a correction is a re-accrual's adjustment lines)
 * - callers without a REPLAY_RUNNERS role are refused (403 forbidden_role)
 */
import type { Caller, Role } from '#domain/identity/roles.ts';
import type { CommandContext } from '../context.ts';
import { type ReplayResult, replayAccruals } from './replay.ts';
import { assertStaff, boundedPeriod } from './reports.ts';

export const MAX_REPLAY_DAYS = 31;
/** Who replays a period on demand. */
export const REPLAY_RUNNERS: readonly Role[] = ['finance', 'compliance', 'admin'];

export type { ReplayResult } from './replay.ts';

/** Staff: recompute [from, to) and compare it with the stored lines (module invariants). */
export async function replayPeriod(
  input: { from: string; to: string },
  caller: Caller,
  _ctx: CommandContext,
): Promise<ReplayResult> {
  assertStaff(caller, REPLAY_RUNNERS);
  const { fromMs, toMs } = boundedPeriod(input.from, input.to, MAX_REPLAY_DAYS);
  return replayAccruals({ from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() });
}
