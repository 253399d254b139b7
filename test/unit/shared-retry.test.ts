/**
 * The one retry helper (functions/shared/retry.ts): attempts, which errors are retried, full-jitter waits
 * within each policy's bounds, and the waits going through the replaceable sleep.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffMs, RETRY_POLICIES, type RetryPolicyName, setRetrySleep, withRetry } from '#shared/retry.ts';

const waits: number[] = [];
setRetrySleep(async (ms) => {
  waits.push(ms);
});
afterEach(() => {
  waits.length = 0;
  vi.restoreAllMocks();
});

const always = () => true;

describe('withRetry', () => {
  it('returns the first success, passing the 1-based attempt number', async () => {
    const seen: number[] = [];
    const out = await withRetry(
      'decisionConflict',
      async (attempt) => {
        seen.push(attempt);
        if (attempt < 3) throw new Error('race');
        return 'ok';
      },
      always,
    );
    expect(out).toBe('ok');
    expect(seen).toEqual([1, 2, 3]);
    expect(waits).toHaveLength(2);
  });

  it('rethrows the last error unchanged when the attempts are used up, without a wait after the last', async () => {
    let n = 0;
    const errors: Error[] = [];
    const run = async () => {
      const e = new Error(`race ${++n}`);
      errors.push(e);
      throw e;
    };
    const thrown = await withRetry('decisionConflict', run, always).catch((e: unknown) => e);
    expect(thrown).toBe(errors.at(-1));
    expect(n).toBe(RETRY_POLICIES.decisionConflict.attempts);
    expect(waits).toHaveLength(RETRY_POLICIES.decisionConflict.attempts - 1);
  });

  it('rethrows at once an error the predicate refuses', async () => {
    const fatal = new Error('validation');
    let n = 0;
    await expect(
      withRetry(
        'auditHead',
        async () => {
          n++;
          throw fatal;
        },
        (err) => err !== fatal,
      ),
    ).rejects.toBe(fatal);
    expect(n).toBe(1);
    expect(waits).toEqual([]);
  });

  it('does not sleep for a policy without waits', async () => {
    await expect(
      withRetry(
        'stateReread',
        async () => {
          throw new Error('moved');
        },
        always,
      ),
    ).rejects.toThrow('moved');
    expect(waits).toEqual([]);
  });
});

describe('backoffMs: full jitter under min(cap, base * 2^(attempt-1))', () => {
  for (const name of Object.keys(RETRY_POLICIES) as RetryPolicyName[]) {
    it(`${name}: every wait within bounds`, () => {
      const p = RETRY_POLICIES[name];
      expect(p.attempts).toBeGreaterThanOrEqual(1);
      expect(p.capMs).toBeGreaterThanOrEqual(p.baseMs);
      vi.spyOn(Math, 'random').mockReturnValue(0.999999);
      for (let attempt = 1; attempt < p.attempts; attempt++) {
        const ms = backoffMs(name, attempt);
        expect(ms).toBeGreaterThanOrEqual(0);
        expect(ms).toBeLessThanOrEqual(Math.min(p.capMs, p.baseMs * 2 ** (attempt - 1)));
      }
    });
  }

  it('the first wait is at most baseMs, doubling, then capped', () => {
    vi.spyOn(Math, 'random').mockReturnValue(1);
    expect(backoffMs('auditHead', 1)).toBe(10);
    expect(backoffMs('auditHead', 2)).toBe(20);
    expect(backoffMs('auditHead', 9)).toBe(250);
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(backoffMs('auditHead', 5)).toBe(0);
  });
});
