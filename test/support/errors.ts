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
