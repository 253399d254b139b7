/**
 * Closing a compliance case: the resolutions compliance can record and what each does to the
 * withdrawal freeze the case caused. Pure.
 *
 * Invariants:
 * - a case is closed once, with a catalogue resolution and a note saying why (the audit trail must show
 *   the officer's reasoning, not just a code): 400 unknown_resolution / note_required
 * - `cleared` (the dispute was the provider's or the client's honest mistake) and `recovered` (the
 *   shortfall was paid back) lift the freeze; `restricted` (the account stays restricted) and
 *   `reported` (reported to the authority) keep it
 * - the freeze is lifted only when no other open case froze the client's withdrawals: two chargebacks
 *   mean two cases, and closing one leaves the other's freeze in place (`other_open_case`); a freeze
 *   that no case set is not a case's to lift (`not_set_by_a_case`)
 */
import { DomainError } from '../errors.ts';

export const CASE_RESOLUTIONS = ['cleared', 'recovered', 'restricted', 'reported'] as const;
export type CaseResolution = (typeof CASE_RESOLUTIONS)[number];

const LIFTS_FREEZE: readonly CaseResolution[] = ['cleared', 'recovered'];
export const NOTE_MAX = 2000;

export const isCaseResolution = (code: string): code is CaseResolution => (CASE_RESOLUTIONS as readonly string[]).includes(code);

/** The resolution and the trimmed note, or 400 unknown_resolution / note_required. */
export function validateCaseClosure(resolution: string, note: string | undefined): { resolution: CaseResolution; note: string } {
  if (!isCaseResolution(resolution)) {
    throw new DomainError('unknown_resolution', 'validation', `Resolution must be one of ${CASE_RESOLUTIONS.join(', ')}`, [
      { field: 'resolution', code: 'unknown_resolution', message: `One of ${CASE_RESOLUTIONS.join(', ')}` },
    ]);
  }
  const trimmed = (note ?? '').trim();
  if (!trimmed || trimmed.length > NOTE_MAX) {
    throw new DomainError('note_required', 'validation', `Say why the case is closed (1 to ${NOTE_MAX} characters)`, [
      { field: 'note', code: 'note_required', message: `1 to ${NOTE_MAX} characters` },
    ]);
  }
  return { resolution, note: trimmed };
}

export type FreezeDecision =
  | { lift: true; freezerCaseId: string }
  | { lift: false; keptBecause: 'not_frozen' | 'not_set_by_a_case' | 'resolution' | 'other_open_case' };

/**
 * What closing `caseId` with `resolution` does to the client's withdrawal freeze, given the freeze as
 * read (`freeze`, naming the case that set it last) and the client's other open cases that froze
 * withdrawals (`otherOpenFreezingCases`, this case excluded).
 */
export function freezeOnClose(input: {
  caseId: string;
  resolution: CaseResolution;
  freeze: { caseId?: string | undefined } | undefined;
  otherOpenFreezingCases: readonly string[];
}): FreezeDecision {
  if (!input.freeze) return { lift: false, keptBecause: 'not_frozen' };
  if (!input.freeze.caseId) return { lift: false, keptBecause: 'not_set_by_a_case' };
  if (!LIFTS_FREEZE.includes(input.resolution)) return { lift: false, keptBecause: 'resolution' };
  const others = input.otherOpenFreezingCases.filter((id) => id !== input.caseId);
  if (others.length > 0) return { lift: false, keptBecause: 'other_open_case' };
  // The freeze names the case that set it last; if that is another case it must be closed (the caller
  // lists open ones), so the freeze has no open case left behind it.
  return { lift: true, freezerCaseId: input.freeze.caseId };
}
