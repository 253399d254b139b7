/**
 * Client journeys the e2e tests share: register the fixture person (resident in DE), complete the
 * profile and the questionnaire, upload sandbox KYC documents through the presigned POST, submit, and
 * poll GET /v1/kyc until a status is reached. Everything goes over HTTP against the local runtime.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { MIFID2_APPROPRIATENESS } from '#domain/onboarding/index.ts';
import { FIXTURE_PERSON, PERSONAL_DETAILS } from '../support/clients.ts';
import type { E2E } from './harness.ts';

export const PASSWORD = 'Str0ng-Passw0rd!';

// biome-ignore lint/suspicious/noExplicitAny: fixture documents and response bodies are untyped JSON
export type Json = any;

export const fixture = (name: string): Json =>
  JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../fixtures/kyc', name), 'utf8'));

/** proof-of-address-valid.json, re-dated to a few days ago when its static issue date has grown too old for today. */
export function recentBill(): Json {
  const f = fixture('proof-of-address-valid.json');
  const ageDays = (Date.now() - Date.parse(f.fields.issueDate)) / 86_400_000;
  if (ageDays >= 0 && ageDays < 80) return f;
  return { ...f, fields: { ...f.fields, issueDate: new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10) } };
}

const best = Object.fromEntries(
  MIFID2_APPROPRIATENESS.questions.map((q) => [q.id, [...q.options].sort((a, b) => b.score - a.score)[0]!.id]),
);

/**
 * Registers the fixture person (resident in DE), signs in, and completes the profile and the questionnaire.
 * `registration`: more registration fields (a referral code and visitor id).
 */
export async function onboardedClient(e2e: E2E, prefix = 'kyc', registration: Record<string, unknown> = {}): Promise<string> {
  const email = `${prefix}-${randomUUID().slice(0, 8)}@example.test`;
  const reg = await e2e.call('POST', '/v1/registrations', {
    body: {
      email,
      password: PASSWORD,
      ...FIXTURE_PERSON,
      countryOfResidence: 'DE',
      clientType: 'retail',
      ...registration,
    },
  });
  expect(reg.status, JSON.stringify(reg.body)).toBe(201);
  const token = await e2e.signIn(email, PASSWORD);
  const profile = await e2e.call('POST', '/v1/onboarding/profile', {
    token,
    body: PERSONAL_DETAILS,
  });
  expect(profile.status, JSON.stringify(profile.body)).toBe(200);
  const q = await e2e.call('POST', '/v1/onboarding/questionnaire', {
    token,
    body: { questionnaireId: 'mifid2-appropriateness', answers: best },
  });
  expect(q.status, JSON.stringify(q.body)).toBe(201);
  return token;
}

export type FileSpec = { category: 'identity' | 'proof_of_address'; documentType: string; side?: 'front' | 'back' };

/** Asks for an upload, posts the document to the presigned POST (fields first, file last) and returns the id. */
export async function upload(e2e: E2E, token: string, spec: FileSpec, doc: Json): Promise<string> {
  const data = Buffer.from(JSON.stringify(doc));
  const res = await e2e.call('POST', '/v1/kyc/documents', {
    token,
    body: { ...spec, contentType: 'application/json', size: data.length },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const form = new FormData();
  for (const [k, v] of Object.entries(res.body.upload.fields as Record<string, string>)) form.append(k, v);
  form.append('file', new Blob([new Uint8Array(data)], { type: 'application/json' }), 'document.json');
  const up = await fetch(res.body.upload.url, { method: 'POST', body: form });
  expect(up.status, await up.text()).toBeLessThan(300);
  return res.body.documentId;
}

export const PASSPORT: FileSpec = { category: 'identity', documentType: 'passport', side: 'front' };
export const BILL: FileSpec = { category: 'proof_of_address', documentType: 'utility_bill' };

export async function submit(e2e: E2E, token: string, documentIds: string[]): Promise<string> {
  const res = await e2e.call('POST', '/v1/kyc/submissions', { token, body: { documentIds } });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.submissionId;
}

/** Polls GET /v1/kyc (letting the stream, bus and queues settle in between) until `done` holds. */
export async function kycUntil(e2e: E2E, token: string, done: (body: Json) => boolean, ms = 45_000): Promise<Json> {
  const deadline = Date.now() + ms;
  let last: Json;
  for (;;) {
    await e2e.rt.settle();
    const res = await e2e.call('GET', '/v1/kyc', { token });
    expect(res.status).toBe(200);
    last = res.body;
    if (done(last)) return last;
    if (Date.now() > deadline) throw new Error(`KYC status not reached; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A new client, onboarded and KYC-approved through the real flow (automatic approval); returns its token. */
export async function approvedClient(e2e: E2E, prefix = 'client'): Promise<string> {
  const token = await onboardedClient(e2e, prefix);
  const passport = await upload(e2e, token, PASSPORT, fixture('passport-valid.json'));
  const bill = await upload(e2e, token, BILL, recentBill());
  await submit(e2e, token, [passport, bill]);
  const view = await kycUntil(e2e, token, (b) => b.status !== 'in_review');
  expect(view.status, JSON.stringify(view)).toBe('approved');
  return token;
}

/**
 * Like approvedClient, for a journey with several clients: the same fixture person again is a possible duplicate,
 * which the automatic checks send to manual review; a compliance officer then approves it through the review API.
 */
export async function verifiedClient(e2e: E2E, prefix = 'client', registration: Record<string, unknown> = {}): Promise<string> {
  const token = await onboardedClient(e2e, prefix, registration);
  const passport = await upload(e2e, token, PASSPORT, fixture('passport-valid.json'));
  const bill = await upload(e2e, token, BILL, recentBill());
  const submissionId = await submit(e2e, token, [passport, bill]);
  const view = await kycUntil(e2e, token, (b) => b.status === 'approved' || b.submission?.status === 'in_review');
  if (view.status !== 'approved') {
    const officer = await e2e.signIn('compliance@demo.test');
    const decision = await e2e.call('POST', `/v1/admin/kyc/reviews/${submissionId}/decision`, {
      token: officer,
      body: { decision: 'approve', reasons: [], note: 'Same person as an existing client checked: separate accounts allowed' },
    });
    expect(decision.status, JSON.stringify(decision.body)).toBe(200);
    await kycUntil(e2e, token, (b) => b.status === 'approved');
  }
  return token;
}

/** Polls GET `path` (letting the stream, bus, queues and state machines settle in between) until `done` holds. */
export async function until(e2e: E2E, token: string, path: string, done: (body: Json) => boolean, ms = 30_000): Promise<Json> {
  const deadline = Date.now() + ms;
  let last: Json;
  for (;;) {
    await e2e.rt.settle();
    const res = await e2e.call('GET', path, { token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    last = res.body;
    if (done(last)) return last;
    if (Date.now() > deadline) throw new Error(`${path}: condition not reached; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
