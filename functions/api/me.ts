/**
 * GET /v1/me: the caller's own profile.
 *
 * Invariants:
 * - a caller only ever sees its own record (looked up by its token's sub, never by a parameter)
 * - clients get their profile, onboarding state { stage, kycStatus, next, profileSubmitted, questionnaire
 *   (latest result or null) } and roles; staff get
 *   their staff profile and roles; no credential is ever returned
 * - a signed-in caller without a profile is 404 profile_not_found
 * - the lookup is the get-me use case (functions/app/identity/get-me.ts); the views are
 *   functions/api/shared/identity-views.ts
 */
import * as z from 'zod';
import { getMe } from '#app/identity/get-me.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { clientProfileView, onboardingView, staffView } from './shared/identity-views.ts';

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
    handler: async ({ caller, correlationId, locale }) => {
      const me = await getMe(caller!, { requestId: correlationId, locale });
      if (me.kind === 'staff') {
        return { status: 200, body: { kind: 'staff', profile: staffView(me.staff), roles: caller!.roles } };
      }
      return {
        status: 200,
        body: {
          kind: 'client',
          profile: clientProfileView(me.profile),
          onboarding: onboardingView(me.profile),
          roles: caller!.roles,
        },
      };
    },
  }),
];

export const handler = httpHandler(...routes);
