/**
 * PSP secrets (webhook signing secrets, API keys), per provider. Never in code or in the tenant file.
 *
 * - local runtime and tests: PSP_WEBHOOK_SECRETS_<PROVIDER> (comma-separated, newest first), generated
 *   at start by local/runtime.ts
 * - AWS: the Secrets Manager secret named by PSP_SECRET_ARN_<PROVIDER> (a JSON object
 *   { "webhookSecrets": ["..."], "apiKey": "..." }), read through Powertools Parameters with a
 *   5-minute cache, so a rotation reaches every warm Lambda within minutes and a cold start costs one call
 *
 * Invariants: a provider without secrets is a configuration error (thrown, 500), never "accept unsigned".
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { toEnvSuffix } from '#shared/env.ts';

export interface PspSecrets {
  webhookSecrets: string[];
  apiKey?: string | undefined;
}

const CACHE_SECONDS = 300;

export async function pspSecrets(provider: string): Promise<PspSecrets> {
  const suffix = toEnvSuffix(provider);
  const local = process.env[`PSP_WEBHOOK_SECRETS_${suffix}`];
  if (local) {
    return {
      webhookSecrets: local
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      apiKey: process.env[`PSP_API_KEY_${suffix}`],
    };
  }
  const arn = process.env[`PSP_SECRET_ARN_${suffix}`];
  if (!arn) throw new Error(`No secrets configured for PSP ${provider} (PSP_SECRET_ARN_${suffix})`);
  const value = await getSecret<PspSecrets>(arn, { transform: 'json', maxAge: CACHE_SECONDS });
  if (!value || !Array.isArray(value.webhookSecrets) || value.webhookSecrets.length === 0) {
    throw new Error(`The secret of PSP ${provider} has no webhookSecrets`);
  }
  return value;
}

/** The provider's current webhook secrets (newest first). */
export const webhookSecrets = async (provider: string) => (await pspSecrets(provider)).webhookSecrets;
