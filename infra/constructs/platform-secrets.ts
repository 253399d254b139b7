/**
 * One Secrets Manager secret per trading platform the tenant offers (`trading.platforms`), holding the connection
 * the adapter reads (functions/adapters/platforms/index.ts; PLATFORM_SECRET_ARN_<PLATFORM>). Functions holding
 * `platform:secrets` may read them.
 *
 * The secret is created with the connection's shape and empty values: the manager credentials are issued by the
 * broker's platform administrator (an MT5 manager account, cTrader WebServices token), not by us, so an operator
 * fills them after the first deployment (README "Connecting a trading platform"). Until then the adapter answers
 * platform_unavailable (503), never a 500, and nothing is sent anywhere.
 *
 * Names are generated, never fixed (as for PSP secrets); operators find a platform's secret by the stack output
 * `PlatformSecret<Platform>` or by its description.
 *
 * Invariants: encrypted with the tenant's data key, kept on stack deletion for production tenants; the template
 * holds no secret value (the shape only).
 */
import { SecretValue } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { TenantConfig } from '#domain/tenant/config.ts';
import { acknowledge } from '../nag.ts';
import { removalPolicy } from './removal.ts';

/** The JSON an operator puts in a platform's secret, per platform (empty values until connected). */
export const PLATFORM_SECRET_SHAPES: Readonly<Record<string, Record<string, string | number>>> = {
  // per-symbol tables (dxtrade `instruments`, match_trader `digits`) are added by the operator with the connection
  mt5: { baseUrl: '', managerLogin: 0, managerPassword: '', server: '' },
  mt4: { baseUrl: '', managerLogin: 0, managerPassword: '', server: '' },
  ctrader: {
    webservicesUrl: '',
    token: '',
    openApiHost: '',
    openApiPort: 5035,
    clientId: '',
    clientSecret: '',
    accessToken: '',
    brokerName: '',
    server: '',
  },
  dxtrade: { baseUrl: '', username: '', domain: '', password: '', server: '' },
  match_trader: { baseUrl: '', token: '', systemUuid: '', paymentGatewayUuid: '', server: '' },
};

export const platformSecretDescription = (tenant: string, platform: string) =>
  `backoffice-${tenant}: connection of trading platform ${platform} (manager credentials; filled by an operator)`;

export interface PlatformSecretsProps {
  tenantConfig: TenantConfig;
  key: IKey;
}

export class PlatformSecrets extends Construct {
  readonly byPlatform = new Map<string, Secret>();

  constructor(scope: Construct, id: string, props: PlatformSecretsProps) {
    super(scope, id);
    const cfg = props.tenantConfig;
    for (const platform of [...cfg.trading.platforms].sort()) {
      const secret = new Secret(this, `Secret-${platform}`, {
        description: platformSecretDescription(cfg.tenant, platform),
        encryptionKey: props.key,
        // the shape only: no credential is in the template
        secretStringValue: SecretValue.unsafePlainText(JSON.stringify(PLATFORM_SECRET_SHAPES[platform] ?? {})),
        removalPolicy: removalPolicy(cfg),
      });
      acknowledge(
        secret,
        'AwsSolutions-SMG4',
        'Platform manager credentials are issued and rotated on the trading platform by the broker; Secrets Manager cannot rotate them alone.',
      );
      this.byPlatform.set(platform, secret);
    }
  }
}
