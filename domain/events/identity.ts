/**
 * Events of the identity context: client registration.
 *
 * Invariants:
 * - every definition follows domain/events/define.ts (versioning, money as strings, tolerant parsing)
 */
import * as z from 'zod';
import { CLIENT_TYPES } from '../onboarding/catalog.ts';
import { defineEvent, id } from './define.ts';

export const IDENTITY_EVENTS = [
  defineEvent({
    detailType: 'client.registered',
    version: 1,
    context: 'identity',
    external: true,
    description: 'A client registered (self-service): profile created, sign-in account provisioned.',
    schema: z.object({
      clientId: id,
      /** ISO 3166-1 alpha-2 country of residence. */
      country: z.string().min(2),
      clientType: z.enum(CLIENT_TYPES),
      referralCode: z.string().nullable(),
      /** The locale the client registered in (one of the tenant's locales). */
      locale: z.string().min(2),
    }),
    example: { clientId: 'client-01J8Z3', country: 'DE', clientType: 'retail', referralCode: 'IB-42', locale: 'de' },
  }),
] as const;
