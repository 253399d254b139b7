/**
 * Onboarding handlers against a real table on DynamoDB Local: the localised form, personal details
 * (happy path + audit, every bad-input code with nothing written), questionnaire scoring and history,
 * GET /v1/me reflecting progress, 403 for non-clients, 404 without a profile.
 */
import { randomUUID } from 'node:crypto';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { MIFID2_APPROPRIATENESS } from '#domain/onboarding/index.ts';
import { ddb } from '#shared/clients.ts';
import type { ClientType } from '#store/clients.ts';
import { auditKeys } from '#store/keys.ts';
import { listQuestionnaireAttempts } from '#store/questionnaires.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { PERSONAL_DETAILS, seedClient } from '../support/clients.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';

type Handler = (
  e: ReturnType<typeof apiEvent>,
  c: ReturnType<typeof lambdaContext>,
) => Promise<{ statusCode: number; body: string; headers?: Record<string, unknown> }>;
let onboarding: Handler;
let me: Handler;
let table: string;

const uid = () => randomUUID().slice(0, 8);
const call = (h: Handler, input: Parameters<typeof apiEvent>[0]) => h(apiEvent(input), lambdaContext());

/** Writes a registered client's profile (and its first audit item) the way registration does. */
async function registeredClient(country = 'DE', clientType: ClientType = 'retail') {
  const { claims } = await seedClient({
    firstName: 'Anna',
    lastName: 'Schmidt',
    dateOfBirth: '1990-04-01',
    countryOfResidence: country,
    jurisdiction: country === 'GB' ? 'UK' : 'EU',
    clientType,
    locale: 'de',
    emailVerified: false,
    onboarding: { stage: 'registered' },
    personalDetails: undefined,
  });
  return claims;
}

const details = (over: Record<string, unknown> = {}) => ({ ...PERSONAL_DETAILS, taxId: '12345678901', ...over });

const best = Object.fromEntries(
  MIFID2_APPROPRIATENESS.questions.map((q) => [q.id, [...q.options].sort((a, b) => b.score - a.score)[0]!.id]),
);
const worst = Object.fromEntries(
  MIFID2_APPROPRIATENESS.questions.map((q) => [q.id, [...q.options].sort((a, b) => a.score - b.score)[0]!.id]),
);

const form = (claims: Record<string, string>, lang = 'de') =>
  call(onboarding, { method: 'GET', resource: '/v1/onboarding/form', claims, headers: { 'Accept-Language': lang } });
const submitDetails = (claims: Record<string, string>, body: unknown) =>
  call(onboarding, { method: 'POST', resource: '/v1/onboarding/profile', claims, body });
const answer = (claims: Record<string, string>, answers: Record<string, string>, questionnaireId = 'mifid2-appropriateness') =>
  call(onboarding, { method: 'POST', resource: '/v1/onboarding/questionnaire', claims, body: { questionnaireId, answers } });
const getMe = (claims: Record<string, string>) => call(me, { method: 'GET', resource: '/v1/me', claims });

const countItems = async () =>
  (await ddb().send(new ScanCommand({ TableName: table, Select: 'COUNT', ConsistentRead: true }))).Count ?? 0;
const auditTrail = async (clientId: string) =>
  ((
    await ddb().send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :seq)',
        ExpressionAttributeValues: { ':pk': auditKeys.partition('client', clientId), ':seq': auditKeys.seqPrefix },
        ConsistentRead: true,
      }),
    )
  ).Items ?? []) as { action: string; before: unknown; after: unknown; seq: number }[];

beforeAll(async () => {
  table = await useHandlerEnv('onboarding-api');
  onboarding = (await import('#functions/api/onboarding.ts')).handler as Handler;
  me = (await import('#functions/api/me.ts')).handler as Handler;
});

