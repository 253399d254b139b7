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
 * Names are generated, never fixed: a fixed name stays taken for the whole deletion recovery window after a
 * rolled-back create, and the retry would fail with AlreadyExists. Operators find a provider's secret by the
 * stack output `PspSecret<Provider>` (its ARN) or by its description.
 *
 * Invariants: secrets are encrypted with the tenant's data key and kept on stack deletion for production
 * tenants (infra/constructs/removal.ts); only the provider secret is granted to functions (the seed is read by
 * CloudFormation alone).
 */
import { Fn, SecretValue } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { TenantConfig } from '#domain/tenant/config.ts';
import { acknowledge } from '../nag.ts';
import { removalPolicy } from './removal.ts';

export interface PspSecretsProps {
  tenantConfig: TenantConfig;
  key: IKey;
}

/** How a provider's secret is described (the console and `aws secretsmanager list-secrets` show it). */
export const pspSecretDescription = (tenant: string, provider: string) =>
  `backoffice-${tenant}: webhook signing secrets (newest first) and API key of PSP ${provider}`;

export class PspSecrets extends Construct {
  /** By provider id. */
  readonly byProvider = new Map<string, Secret>();

  constructor(scope: Construct, id: string, props: PspSecretsProps) {
    super(scope, id);
    const cfg = props.tenantConfig;
    const providers = [...new Set(cfg.payments.methods.map((m) => m.provider))].sort();
    for (const provider of providers) {
      const seed = new Secret(this, `Seed-${provider}`, {
        description: `backoffice-${cfg.tenant}: initial webhook signing secret of PSP ${provider} (copied into its provider secret at creation)`,
        encryptionKey: props.key,
        generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
        removalPolicy: removalPolicy(cfg),
      });
      const secret = new Secret(this, `Secret-${provider}`, {
        description: pspSecretDescription(cfg.tenant, provider),
        encryptionKey: props.key,
        secretStringValue: SecretValue.unsafePlainText(
          Fn.join('', ['{"webhookSecrets":["', seed.secretValue.unsafeUnwrap(), '"]}']),
        ),
        removalPolicy: removalPolicy(cfg),
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
