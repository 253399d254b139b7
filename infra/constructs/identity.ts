/**
 * Two Cognito user pools (docs/decisions/0002-two-user-pools.md):
 * - clients: the broker's clients and partners; MFA optional (TOTP), created by the registration API.
 * - staff: back-office users; MFA required (TOTP only), no self sign-up, created by admins.
 * Both use the Cognito default password policy, email sign-in and the Plus feature plan with
 * threat protection enforced (compromised credentials, adaptive authentication).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
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
import { CLIENT_ROLES, type Role, STAFF_ROLES } from '#functions/manifest.ts';
import { acknowledge } from '../nag.ts';

export const CLIENT_GROUPS: readonly Role[] = CLIENT_ROLES;
export const STAFF_GROUPS: readonly Role[] = STAFF_ROLES;

export interface IdentityProps {
  tenant: string;
  brandName: string;
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
    [this.clientPool, this.clientPoolClient] = this.pool('Clients', props, { staff: false, groups: CLIENT_GROUPS });
    [this.staffPool, this.staffPoolClient] = this.pool('Staff', props, { staff: true, groups: STAFF_GROUPS });

    acknowledge(
      this.clientPool,
      'AwsSolutions-COG2',
      'Retail clients choose whether to enrol TOTP (MFA optional by product decision, ADR 0002); staff pool requires MFA.',
    );
  }

  private pool(id: string, props: IdentityProps, opts: PoolOptions): [UserPool, UserPoolClient] {
    const pool = new UserPool(this, `${id}Pool`, {
      userPoolName: `backoffice-${props.tenant}-${id.toLowerCase()}`,
      // Users are created by the API (AdminCreateUser), which runs the registration rules,
      // the restricted-country check and the audit trail; public SignUp would bypass them.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
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
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      userInvitation: {
        emailSubject: `${props.brandName}: ${opts.staff ? 'your back-office account' : 'your account'}`,
      },
    });
    for (const group of opts.groups) {
      pool.addGroup(`Group-${group}`, { groupName: group, description: `${group} role` });
    }
    const client = pool.addClient(`${id}AppClient`, {
      userPoolClientName: `backoffice-${props.tenant}-${id.toLowerCase()}`,
      generateSecret: false,
      authFlows: { userPassword: true, adminUserPassword: true },
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: opts.staff ? Duration.hours(12) : Duration.days(30),
      // Users cannot change their own attributes with their access token (UpdateUserAttributes):
      // email and names change only through the API, which keeps the unique-email registry, the
      // profile and the audit trail in step with Cognito.
      writeAttributes: new ClientAttributes(),
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