describe('GET /v1/onboarding/form', () => {
  it('gives a DE client the EU form in German, with the MiFID II questionnaire and no scores', async () => {
    const res = await form(await registeredClient('DE'));
    expect(res.statusCode, res.body).toBe(200);
    const out = bodyOf<{
      locale: string;
      jurisdiction: string;
      regulator: string;
      profile: { name: string; label: string; options?: { id: string }[] }[];
      questionnaire: { id: string; title: string; questions: { id: string; label: string }[] };
    }>(res);
    expect(out).toMatchObject({ locale: 'de', jurisdiction: 'EU', regulator: 'CySEC' });
    expect(out.profile.find((f) => f.name === 'phone')?.label).toBe('Telefonnummer');
    expect(out.questionnaire.id).toBe('mifid2-appropriateness');
    expect(out.questionnaire.title).toBe('Angemessenheitsprüfung');
    expect(out.questionnaire.questions).toHaveLength(MIFID2_APPROPRIATENESS.questions.length);
    expect(res.body).not.toContain('"score"');
  });

  it("the form's select options are exactly what POST /v1/onboarding/profile accepts", async () => {
    const { ANNUAL_INCOME_BANDS, EMPLOYMENT_STATUSES, NET_WORTH_BANDS, SOURCES_OF_FUNDS } = await import(
      '#functions/api/onboarding.ts'
    );
    const fields = bodyOf<{ profile: { name: string; options?: { id: string }[] }[] }>(
      await form(await registeredClient()),
    ).profile;
    const ids = (name: string) => fields.find((f) => f.name === name)?.options?.map((o) => o.id);
    expect(ids('employmentStatus')).toEqual([...EMPLOYMENT_STATUSES]);
    expect(ids('annualIncome')).toEqual([...ANNUAL_INCOME_BANDS]);
    expect(ids('sourceOfFunds')).toEqual([...SOURCES_OF_FUNDS]);
    expect(ids('netWorth')).toEqual([...NET_WORTH_BANDS]);
    expect(fields.find((f) => f.name === 'politicallyExposed')).toMatchObject({ name: 'politicallyExposed' });
  });
});

describe('POST /v1/onboarding/profile', () => {
  it('stores the details with an audit item (before/after) and returns the onboarding state', async () => {
    const claims = await registeredClient('DE');
    const res = await submitDetails(claims, details());
    expect(res.statusCode, res.body).toBe(200);
    // an EU retail client still owes the questionnaire, so the stage does not move yet
    expect(bodyOf(res)).toEqual({
      stage: 'registered',
      kycStatus: 'not_started',
      next: 'complete_profile',
      profileSubmitted: true,
      questionnaire: null,
      questionnaireRequired: 'mifid2-appropriateness',
    });
    const trail = await auditTrail(claims.sub!);
    const entry = trail.find((a) => a.action === 'client.personal_details.submitted');
    expect(entry).toMatchObject({
      before: { personalDetails: null, stage: 'registered' },
      after: { personalDetails: { phone: '+4930123456789', address: { city: 'Berlin', country: 'DE' } }, stage: 'registered' },
    });

    // a correction keeps the previous details as `before`
    const again = await submitDetails(claims, details({ phone: '+4930999999999' }));
    expect(again.statusCode, again.body).toBe(200);
    const last = (await auditTrail(claims.sub!)).at(-1)!;
    expect(last).toMatchObject({
      action: 'client.personal_details.submitted',
      before: { personalDetails: { phone: '+4930123456789' } },
      after: { personalDetails: { phone: '+4930999999999' } },
    });
  });

  it('completes the profile stage at once for a client who owes no questionnaire', async () => {
    const claims = await registeredClient('DE', 'professional');
    const res = await submitDetails(claims, details());
    expect(res.statusCode, res.body).toBe(200);
    expect(bodyOf(res)).toMatchObject({ stage: 'profile_completed', next: 'submit_kyc', questionnaireRequired: null });
    expect(bodyOf(await getMe(claims))).toMatchObject({
      onboarding: { stage: 'profile_completed', next: 'submit_kyc', profileSubmitted: true, questionnaire: null },
    });
  });

  it.each([
    ['a phone number that is not E.164', details({ phone: '030 1234567' }), 'invalid_phone', 'phone', 'invalid_phone'],
    [
      'an address outside the country of residence',
      details({ address: { line1: 'Rue 1', city: 'Paris', postalCode: '75001', country: 'FR' } }),
      'address_country_mismatch',
      'address.country',
      'address_country_mismatch',
    ],
    ['an unknown field', details({ favouriteColour: 'blue' }), 'validation_failed', 'favouriteColour', 'unknown_field'],
    [
      'an unknown employment status',
      details({ employmentStatus: 'astronaut' }),
      'validation_failed',
      'employmentStatus',
      undefined,
    ],
    [
      'a missing PEP declaration',
      details({ politicallyExposed: undefined }),
      'validation_failed',
      'politicallyExposed',
      undefined,
    ],
  ])('rejects %s with 400 and writes nothing', async (_name, body, code, field, fieldCode) => {
    const claims = await registeredClient('DE');
    const before = await countItems();
    const res = await submitDetails(claims, body);
    expect(res.statusCode, res.body).toBe(400);
    const problem = bodyOf<{ code: string; errors: { field: string; code: string }[] }>(res);
    expect(problem.code).toBe(code);
    const err = problem.errors.find((e) => e.field === field);
    expect(err, res.body).toBeDefined();
    if (fieldCode) expect(err!.code).toBe(fieldCode);
    expect(await countItems()).toBe(before);
    expect(bodyOf(await getMe(claims))).toMatchObject({ onboarding: { profileSubmitted: false } });
  });
});

