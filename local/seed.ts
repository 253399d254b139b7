/**
 * The demo tenant's seed: one user per role, created through the product's own code paths
 * (client self-registration, admin-created staff), so a seeded user is indistinguishable from a
 * real one. Local only: the shared demo password never exists in a deployed stack.
 *
 * Invariants:
 * - idempotent: a run over a complete seed writes nothing (every step reads first), so restarts keep their data
 * - resumable: a run finishes whatever an interrupted earlier run began (Ctrl-C or a kill during
 *   `npm start -- --fresh`), and never fails on what that run already made:
 *   - an email reservation without its user (UNIQUE#EMAIL still pending: the run stopped inside provisioning)
 *     is released and the user provisioned again; provisioning replaces the Cognito user that attempt may have
 *     left (provision-user.ts adopts orphans). Releasing a LIVE reservation is safe only because the seed is
 *     the only writer of the demo emails and runs before the runtime reports ready
 *   - an existing user is completed: the Cognito group of every demo role (the partner role is added after
 *     registration) and, for a user whose password was never set (staff are created without one), the demo password
 *   - wallet funding replays by its idempotency keys; KYC is submitted for a demo client that has not submitted
 *     yet, its profile and questionnaire only when missing
 * - a demo user the seed cannot repair (the table owns the email but the local Cognito has no user with its id, e.g.
 *   cognito.json deleted by hand) is reported and skipped, not fatal: `npm start -- --fresh` starts over
 */
import type { Role } from '#functions/manifest.ts';
import type { Runtime } from '#local/runtime.ts';

export const DEMO_PASSWORD = 'Demo-Passw0rd!';

export interface DemoUser {
  email: string;
  firstName: string;
  lastName: string;
  roles: Role[];
}

export const DEMO_USERS: DemoUser[] = [
  { email: 'client@demo.test', firstName: 'Clara', lastName: 'Client', roles: ['client'] },
  { email: 'partner@demo.test', firstName: 'Paul', lastName: 'Partner', roles: ['client', 'partner'] },
  { email: 'sales@demo.test', firstName: 'Sam', lastName: 'Sales', roles: ['sales'] },
  { email: 'compliance@demo.test', firstName: 'Cora', lastName: 'Compliance', roles: ['compliance'] },
  { email: 'finance@demo.test', firstName: 'Finn', lastName: 'Finance', roles: ['finance'] },
  { email: 'admin@demo.test', firstName: 'Ada', lastName: 'Admin', roles: ['admin'] },
];

const SEED_CALLER = { sub: 'system:seed', email: 'seed@local', roles: ['admin'] as Role[], isStaff: true };

export interface SeedResult {
  /** Demo users provisioned by this run. */
  created: string[];
  /** Existing demo users this run completed (a missing group or password). */
  repaired: string[];
  /** Demo users that could not be repaired (see the module doc). */
  broken: string[];
}

type UserOutcome = 'created' | 'repaired' | 'unchanged' | 'broken';

export async function seedDemo(runtime: Runtime): Promise<SeedResult> {
  const result: SeedResult = { created: [], repaired: [], broken: [] };
  for (const user of DEMO_USERS) {
    const outcome = await seedUser(user);
    if (outcome !== 'unchanged') result[outcome].push(user.email);
  }
  if (result.created.length) console.log(`[local] seeded ${result.created.length} demo users for tenant ${runtime.tenant}`);
  if (result.repaired.length)
    console.log(`[local] completed demo users an earlier seed left unfinished: ${result.repaired.join(', ')}`);
  for (const email of result.broken) {
    console.error(
      `[local] demo user ${email}: the table owns the email but the local Cognito has no such user; ` +
        'it cannot sign in (npm start -- --fresh starts over)',
    );
  }
  await seedDemoWallets();
  const partners = await import('./seed-partners.ts');
  await partners.registerSubPartners(DEMO_PASSWORD);
  await seedDemoKyc();
  await seedDemoTradingAccount();
  await partners.seedDemoPartners();
  return result;
}

