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
