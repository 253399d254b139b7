/**
 * A small deterministic PRNG (mulberry32) as a pure step function over a 32-bit state, so the simulator's
 * randomness is injected by a seed and its state is a plain number that snapshots restore exactly.
 *
 * Invariants:
 * - nextUint32(s) depends on s only: the same seed gives the same sequence on every run and platform
 * - a state is a signed 32-bit integer (a JSON number); nextUint32 never returns the input state
 * - randomInt(s, lo, hi) is in [lo, hi] inclusive (a modulo reduction: a bias below 2^-20 for spans under 4096)
 */

/** The state for a seed: any number, truncated to a signed 32-bit integer. */
export const seedState = (seed: number): number => seed | 0;

/** One mulberry32 step: the next state and a uniform unsigned 32-bit value. */
export function nextUint32(state: number): { state: number; value: number } {
  const next = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(next ^ (next >>> 15), 1 | next);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return { state: next, value: (t ^ (t >>> 14)) >>> 0 };
}

/** A uniform integer in [lo, hi] (bigints, hi >= lo) and the next state. */
export function randomInt(state: number, lo: bigint, hi: bigint): { state: number; value: bigint } {
  if (hi < lo) throw new RangeError('randomInt: hi < lo');
  const step = nextUint32(state);
  return { state: step.state, value: lo + (BigInt(step.value) % (hi - lo + 1n)) };
}
