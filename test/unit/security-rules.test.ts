/**
 * The pure rules behind the sign-in throttle and security events (GitHub issue 12): the lockout schedule,
 * how a source is named, the case threshold crossing, and the edge's Retry-After and probe marking.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from '#domain/errors.ts';
import {
  ACCOUNT_POLICY,
  liveCounter,
  lockedUntil,
  lockSeconds,
  retryAfterSeconds,
  SOURCE_POLICY,
} from '#domain/identity/sign-in-throttle.ts';
import { issuedAtUnacceptable, MAX_CLOCK_SKEW_SECONDS } from '#domain/identity/token-time.ts';
import { crossedThreshold, hourBucket, SECURITY_CASE_RULES, sourceOf } from '#domain/security/events.ts';
import { assertOwnerOrStaff, crossClientProbe, crossClientProbeOf } from '#middleware/auth.ts';
import { toProblem } from '#middleware/problem.ts';

describe('the lockout schedule', () => {
  it('per account: 5 free failures, then 1 s doubling to 15 minutes', () => {
    const schedule = Array.from({ length: 18 }, (_, i) => lockSeconds(ACCOUNT_POLICY, i + 1));
    expect(schedule).toEqual([0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]);
    expect(lockSeconds(ACCOUNT_POLICY, 10_000)).toBe(900);
  });

  it('per source: 100 free failures, then the same doubling', () => {
    expect(lockSeconds(SOURCE_POLICY, 100)).toBe(0);
    expect(lockSeconds(SOURCE_POLICY, 101)).toBe(1);
    expect(lockSeconds(SOURCE_POLICY, 102)).toBe(2);
  });

  it('a lock runs from the last failure; a counter an hour old counts as nothing', () => {
    const t = 1_000_000_000_000;
    const c = { failures: 7, lastFailureAt: t };
    expect(lockedUntil(ACCOUNT_POLICY, c, t + 500)).toBe(t + 2000);
    expect(retryAfterSeconds(t + 2000, t + 500)).toBe(2);
    expect(lockedUntil(ACCOUNT_POLICY, c, t + 2000)).toBeUndefined();
    expect(liveCounter(ACCOUNT_POLICY, c, t + 3600_000 - 1)).toEqual(c);
    expect(liveCounter(ACCOUNT_POLICY, c, t + 3600_000)).toBeUndefined();
  });

  it('never locks for longer than the cap after the last failure', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), fc.nat({ max: 3_600_000 }), (failures, elapsed) => {
        const until = lockedUntil(ACCOUNT_POLICY, { failures, lastFailureAt: 0 }, elapsed);
        expect(until === undefined || until <= ACCOUNT_POLICY.maxLockSeconds * 1000).toBe(true);
      }),
    );
  });
});

describe('sources', () => {
  it.each([
    ['203.0.113.7', 'ip:203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', 'ip:2001:db8:1:2::/64'],
    ['2001:DB8:1:2::9', 'ip:2001:db8:1:2::/64'],
    ['2001:db8::1', 'ip:2001:db8:0:0::/64'],
    ['::ffff:198.51.100.4', 'ip:198.51.100.4'],
    ['::1', 'ip:0:0:0:0::/64'],
    ['fe80::1%eth0', 'ip:fe80:0:0:0::/64'],
    ['999.1.1.1', 'ip:unknown'],
    ['1:2:3', 'ip:unknown'],
    ['1::2::3', 'ip:unknown'],
    ['', 'ip:unknown'],
    [undefined, 'ip:unknown'],
  ])('%s is %s', (ip, source) => {
    expect(sourceOf(ip)).toBe(source);
  });

  it('one IPv6 /64 is one source, whatever the interface id', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 4, maxLength: 4 }), (iid) => {
        expect(sourceOf(`2001:db8:aa:bb:${iid.map((x) => x.toString(16)).join(':')}`)).toBe('ip:2001:db8:aa:bb::/64');
      }),
    );
  });

  it('buckets are UTC hours', () => {
    expect(hourBucket(new Date('2026-12-06T14:59:59.999+01:00'))).toBe('2026-12-06T13');
  });
});

describe('case thresholds', () => {
  it('exactly one of a sequence of counted writes crosses a threshold', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 50 }),
        (adds, t) => {
          let total = 0;
          let crossings = 0;
          for (const n of adds) {
            total += n;
            if (crossedThreshold(total, n, t)) crossings++;
          }
          expect(crossings).toBe(total >= t ? 1 : 0);
        },
      ),
    );
  });

  it('are 20 refused sign-ins per account and 3 probes per client, an hour', () => {
    expect(SECURITY_CASE_RULES.map((r) => [r.caseKind, r.threshold])).toEqual([
      ['sign_in_attack', 20],
      ['cross_client_probing', 3],
    ]);
  });
});

describe('token time', () => {
  it('refuses iat beyond the skew, or missing', () => {
    expect(MAX_CLOCK_SKEW_SECONDS).toBe(300);
    expect(issuedAtUnacceptable(1000 + 300, 1000)).toBe(false);
    expect(issuedAtUnacceptable(1000 + 301, 1000)).toBe(true);
    expect(issuedAtUnacceptable(undefined, 1000)).toBe(true);
    expect(issuedAtUnacceptable('1000', 1000)).toBe(true);
  });
});

describe('the edge', () => {
  const ctx = { correlationId: 'c', locale: 'en', instance: '/v1/sessions' };

  it('answers a rate_limited error with Retry-After in whole seconds', () => {
    const locked = new DomainError('sign_in_locked', 'rate_limited', 'wait', [], { retryAfterSeconds: 1.2 });
    const { problem, headers } = toProblem(locked, ctx);
    expect(problem).toMatchObject({ status: 429, code: 'sign_in_locked' });
    expect(headers).toEqual({ 'retry-after': '2' });
    expect(toProblem(new DomainError('x', 'conflict', 'x', [], { retryAfterSeconds: 5 }), ctx).headers).toEqual({});
  });

  it("marks a client refused another client's resource as a probe, and nothing else", () => {
    const client = { sub: 'a', email: '', roles: ['client' as const], isStaff: false };
    const err = (() => {
      try {
        assertOwnerOrStaff(client, 'b', ['compliance']);
      } catch (e) {
        return e;
      }
    })();
    expect(crossClientProbeOf(err)).toEqual({ clientId: 'a', ownerClientId: 'b' });
    expect(crossClientProbeOf(crossClientProbe(new Error('x'), { sub: 'a', isStaff: false }, 'a'))).toBeUndefined();
    expect(crossClientProbeOf(crossClientProbe(new Error('x'), { sub: 's', isStaff: true }, 'b'))).toBeUndefined();
    expect(crossClientProbeOf(new Error('x'))).toBeUndefined();
  });
});
