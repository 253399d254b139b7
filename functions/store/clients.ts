/**
 * Client profiles (pk CLIENT#<clientId>, sk PROFILE). A client's id is its Cognito `sub`.
 *
 * Invariants:
 * - a profile is created together with its unique-email claim, its first audit item
 *   ('client.registered') and its 'client.registered' outbox event, in one commit
 * - the profile never stores a password or any credential
 * - emailVerified is false until the client proves it owns the address (never true at registration)
 * - gsi1 lists clients by createdAt (CLIENTS partition)
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { OnboardingStage } from '#domain/identity/onboarding.ts';
import { ddb } from '#shared/clients.ts';
import { newItem, putNew, tableName } from './items.ts';
import { clientKeys } from './keys.ts';
import type { BaseItem } from './table.ts';

export type ClientType = 'retail' | 'professional';

export interface MarketingSource {
  utmSource?: string | undefined;
  utmMedium?: string | undefined;
  utmCampaign?: string | undefined;
}

export interface ClientProfileFields {
  clientId: string;
  email: string;
  firstName: string;
  lastName: string;
  dateOfBirth: string;
  countryOfResidence: string;
  jurisdiction: string;
  clientType: ClientType;
  referralCode?: string | undefined;
  marketingSource?: MarketingSource | undefined;
  locale: string;
  /**
   * Whether the client proved it owns `email`. False at registration (self-typed address); set by the
   * email-verification step of onboarding. Absent on profiles written before it existed (= false).
   */
  emailVerified?: boolean | undefined;
  status: 'active' | 'suspended' | 'closed';
  onboarding: { stage: OnboardingStage };
}

export type ClientProfileItem = BaseItem & ClientProfileFields & { type: 'client'; gsi1pk: string; gsi1sk: string };

export function newClientProfile(fields: ClientProfileFields, now: string): ClientProfileItem {
  return newItem(
    { ...clientKeys.key(fields.clientId), type: clientKeys.type, ...fields, ...clientKeys.listIndex(now, fields.clientId) },
    now,
  ) as ClientProfileItem;
}

export const putClientProfile = (item: ClientProfileItem) => putNew(item);

export async function getClientProfile(clientId: string): Promise<ClientProfileItem | undefined> {
  const res = await ddb().send(new GetCommand({ TableName: tableName(), Key: clientKeys.key(clientId) }));
  return res.Item as ClientProfileItem | undefined;
}

/** The profile as the API shows it (no keys, no storage-only attributes). */
export function clientProfileView(p: ClientProfileItem) {
  return {
    clientId: p.clientId,
    email: p.email,
    firstName: p.firstName,
    lastName: p.lastName,
    dateOfBirth: p.dateOfBirth,
    countryOfResidence: p.countryOfResidence,
    jurisdiction: p.jurisdiction,
    clientType: p.clientType,
    referralCode: p.referralCode,
    marketingSource: p.marketingSource,
    locale: p.locale,
    emailVerified: p.emailVerified ?? false,
    status: p.status,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}
