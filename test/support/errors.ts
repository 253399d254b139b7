/** Catching the DomainError a pure rule throws, for unit tests. */
import { expect } from 'vitest';
import { DomainError } from '#domain/errors.ts';

/** The DomainError `fn` throws; fails the test when it throws anything else or nothing. */
export function thrown(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    return e as DomainError;
  }
  throw new Error('expected a DomainError');
}

/** The code of the DomainError `fn` throws, or undefined when it returns (anything else thrown fails the test). */
export function refusalCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
  return undefined;
}
