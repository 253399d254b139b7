/**
 * One Secrets Manager secret per payment provider the tenant's methods use (`payments.methods[].provider`),
 * in the shape functions/adapters/psp/secrets.ts reads: `{ "webhookSecrets": ["<newest>", ...], "apiKey"?: "..." }`.
 * Functions holding `psp:secrets` may read them (PSP_SECRET_ARN_<PROVIDER>, infra/constructs/functions.ts).
 *
 * The first webhook secret is generated at deployment, never in the template: Secrets Manager can only
 * generate a top-level string, so a seed secret holds the random value and the provider secret embeds it
 * through a CloudFormation dynamic reference (resolved by CloudFormation, never written to the template).
 * For the sandbox that is the whole story (it signs with it); for a real provider an operator puts the
 * provider's own signing secret and API key in front (newest first) when connecting the account.
 *
 * Invariants: secrets are encrypted with the tenant's data key and retained on stack deletion; only the
 * provider secret is granted to functions (the seed is read by CloudFormation alone).
 */
import { Fn, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { TenantConfig } from '#domain/tenant/config.ts';
import { acknowledge } from '../nag.ts';

export interface PspSecretsProps {
  tenantConfig: TenantConfig;
  key: IKey;
}

export const pspSecretName = (tenant: string, provider: string) => `backoffice/${tenant}/psp/${provider}`;

export class PspSecrets extends Construct {
  /** By provider id. */
  readonly byProvider = new Map<string, Secret>();

  constructor(scope: Construct, id: string, props: PspSecretsProps) {
    super(scope, id);
    const cfg = props.tenantConfig;
    const providers = [...new Set(cfg.payments.methods.map((m) => m.provider))].sort();
    for (const provider of providers) {
      const seed = new Secret(this, `Seed-${provider}`, {
        description: `Initial webhook signing secret of PSP ${provider} (copied into ${pspSecretName(cfg.tenant, provider)} at creation)`,
        encryptionKey: props.key,
        generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      const secret = new Secret(this, `Secret-${provider}`, {
        secretName: pspSecretName(cfg.tenant, provider),
        description: `Webhook signing secrets (newest first) and API key of PSP ${provider}`,
        encryptionKey: props.key,
        secretStringValue: SecretValue.unsafePlainText(
          Fn.join('', ['{"webhookSecrets":["', seed.secretValue.unsafeUnwrap(), '"]}']),
        ),
        removalPolicy: RemovalPolicy.RETAIN,
      });
      for (const s of [seed, secret]) {
        acknowledge(
          s,
          'AwsSolutions-SMG4',
          'PSP signing secrets rotate together with the provider (new secret added first, old one removed after the overlap); Secrets Manager cannot rotate them alone.',
        );
      }
      this.byProvider.set(provider, secret);
    }
  }
}
