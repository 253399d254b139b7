/** The edge's small pure parts: group claims, locales, correlation ids, the message catalogue. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { callerFrom, parseGroups, rolesFrom } from '#middleware/auth.ts';
import { isJsonContentType } from '#middleware/body.ts';
import { isSaneCorrelationId } from '#middleware/correlation.ts';
import { isValidIdempotencyKey } from '#middleware/idempotency.ts';
import { resolveLocale } from '#middleware/locale.ts';
import { CATALOGUE_LOCALES, catalogue, detailFor, EDGE_CODES, TITLES } from '#middleware/messages.ts';
import { toJson } from '#middleware/problem.ts';
import { apiEvent, claimsFor } from '../support/events.ts';

describe('cognito:groups are read in every shape', () => {
  it.each([
    ['[admin finance]', ['admin', 'finance']],
    ['["admin","finance"]', ['admin', 'finance']],
    ['admin,finance', ['admin', 'finance']],
    ['admin, finance', ['admin', 'finance']],
    ['admin finance', ['admin', 'finance']],
    [
      ['admin', 'finance'],
      ['admin', 'finance'],
    ],
    ['[]', []],
    ['', []],
    [undefined, []],
  ])('%j', (raw, expected) => {
    expect(parseGroups(raw)).toEqual(expected);
  });
  it('unknown groups are dropped and roles are unique', () => {
    expect(rolesFrom(['admin', 'superuser', 'admin', 'client'])).toEqual(['admin', 'client']);
  });
  it('isStaff means a role other than client/partner', () => {
    expect(callerFrom(apiEvent({ method: 'GET', resource: '/x', claims: claimsFor('a', ['client', 'partner']) }))?.isStaff).toBe(
      false,
    );
    expect(callerFrom(apiEvent({ method: 'GET', resource: '/x', claims: claimsFor('a', ['client', 'sales']) }))?.isStaff).toBe(
      true,
    );
    expect(callerFrom(apiEvent({ method: 'GET', resource: '/x' }))).toBeNull();
  });
});

describe('a role counts only when issued by the pool it lives in', () => {
  afterEach(() => vi.unstubAllEnvs());
  const event = (iss: string | undefined, groups: string[]) => {
    const { iss: _ignored, ...claims } = claimsFor('s1', groups);
    return apiEvent({ method: 'GET', resource: '/x', claims: iss ? { ...claims, iss } : claims });
  };

  it('staff roles come only from the staff pool, client roles only from the clients pool', () => {
    vi.stubEnv('USER_POOL_ID', 'eu-west-1_clients');
    vi.stubEnv('STAFF_USER_POOL_ID', 'eu-west-1_staff');
    const fromClients = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_clients';
    const fromStaff = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_staff';
    expect(callerFrom(event(fromClients, ['client', 'admin']))?.roles).toEqual(['client']);
    expect(callerFrom(event(fromStaff, ['admin', 'client']))?.roles).toEqual(['admin']);
    expect(callerFrom(event('https://evil.example/eu-west-1_staffx', ['admin']))?.roles).toEqual([]);
    expect(callerFrom(event(undefined, ['admin']))?.roles).toEqual([]);
  });
});

describe('locale is always a tenant locale', () => {
  const locales = ['en', 'de', 'es'];
  it.each([
    [undefined, 'en'],
    ['de', 'de'],
    ['de-AT', 'de'],
    ['fr, es;q=0.8, de;q=0.9', 'de'],
    ['fr', 'en'],
    ['de;q=0, es', 'es'],
    ['*', 'en'],
    ['ES', 'es'],
  ])('%s -> %s', (header, expected) => {
    expect(resolveLocale(header, locales, 'en')).toBe(expected);
  });
  it('a primary language matches a regional tenant locale', () => {
    expect(resolveLocale('de', ['en-GB', 'de-DE'], 'en-GB')).toBe('de-DE');
  });
});

describe('header formats', () => {
  it('correlation ids: 1-128 of [A-Za-z0-9-_.:]', () => {
    expect(isSaneCorrelationId('Root=1-abc:x_y.z')).toBe(false);
    expect(isSaneCorrelationId('1-abc:x_y.z')).toBe(true);
    expect(isSaneCorrelationId('a'.repeat(128))).toBe(true);
    expect(isSaneCorrelationId('a'.repeat(129))).toBe(false);
    expect(isSaneCorrelationId('')).toBe(false);
  });
  it('idempotency keys: 8-255 of [A-Za-z0-9-_:.]', () => {
    expect(isValidIdempotencyKey('abcd1234')).toBe(true);
    expect(isValidIdempotencyKey('abc1234')).toBe(false);
    expect(isValidIdempotencyKey('k'.repeat(255))).toBe(true);
    expect(isValidIdempotencyKey('k'.repeat(256))).toBe(false);
    expect(isValidIdempotencyKey('abcd 1234')).toBe(false);
  });
  it('JSON content types', () => {
    expect(isJsonContentType('application/json')).toBe(true);
    expect(isJsonContentType('Application/JSON; charset=UTF-8')).toBe(true);
    expect(isJsonContentType('application/merge-patch+json')).toBe(true);
    expect(isJsonContentType('text/json')).toBe(false);
    expect(isJsonContentType(undefined)).toBe(false);
  });
});

describe('message catalogue', () => {
  it('every edge code has a title and a detail in every catalogue locale', () => {
    for (const code of EDGE_CODES) {
      expect(TITLES[code]).toBeTruthy();
      for (const locale of CATALOGUE_LOCALES) expect(catalogue[locale][code], `${locale}/${code}`).toBeTruthy();
    }
  });
  it('unknown locales fall back to English; unknown codes have no detail', () => {
    expect(detailFor('malformed_json', 'fr')).toBe(catalogue.en.malformed_json);
    expect(detailFor('malformed_json', 'de-CH')).toBe(catalogue.de.malformed_json);
    expect(detailFor('email_taken', 'en')).toBeUndefined();
  });
});

describe('JSON', () => {
  it('bigint at any depth becomes a decimal string', () => {
    expect(toJson({ a: 1n, b: [{ c: -12345678901234567890n }] })).toBe('{"a":"1","b":[{"c":"-12345678901234567890"}]}');
  });
});
