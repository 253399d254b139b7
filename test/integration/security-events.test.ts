/**
 * Security events (GitHub issue 12, finding 2) against a real table on DynamoDB Local: cross-client probes
 * and role refusals recorded at the edge, a burst de-duplicated into one counted item, the client's trail,
 * the compliance summary route and the compliance case a threshold opens. Failed sign-ins and lockouts:
 * sign-in-throttle.test.ts; bad webhook signatures: psp-webhooks.test.ts.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { flushSecurityEvents, resetSecurityRecorder } from '#app/platform/record-security-event.ts';
import { hourBucket } from '#domain/security/events.ts';
import { ddb } from '#shared/clients.ts';
import { securityEventKeys } from '#store/keys.ts';
import { ensureWallet } from '#store/ledger/accounts.ts';
import { type CaseKind, caseIdFor, getCase } from '#store/payments/cases.ts';
import { eventIdOf } from '#store/security-events.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { seedClient } from '../support/clients.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';

type Result = { statusCode: number; body: string; headers?: Record<string, unknown> };
type Handler = (e: ReturnType<typeof apiEvent>, c: ReturnType<typeof lambdaContext>) => Promise<Result>;

let table: string;
let wallets: Handler;
let securityEvents: Handler;
let audit: Handler;

beforeAll(async () => {
  table = await useHandlerEnv('secevents');
  wallets = (await import('#functions/api/wallets.ts')).handler as unknown as Handler;
  securityEvents = (await import('#functions/api/security-events.ts')).handler as unknown as Handler;
  audit = (await import('#functions/api/audit.ts')).handler as unknown as Handler;
});
beforeEach(() => resetSecurityRecorder());
afterAll(() => flushSecurityEvents());

const compliance = claimsFor('compliance-1', ['compliance']);
const item = async (key: { pk: string; sk: string }) =>
  (await ddb().send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
const eventItem = (kind: string, by: string, target: string) =>
  item(securityEventKeys.key(eventIdOf(kind, by, target, hourBucket(new Date()))));

async function walletOf() {
  const { clientId, claims } = await seedClient();
  const wallet = await ensureWallet(clientId, 'EUR', { actor: { id: clientId, role: 'client' }, requestId: 'test' });
  return { clientId, claims, walletId: wallet.accountId };
}

const transactions = (walletId: string, claims: Record<string, string>) =>
  wallets(
    apiEvent({
      method: 'GET',
      resource: '/v1/wallets/{walletId}/transactions',
      pathParameters: { walletId },
      claims,
      sourceIp: '203.0.113.7',
    }),
    lambdaContext(),
  );

const listEvents = (claims: Record<string, string>, query: Record<string, string> = {}) =>
  securityEvents(apiEvent({ method: 'GET', resource: '/v1/admin/security-events', claims, query }), lambdaContext());

const trailOf = async (clientId: string) =>
  bodyOf<{ items: Record<string, unknown>[] }>(
    await audit(
      apiEvent({
        method: 'GET',
        resource: '/v1/admin/clients/{clientId}/audit',
        pathParameters: { clientId },
        query: { limit: '100' },
        claims: compliance,
      }),
      lambdaContext(),
    ),
  ).items;

describe('cross-client probes', () => {
  it("100 probes of another client's wallet: 404 like an unknown id, ONE item counting 100, a handful of writes", async () => {
    const a = await walletOf();
    const b = await walletOf();
    const unknown = await transactions(`wal_nobody_EUR`, a.claims);
    const answers: Result[] = [];
    for (let i = 0; i < 100; i += 20) {
      answers.push(...(await Promise.all(Array.from({ length: 20 }, () => transactions(b.walletId, a.claims)))));
    }
    for (const r of answers) {
      expect(r.statusCode).toBe(404);
      expect(bodyOf(r).code).toBe(bodyOf(unknown).code);
      expect(bodyOf(r).detail).toBe(bodyOf(unknown).detail);
    }
    await flushSecurityEvents();
    const event = await eventItem('cross_client_probe', `user:${a.clientId}`, `client:${b.clientId}`);
    expect(event).toMatchObject({
      type: 'security-event',
      kind: 'cross_client_probe',
      by: `user:${a.clientId}`,
      target: `client:${b.clientId}`,
      clientId: a.clientId,
      count: 100,
      lastSource: 'ip:203.0.113.7',
      detail: { route: 'GET /v1/wallets/{walletId}/transactions' },
      gsi1pk: `CLIENTAUDIT#${a.clientId}`,
    });
    // `version` counts the writes: the burst was coalesced, not written once per request.
    expect(event?.version).toBeLessThanOrEqual(5);
    expect(event?.expiresAt).toBeGreaterThan(Date.now() / 1000 + 399 * 86_400);

    // Three probes in an hour open one cross_client_probing case for the prober, once.
    const caseId = caseIdFor('cross_client_probing' as unknown as CaseKind, `${a.clientId}:${hourBucket(new Date())}`);
    expect(await getCase(caseId)).toMatchObject({
      kind: 'cross_client_probing',
      clientId: a.clientId,
      status: 'open',
      evidence: { threshold: 3 },
    });
    const cases = await ddb().send(
      new QueryCommand({
        TableName: table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': `CASES#${a.clientId}` },
      }),
    );
    expect(cases.Items).toHaveLength(1);

    // The prober's trail shows the probe and the case; the owner's own reads record nothing.
    const trail = await trailOf(a.clientId);
    expect(trail).toContainEqual(
      expect.objectContaining({
        entryType: 'security-event',
        kind: 'cross_client_probe',
        count: 100,
        target: `client:${b.clientId}`,
      }),
    );
    expect(trail).toContainEqual(expect.objectContaining({ entryType: 'audit', action: 'compliance.case.opened' }));
    expect((await transactions(b.walletId, b.claims)).statusCode).toBe(200);
    await flushSecurityEvents();
    expect(await eventItem('cross_client_probe', `user:${b.clientId}`, `client:${b.clientId}`)).toBeUndefined();
  });

  it('two probes stay below the case threshold; staff reading any wallet is no probe', async () => {
    const a = await walletOf();
    const b = await walletOf();
    for (let i = 0; i < 2; i++) expect((await transactions(b.walletId, a.claims)).statusCode).toBe(404);
    expect((await transactions(b.walletId, claimsFor('finance-1', ['finance']))).statusCode).toBe(200);
    await flushSecurityEvents();
    expect(await eventItem('cross_client_probe', `user:${a.clientId}`, `client:${b.clientId}`)).toMatchObject({ count: 2 });
    expect(await eventItem('cross_client_probe', 'user:finance-1', `client:${b.clientId}`)).toBeUndefined();
    const caseId = caseIdFor('cross_client_probing' as unknown as CaseKind, `${a.clientId}:${hourBucket(new Date())}`);
    expect(await getCase(caseId)).toBeUndefined();
  });
});

describe('403 forbidden_role', () => {
  it("a client on a staff route and finance on compliance's route are recorded; the client's is on its trail", async () => {
    const a = await walletOf();
    for (let i = 0; i < 3; i++) expect((await listEvents(a.claims)).statusCode).toBe(403);
    const finance = await listEvents(claimsFor('finance-7', ['finance']));
    expect(finance.statusCode).toBe(403);
    expect(bodyOf(finance).code).toBe('forbidden_role');
    await flushSecurityEvents();
    expect(await eventItem('forbidden_role', `user:${a.clientId}`, 'GET /v1/admin/security-events')).toMatchObject({
      count: 3,
      clientId: a.clientId,
      detail: { roles: 'client' },
    });
    const staff = await eventItem('forbidden_role', 'user:finance-7', 'GET /v1/admin/security-events');
    expect(staff).toMatchObject({ count: 1, detail: { roles: 'finance' } });
    expect(staff?.clientId).toBeUndefined();
    expect(await trailOf(a.clientId)).toContainEqual(
      expect.objectContaining({ entryType: 'security-event', kind: 'forbidden_role', target: 'GET /v1/admin/security-events' }),
    );
  });
});

describe('GET /v1/admin/security-events', () => {
  it('compliance and admins read events with counts per kind and the top sources and targets; a page at a time', async () => {
    const a = await walletOf();
    const b = await walletOf();
    for (let i = 0; i < 7; i++) await transactions(b.walletId, a.claims);
    await listEvents(a.claims);
    await flushSecurityEvents();

    const res = await listEvents(compliance);
    expect(res.statusCode).toBe(200);
    const body = bodyOf<{
      window: { from: string; to: string };
      summary: {
        total: number;
        byKind: Record<string, number>;
        topSources: { source: string; count: number }[];
        topTargets: { target: string; count: number }[];
        truncated: boolean;
      };
      items: { kind: string; by: string; count: number }[];
      hasMore: boolean;
    }>(res);
    expect(Date.parse(body.window.to) - Date.parse(body.window.from)).toBe(24 * 3600_000);
    expect(body.summary.byKind.cross_client_probe).toBeGreaterThanOrEqual(7);
    expect(body.summary.byKind.forbidden_role).toBeGreaterThanOrEqual(1);
    expect(body.summary.total).toBe(Object.values(body.summary.byKind).reduce((x, y) => x + y, 0));
    expect(body.summary.topSources).toContainEqual({ source: `user:${a.clientId}`, count: 8 });
    expect(body.summary.topTargets).toContainEqual({ target: `client:${b.clientId}`, count: 7 });
    expect(body.summary.truncated).toBe(false);
    expect(body.items.length).toBeGreaterThanOrEqual(2);

    const onlyProbes = bodyOf<typeof body>(await listEvents(compliance, { kind: 'cross_client_probe', limit: '1' }));
    expect(onlyProbes.items).toHaveLength(1);
    expect(onlyProbes.items[0]!.kind).toBe('cross_client_probe');
    expect(Object.keys(onlyProbes.summary.byKind)).toEqual(['cross_client_probe']);
    expect(onlyProbes.hasMore).toBe(true);
    const cursor = (onlyProbes as unknown as { nextCursor: string }).nextCursor;
    const page2 = bodyOf<typeof body>(await listEvents(compliance, { kind: 'cross_client_probe', limit: '1', cursor }));
    expect(page2.items[0]).not.toEqual(onlyProbes.items[0]);
    // A cursor belongs to its filter.
    const mixed = await listEvents(compliance, { kind: 'forbidden_role', cursor });
    expect(mixed.statusCode).toBe(400);
    expect(bodyOf(mixed).code).toBe('invalid_cursor');

    expect((await listEvents(claimsFor('admin-1', ['admin']))).statusCode).toBe(200);
  });

  it('a window in the past has nothing; bad windows and kinds are 400 with their codes', async () => {
    const old = bodyOf<{ items: unknown[]; summary: { total: number } }>(
      await listEvents(compliance, { from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z' }),
    );
    expect(old).toMatchObject({ items: [], summary: { total: 0 } });
    const reversed = await listEvents(compliance, { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' });
    expect([reversed.statusCode, bodyOf(reversed).code]).toEqual([400, 'invalid_time_window']);
    const long = await listEvents(compliance, { from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' });
    expect([long.statusCode, bodyOf(long).code]).toEqual([400, 'time_window_too_large']);
    const kind = await listEvents(compliance, { kind: 'nonsense' });
    expect([kind.statusCode, bodyOf(kind).code]).toEqual([400, 'validation_failed']);
  });

  it('clients and finance are 403 forbidden_role', async () => {
    for (const claims of [claimsFor('c-9', ['client']), claimsFor('f-9', ['finance']), claimsFor('s-9', ['sales'])]) {
      const r = await listEvents(claims);
      expect(r.statusCode).toBe(403);
      expect(bodyOf(r).code).toBe('forbidden_role');
    }
  });
});

describe('recording never fails a request', () => {
  it('a table that refuses the write still gets the answer the route gives', async () => {
    const a = await walletOf();
    const b = await walletOf();
    const saved = process.env.TABLE_NAME;
    try {
      // The role check needs no table; the recorder's write goes to one that does not exist and fails.
      process.env.TABLE_NAME = `${table}-missing`;
      const r = await listEvents(a.claims);
      expect(r.statusCode).toBe(403);
      expect(bodyOf(r).code).toBe('forbidden_role');
    } finally {
      process.env.TABLE_NAME = saved;
    }
    await flushSecurityEvents();
    expect((await transactions(b.walletId, a.claims)).statusCode).toBe(404);
  });
});
