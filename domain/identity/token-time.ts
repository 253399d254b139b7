/**
 * Time checks on ID tokens that a JWT library leaves out: `exp` and `nbf` are checked by every verifier,
 * `iat` is not (jose checks it only with maxTokenAge, aws-jwt-verify not at all). A token issued "in the
 * future" is one no honest issuer produced (ours sign with `iat = now`), so a verifier refuses it.
 *
 * Invariants (pure, the clock is passed in):
 * - `iat` must be a finite number of epoch seconds, at most MAX_CLOCK_SKEW_SECONDS after `now`: the skew
 *   tolerated between the issuer's clock and ours
 * - a token without `iat` is refused: Cognito always sets it
 */

export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

/** True when `iat` is missing, not a number, or more than the allowed skew after `nowSeconds`. */
export function issuedAtUnacceptable(iat: unknown, nowSeconds: number): boolean {
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return true;
  return iat > nowSeconds + MAX_CLOCK_SKEW_SECONDS;
}
