/**
 * The demo tenant's seed: one user per role, created through the product's own code paths
 * (client self-registration, admin-created staff), so a seeded user is indistinguishable from a
 * real one. Idempotent: a user that already exists is left alone, so restarts keep their data.
 * Local only: the shared demo password never exists in a deployed stack.
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

export async function seedDemo(runtime: Runtime): Promise<{ created: string[] }> {
  // Imported here, after the runtime has set the environment the handlers' modules read.
  const { findEmailOwner } = await import('#store/unique-email.ts');
  const { registerClient } = await import('#functions/api/registrations.ts');
  const { createStaff } = await import('#functions/api/staff.ts');
  const { cognitoIdentity } = await import('#adapters/identity/cognito.ts');

  const created: string[] = [];
  for (const user of DEMO_USERS) {
    if (await findEmailOwner(user.email)) continue;
    const isClient = user.roles.includes('client');
    if (isClient) {
      await registerClient(
        {
          email: user.email,
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
      for (const role of user.roles.filter((r) => r !== 'client')) await cognitoIdentity.addToGroup('client', user.email, role);
    } else {
      const staffRoles = user.roles as Parameters<typeof createStaff>[0]['roles'];
      await createStaff(
        { email: user.email, firstName: user.firstName, lastName: user.lastName, roles: staffRoles },
        SEED_CALLER,
        'seed',
      );
      await cognitoIdentity.setPassword('staff', user.email, DEMO_PASSWORD);
    }
    created.push(user.email);
  }
  if (created.length) console.log(`[local] seeded ${created.length} demo users for tenant ${runtime.tenant}`);
  await seedDemoWallets();
  await seedDemoKyc();
  return { created };
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
  const { requestAdjustment } = await import('#functions/api/adjustments.ts');
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
      { key: `seed-demo-funding-${currency}`, requestId: 'seed' },
    );
  }
}

/**
 * The demo clients' verification, through the product's own routes and the real kyc-review state
 * machine (sandbox analyzer): client@demo.test completes onboarding with clean documents and is
 * approved automatically; partner@demo.test submits a blurry passport, so the compliance demo user
 * finds one review waiting in the queue. Idempotent: a client that already submitted is left alone.
 */
async function seedDemoKyc(): Promise<void> {
  const { findEmailOwner } = await import('#store/unique-email.ts');
  const { getClientProfile } = await import('#store/clients.ts');
  const { submitPersonalDetails, submitQuestionnaire } = await import('#functions/api/onboarding.ts');
  const { requestDocumentUpload, createSubmission } = await import('#functions/api/kyc.ts');
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
        'seed',
      );
    }
    if (!profile.onboarding?.questionnaire) {
      await submitQuestionnaire({ questionnaireId: 'mifid2-appropriateness', answers: best }, caller, 'seed');
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
        'seed',
      );
      const item = await getKycDocument(created.documentId);
      await s3().send(
        new PutObjectCommand({ Bucket: env.documentsBucket, Key: item!.s3Key, Body: body, ContentType: 'application/json' }),
      );
      ids.push(created.documentId);
    }
    await createSubmission({ documentIds: ids }, caller, 'seed');
  }
}
