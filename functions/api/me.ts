/**
 * GET /v1/me: the caller's own profile.
 *
 * Invariants:
 * - a caller only ever sees its own record (looked up by its token's sub, never by a parameter)
 * - clients get their profile, onboarding state { stage, kycStatus, next, profileSubmitted, questionnaire
 *   (latest result or null) } and roles; staff get
 *   their staff profile and roles; no credential is ever returned
 * - a signed-in caller without a profile is 404 profile_not_found
 */
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { clientProfileView, getClientProfile, onboardingView } from '#store/clients.ts';
import { getStaff, staffView } from '#store/staff.ts';

const notFound = () => new DomainError('profile_not_found', 'not_found', 'No profile exists for this user');

export const MeResult = z.union([
  z.object({
    kind: z.literal('client'),
    profile: z.record(z.string(), z.unknown()),
    onboarding: z.object({
      stage: z.string(),
      kycStatus: z.string(),
      next: z.string(),
      profileSubmitted: z.boolean(),
      questionnaire: z
        .object({
          id: z.string(),
          attempt: z.number(),
          result: z.string(),
          score: z.number(),
          maxScore: z.number(),
          submittedAt: z.string(),
        })
        .nullable(),
    }),
    roles: z.array(z.string()),
  }),
  z.object({ kind: z.literal('staff'), profile: z.record(z.string(), z.unknown()), roles: z.array(z.string()) }),
]);

export const routes = [
  defineRoute({
    method: 'GET',
    path: '/v1/me',
    operationId: 'getMe',
    summary: "The caller's profile and onboarding state",
    tags: ['identity'],
    auth: 'authenticated',
    responses: { 200: { description: 'Profile', schema: MeResult }, 404: { description: 'profile_not_found' } },
    handler: async ({ caller }) => {
      const me = caller!;
      if (me.isStaff) {
        const staff = await getStaff(me.sub);
        if (!staff) throw notFound();
        return { status: 200, body: { kind: 'staff', profile: staffView(staff), roles: me.roles } };
      }
      const profile = await getClientProfile(me.sub);
      if (!profile) throw notFound();
      return {
        status: 200,
        body: {
          kind: 'client',
          profile: clientProfileView(profile),
          onboarding: onboardingView(profile),
          roles: me.roles,
        },
      };
    },
  }),
];

export const handler = httpHandler(...routes);