/** One demo user: provisioned when missing (an interrupted attempt's reservation released first), else completed. */
async function seedUser(user: DemoUser): Promise<UserOutcome> {
  // Imported here, after the runtime has set the environment the handlers' modules read.
  const { findEmailClaim, isActiveClaim, releaseEmail } = await import('#store/unique-email.ts');
  const { normalizeEmail } = await import('#domain/identity/rules.ts');
  const { registerClient } = await import('#app/identity/register-client.ts');
  const { createStaff } = await import('#app/identity/create-staff.ts');
  const { cognitoIdentity } = await import('#adapters/identity/cognito.ts');

  const email = normalizeEmail(user.email);
  const isClient = user.roles.includes('client');
  const pool = isClient ? ('client' as const) : ('staff' as const);
  let claim = await findEmailClaim(email);
  let outcome: UserOutcome = 'unchanged';
  if (claim && !isActiveClaim(claim) && claim.reservationId) {
    await releaseEmail({ email, kind: claim.kind, reservationId: claim.reservationId, expiresAt: claim.expiresAt ?? 0 });
    claim = undefined;
  }
  if (!claim) {
    if (isClient) {
      await registerClient(
        {
          email,
          password: DEMO_PASSWORD,
          firstName: user.firstName,
          lastName: user.lastName,
          dateOfBirth: '1990-04-12',
          countryOfResidence: 'DE',
          clientType: 'retail',
          locale: 'en',
        },
        { requestId: 'seed', locale: 'en' },
      );
    } else {
      const staffRoles = user.roles as Parameters<typeof createStaff>[0]['roles'];
      await createStaff({ email, firstName: user.firstName, lastName: user.lastName, roles: staffRoles }, SEED_CALLER, {
        requestId: 'seed',
        locale: 'en',
      });
    }
    outcome = 'created';
    claim = await findEmailClaim(email);
  }
  const identity = await cognitoIdentity.getUser(pool, email);
  if (!claim || !isActiveClaim(claim) || claim.kind !== pool || !identity || identity.sub !== claim.ownerId) return 'broken';

  // What provisioning leaves to the caller, or an interrupted run may not have reached: groups and the password.
  const have = new Set(await groupsOf(pool, email));
  let repaired = false;
  for (const role of user.roles.filter((r) => !have.has(r))) {
    await cognitoIdentity.addToGroup(pool, email, role);
    repaired = true;
  }
  if (identity.status !== 'CONFIRMED') {
    await cognitoIdentity.setPassword(pool, email, DEMO_PASSWORD);
    repaired = true;
  }
  // A user created now is 'created' (staff always get their password here); an existing one completed is 'repaired'.
  return outcome === 'created' ? 'created' : repaired ? 'repaired' : 'unchanged';
}

/** The user's Cognito groups (the identity port has no such read: the seed asks the pool directly). */
async function groupsOf(pool: 'client' | 'staff', email: string): Promise<string[]> {
  const { AdminListGroupsForUserCommand } = await import('@aws-sdk/client-cognito-identity-provider');
  const { cognito } = await import('#shared/clients.ts');
  const { env } = await import('#shared/env.ts');
  const res = await cognito().send(
    new AdminListGroupsForUserCommand({ UserPoolId: pool === 'staff' ? env.staffUserPoolId : env.userPoolId, Username: email }),
  );
  return (res.Groups ?? []).map((g) => g.GroupName ?? '');
}

/** What the demo client holds after seeding: funded through finance adjustments below the four-eyes threshold. */
export const DEMO_FUNDING = [
  { currency: 'USD', amount: '5000.00' },
  { currency: 'EUR', amount: '2500.00' },
] as const;

/**
 * Gives the demo client funded wallets through the product's own adjustment path (finance user, house
 * adjustments account, audited journal). Idempotent across restarts: each credit carries a fixed
 * idempotency key, so the ledger replays it instead of posting it again.
 */
async function seedDemoWallets(): Promise<void> {
  const { findEmailOwner } = await import('#store/unique-email.ts');
  const { requestAdjustment } = await import('#app/ledger/request-adjustment.ts');
  const { ensureWallet } = await import('#store/ledger/accounts.ts');
  const client = await findEmailOwner('client@demo.test');
  const finance = await findEmailOwner('finance@demo.test');
  if (!client || !finance) return;
  const caller = { sub: finance.ownerId, email: 'finance@demo.test', roles: ['finance'] as Role[], isStaff: true };
  for (const { currency, amount } of DEMO_FUNDING) {
    const wallet = await ensureWallet(client.ownerId, currency, {
      actor: { id: 'system:seed', role: 'system' },
      requestId: 'seed',
    });
    await requestAdjustment(
      {
        walletId: wallet.accountId,
        direction: 'credit',
        amount: { amount, currency },
        reason: 'Demo seed: opening balance for the demo client',
      },
      caller,
      { idempotencyKey: `seed-demo-funding-${currency}`, requestId: 'seed', locale: 'en' },
    );
  }
}

/**
 * A demo MT5 account (EUR, Standard, 1:30) for client@demo.test on the local simulator, opened through the
 * product's own use case with a fixed Idempotency-Key, so a restart replays it instead of opening another. Its
 * passwords are not shown anywhere: the client resets them (POST .../password-resets) to sign in to a terminal.
 * A live account needs the approved KYC that the review state machine grants after the seed: the client opens
 * one itself. A platform that does not answer leaves the demo without an account (logged), never a failed start.
 */
async function seedDemoTradingAccount(): Promise<void> {
  const { findEmailOwner } = await import('#store/unique-email.ts');
  const { openTradingAccount } = await import('#app/trading/open-account.ts');
  const client = await findEmailOwner('client@demo.test');
  if (!client) return;
  const caller = { sub: client.ownerId, email: 'client@demo.test', roles: ['client'] as Role[], isStaff: false };
  try {
    const { account, replayed } = await openTradingAccount(
      { typeId: 'standard', kind: 'demo', currency: 'EUR', leverage: 30 },
      caller,
      { idempotencyKey: 'seed-demo-trading-account', requestId: 'seed', locale: 'en' },
    );
    if (!replayed) console.log(`[local] demo MT5 account ${account.login} (demo, EUR) opened for client@demo.test`);
  } catch (err) {
    console.error(`[local] demo trading account not opened: ${(err as Error).message}`);
  }
}