describe('POST /v1/onboarding/questionnaire', () => {
  it('scores an all-best answer set as appropriate', async () => {
    const claims = await registeredClient('DE');
    const res = await answer(claims, best);
    expect(res.statusCode, res.body).toBe(201);
    expect(bodyOf(res)).toEqual({
      questionnaireId: 'mifid2-appropriateness',
      attempt: 1,
      score: 24,
      maxScore: 24,
      result: 'appropriate',
      blockedProducts: [],
      warnings: [],
    });
  });

  it('scores an all-worst answer set as not appropriate, blocking products with warnings', async () => {
    const claims = await registeredClient('DE');
    const res = await answer(claims, worst);
    expect(res.statusCode, res.body).toBe(201);
    const out = bodyOf<{ score: number; result: string; blockedProducts: string[]; warnings: string[] }>(res);
    expect(out).toMatchObject({ score: 0, maxScore: 24, result: 'not_appropriate' });
    expect(out.blockedProducts).toEqual(MIFID2_APPROPRIATENESS.blockedWhenNotAppropriate);
    expect(out.warnings[0]).toBe('not_appropriate');
    expect(out.warnings).toContain('does_not_understand_leverage');
  });

  it('rejects incomplete answers with questionnaire_incomplete, one error per missing question, and writes nothing', async () => {
    const claims = await registeredClient('DE');
    const before = await countItems();
    const { margin_call: _m, education: _e, ...partial } = best;
    const res = await answer(claims, partial);
    expect(res.statusCode, res.body).toBe(400);
    const problem = bodyOf<{ code: string; errors: { field: string; code: string }[] }>(res);
    expect(problem.code).toBe('questionnaire_incomplete');
    expect(problem.errors.map((e) => e.field).sort()).toEqual(['answers.education', 'answers.margin_call']);
    expect(await countItems()).toBe(before);
  });

  it('keeps every attempt; the profile and GET /v1/me show the latest, and the stage completes with the details', async () => {
    const claims = await registeredClient('DE');
    expect((await answer(claims, worst)).statusCode).toBe(201);
    const second = await answer(claims, best);
    expect(second.statusCode, second.body).toBe(201);
    expect(bodyOf(second)).toMatchObject({ attempt: 2, result: 'appropriate' });

    const attempts = await listQuestionnaireAttempts(claims.sub!, 'mifid2-appropriateness');
    expect(attempts.map((a) => [a.attempt, a.result])).toEqual([
      [1, 'not_appropriate'],
      [2, 'appropriate'],
    ]);
    expect(attempts[0]!.answers).toEqual(worst);
    const trail = await auditTrail(claims.sub!);
    expect(trail.filter((a) => a.action === 'client.questionnaire.submitted')).toHaveLength(2);

    expect(bodyOf(await getMe(claims))).toMatchObject({
      onboarding: {
        stage: 'registered',
        profileSubmitted: false,
        questionnaire: { id: 'mifid2-appropriateness', attempt: 2, result: 'appropriate', score: 24 },
      },
    });
    const done = await submitDetails(claims, details());
    expect(bodyOf(done)).toMatchObject({ stage: 'profile_completed', next: 'submit_kyc', profileSubmitted: true });
  });

  it('an unknown questionnaire id is 400 unknown_questionnaire', async () => {
    const res = await answer(await registeredClient('DE'), best, 'not-a-questionnaire');
    expect(res.statusCode, res.body).toBe(400);
    expect(bodyOf(res)).toMatchObject({ code: 'unknown_questionnaire' });
  });

  it('a questionnaire the client does not owe is 409 questionnaire_not_required', async () => {
    const claims = await registeredClient('DE', 'professional');
    const before = await countItems();
    const res = await answer(claims, best);
    expect(res.statusCode, res.body).toBe(409);
    expect(bodyOf(res)).toMatchObject({ code: 'questionnaire_not_required' });
    expect(await countItems()).toBe(before);
  });
});

describe('authorisation', () => {
  const finance = claimsFor(`finance-${uid()}`, ['finance']);
  const ghost = claimsFor(`ghost-${uid()}`, ['client']);
  const requests = [
    ['GET /v1/onboarding/form', (c: Record<string, string>) => form(c)],
    ['POST /v1/onboarding/profile', (c: Record<string, string>) => submitDetails(c, details())],
    ['POST /v1/onboarding/questionnaire', (c: Record<string, string>) => answer(c, best)],
  ] as const;

  it.each(requests)('%s is 403 forbidden_role for staff', async (_route, send) => {
    const res = await send(finance);
    expect(res.statusCode, res.body).toBe(403);
    expect(bodyOf(res)).toMatchObject({ code: 'forbidden_role' });
  });

  it.each(requests)('%s is 404 profile_not_found for a client without a profile', async (_route, send) => {
    const res = await send(ghost);
    expect(res.statusCode, res.body).toBe(404);
    expect(bodyOf(res)).toMatchObject({ code: 'profile_not_found' });
  });
});
