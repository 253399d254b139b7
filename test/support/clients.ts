/**
 * Client profiles for tests and benches, written through the store as registration and the onboarding
 * profile step leave them. The default person is the KYC fixture person: the name, date of birth and
 * address that test/fixtures/kyc and the sandbox documents carry, so their checks pass.
 */
import { randomUUID } from 'node:crypto';
import type { AuditActor } from '#domain/audit/chain.ts';
import { commit } from '#store/audit.ts';
import {
  type ClientProfileFields,
  type ClientProfileItem,
  newClientProfile,
  type PersonalDetails,
  putClientProfile,
} from '#store/clients.ts';
import { claimsFor } from './events.ts';

/** The fixture person's name and date of birth (the sandbox passports' and test/fixtures/kyc's). */
export const FIXTURE_PERSON = { firstName: 'Anna Maria', lastName: 'Eriksson', dateOfBirth: '1984-08-12' } as const;

/** The fixture person's onboarding personal details: resident at Hauptstraße 5, 10115 Berlin, DE. */
export const PERSONAL_DETAILS: Readonly<PersonalDetails> = {
  phone: '+4930123456789',
  nationality: 'DE',
  address: { line1: 'Hauptstraße 5', city: 'Berlin', postalCode: '10115', country: 'DE' },
  taxResidence: 'DE',
  employmentStatus: 'employed',
  annualIncome: '25k_to_100k',
  netWorth: '10k_to_50k',
  sourceOfFunds: 'salary',
  politicallyExposed: false,
};

/**
 * A profile item (not written): the fixture person, resident in DE (EU, retail, locale en, email verified,
 * active), stage profile_completed with PERSONAL_DETAILS. Any field may be overridden; an override of
 * undefined leaves the field out (e.g. `personalDetails: undefined` for a client that never gave them).
 */
export function clientProfile(overrides: Partial<ClientProfileFields> = {}, now = new Date().toISOString()): ClientProfileItem {
  const clientId = overrides.clientId ?? `client-${randomUUID().slice(0, 8)}`;
  const fields: ClientProfileFields = {
    clientId,
    email: `${clientId}@example.test`,
    ...FIXTURE_PERSON,
    countryOfResidence: 'DE',
    jurisdiction: 'EU',
    clientType: 'retail',
    locale: 'en',
    emailVerified: true,
    status: 'active',
    onboarding: { stage: 'profile_completed' },
    personalDetails: structuredClone(PERSONAL_DETAILS),
    ...overrides,
  };
  const present = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  return newClientProfile(present as ClientProfileFields, now);
}

/**
 * Writes clientProfile(overrides) with its 'client.registered' audit item (by the client itself unless
 * `actor` says otherwise), as registration does.
 */
export async function seedClient(
  overrides: Partial<ClientProfileFields> = {},
  opts: { actor?: AuditActor; requestId?: string } = {},
): Promise<{ clientId: string; claims: Record<string, string>; profile: ClientProfileItem }> {
  const profile = clientProfile(overrides);
  const { clientId } = profile;
  await commit({
    writes: [putClientProfile(profile)],
    audit: {
      actor: opts.actor ?? { id: clientId, role: 'client' },
      action: 'client.registered',
      entity: { type: 'client', id: clientId },
      clientId,
      before: null,
      after: { clientId },
      requestId: opts.requestId ?? 'test',
    },
  });
  return { clientId, claims: claimsFor(clientId, ['client']), profile };
}