/**
 * The demo clients' verification, through the product's own routes and the real kyc-review state
 * machine (sandbox analyzer): client@demo.test (and the demo IB network's sub-IBs) complete onboarding with clean
 * documents and are approved automatically; partner@demo.test submits a blurry passport, so the compliance demo
 * user finds one review waiting in the queue. Idempotent: a client that already submitted is left alone.
 */
async function seedDemoKyc(): Promise<void> {
  const { findEmailOwner } = await import('#store/unique-email.ts');
  const { getClientProfile } = await import('#store/clients.ts');
  const { submitPersonalDetails } = await import('#app/identity/submit-personal-details.ts');
  const { submitQuestionnaire } = await import('#app/identity/submit-questionnaire.ts');
  const { requestDocumentUpload } = await import('#app/kyc/request-document-upload.ts');
  const { createSubmission } = await import('#app/kyc/create-submission.ts');
  const { MIFID2_APPROPRIATENESS } = await import('#domain/onboarding/questionnaire.ts');
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  const { s3 } = await import('#shared/clients.ts');
  const { env } = await import('#shared/env.ts');
  const { getKycDocument } = await import('#store/kyc.ts');

  const best = Object.fromEntries(
    MIFID2_APPROPRIATENESS.questions.map((q) => [q.id, [...q.options].sort((a, b) => b.score - a.score)[0]!.id]),
  );
  const demo = [
    { email: 'client@demo.test', number: 'C01DEMO01', confidence: 0.97 },
    { email: 'partner@demo.test', number: 'C01DEMO02', confidence: 0.45 },
    // The demo IB network's sub-IBs (local/seed-partners.ts): verified, so their payouts are not held.
    { email: 'ib-north@demo.test', number: 'C01DEMO03', confidence: 0.97 },
    { email: 'ib-city@demo.test', number: 'C01DEMO04', confidence: 0.97 },
  ];
  for (const d of demo) {
    const owner = await findEmailOwner(d.email);
    const profile = owner && (await getClientProfile(owner.ownerId));
    if (!owner || !profile || (profile.kycStatus ?? 'not_started') !== 'not_started') continue;
    const caller = { sub: owner.ownerId, email: d.email, roles: ['client'] as Role[], isStaff: false };
    if (!profile.personalDetails) {
      await submitPersonalDetails(
        {
          phone: '+4930123456789',
          nationality: 'DE',
          address: { line1: 'Unter den Linden 10', city: 'Berlin', postalCode: '10117', country: 'DE' },
          taxResidence: 'DE',
          employmentStatus: 'employed',
          annualIncome: '25k_to_100k',
          netWorth: '10k_to_50k',
          sourceOfFunds: 'salary',
          politicallyExposed: false,
        },
        caller,
        { requestId: 'seed', locale: 'en' },
      );
    }
    if (!profile.onboarding?.questionnaire) {
      await submitQuestionnaire({ questionnaireId: 'mifid2-appropriateness', answers: best }, caller, {
        requestId: 'seed',
        locale: 'en',
      });
    }
    const today = new Date().toISOString().slice(0, 10);
    const files = [
      {
        spec: { category: 'identity' as const, documentType: 'passport', side: 'front' as const },
        doc: {
          documentType: 'passport',
          fields: {
            firstName: profile.firstName,
            lastName: profile.lastName,
            dateOfBirth: profile.dateOfBirth,
            documentNumber: d.number,
            expiryDate: '2033-06-30',
            issuingCountry: 'DEU',
          },
          confidence: d.confidence,
        },
      },
      {
        spec: { category: 'proof_of_address' as const, documentType: 'utility_bill' },
        doc: {
          documentType: 'proof_of_address',
          fields: {
            name: `${profile.firstName} ${profile.lastName}`,
            address: 'Unter den Linden 10, Berlin',
            postalCode: '10117',
            country: 'DE',
            issueDate: today,
          },
          confidence: 0.95,
        },
      },
    ];
    const ids: string[] = [];
    for (const f of files) {
      const body = JSON.stringify(f.doc);
      const created = await requestDocumentUpload(
        { ...f.spec, contentType: 'application/json', size: Buffer.byteLength(body) },
        caller,
        { requestId: 'seed', locale: 'en' },
      );
      const item = await getKycDocument(created.documentId);
      await s3().send(
        new PutObjectCommand({ Bucket: env.documentsBucket, Key: item!.s3Key, Body: body, ContentType: 'application/json' }),
      );
      ids.push(created.documentId);
    }
    await createSubmission({ documentIds: ids }, caller, { requestId: 'seed', locale: 'en' });
  }
}
