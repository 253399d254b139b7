/**
 * Two Cognito user pools (docs/decisions/0002-two-user-pools.md):
 * - clients: the broker's clients and partners; MFA optional (TOTP), created by the registration API.
 * - staff: back-office users; MFA required (TOTP only), no self sign-up, created by admins.
 * Both use the Cognito default password policy, email sign-in and the Plus feature plan with
 * threat protection enforced (compromised credentials, adaptive authentication).
 */
import { Duration } from 'aws-cdk-lib';
import {
  AccountRecovery,
  ClientAttributes,
  FeaturePlan,
  Mfa,
  StandardThreatProtectionMode,
  UserPool,
  type UserPoolClient,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import type { TenantConfig } from '#domain/tenant/config.ts';
import { CLIENT_ROLES, type Role, STAFF_ROLES } from '#functions/manifest.ts';
import { acknowledge } from '../nag.ts';
import { removalPolicy } from './removal.ts';

/**
 * The only attribute a user may write with its own access token (UpdateUserAttributes). Cognito treats an
 * empty WriteAttributes list as "not set" and then lets users write EVERY standard attribute, so the list must
 * name something; `locale` is read by nothing here (the language comes from the profile and Accept-Language).
 */
export const USER_WRITABLE_ATTRIBUTES = ['locale'] as const;

export const CLIENT_GROUPS: readonly Role[] = CLIENT_ROLES;
export const STAFF_GROUPS: readonly Role[] = STAFF_ROLES;

export interface IdentityProps {
  tenantConfig: TenantConfig;
}

interface PoolOptions {
  staff: boolean;
  groups: readonly Role[];
}

export class Identity extends Construct {
  readonly clientPool: UserPool;
  readonly clientPoolClient: UserPoolClient;
  readonly staffPool: UserPool;
  readonly staffPoolClient: UserPoolClient;

  constructor(scope: Construct, id: string, props: IdentityProps) {
    super(scope, id);
    const cfg = props.tenantConfig;
    [this.clientPool, this.clientPoolClient] = this.pool('Clients', cfg, { staff: false, groups: CLIENT_GROUPS });
    [this.staffPool, this.staffPoolClient] = this.pool('Staff', cfg, { staff: true, groups: STAFF_GROUPS });

    acknowledge(
      this.clientPool,
      'AwsSolutions-COG2',
      'Retail clients choose whether to enrol TOTP (MFA optional by product decision, ADR 0002); staff pool requires MFA.',
    );
  }

  private pool(id: string, cfg: TenantConfig, opts: PoolOptions): [UserPool, UserPoolClient] {
    const pool = new UserPool(this, `${id}Pool`, {
      userPoolName: `backoffice-${cfg.tenant}-${id.toLowerCase()}`,
      // Users are created by the API (AdminCreateUser), which runs the registration rules,
      // the restricted-country check and the audit trail; public SignUp would bypass them.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      // Not `required`: Cognito refuses an app client that cannot write a required attribute, and users must
      // not write their email (only the API changes it, with the registry and the audit trail). The API sets
      // it on every user it creates (AdminCreateUser), and it is the sign-in alias.
      standardAttributes: { email: { required: false, mutable: true } },
      // Cognito default policy, stated explicitly so a security review can read it here.
      passwordPolicy: {
        minLength: 8,
        requireUppercase: true,
        requireLowercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(opts.staff ? 1 : 7),
      },
      mfa: opts.staff ? Mfa.REQUIRED : Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: FeaturePlan.PLUS,
      standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: cfg.production,
      removalPolicy: removalPolicy(cfg),
      userInvitation: {
        emailSubject: `${cfg.brand.name}: ${opts.staff ? 'your back-office account' : 'your account'}`,
      },
    });
    for (const group of opts.groups) {
      pool.addGroup(`Group-${group}`, { groupName: group, description: `${group} role` });
    }
    const client = pool.addClient(`${id}AppClient`, {
      userPoolClientName: `backoffice-${cfg.tenant}-${id.toLowerCase()}`,
      generateSecret: false,
      authFlows: { userPassword: true, adminUserPassword: true },
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: opts.staff ? Duration.hours(12) : Duration.days(30),
      // Users cannot change their email or names with their access token (UpdateUserAttributes): they change
      // only through the API, which keeps the unique-email registry, the profile and the audit trail in step
      // with Cognito. An explicit one-entry list (an empty one means "everything", see USER_WRITABLE_ATTRIBUTES).
      writeAttributes: new ClientAttributes().withStandardAttributes({ locale: true }),
      readAttributes: new ClientAttributes().withStandardAttributes({
        email: true,
        emailVerified: true,
        givenName: true,
        familyName: true,
      }),
    });
    return [pool, client];
  }
}
