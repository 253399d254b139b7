/**
 * Powertools singletons: one Logger, one Metrics and one Tracer per container.
 *
 * Guarantees:
 * - PII never reaches a log line: every key named like a personal or secret field (email, password,
 *   firstName, lastName, dateOfBirth, phone, address, documentNumber, token, idToken, accessToken,
 *   refreshToken, authorization, iban; case-insensitive, at any depth, including inside arrays) is
 *   written as '[REDACTED]' by the logger's JSON replacer. The replacer runs on every key of every
 *   log entry, so nested objects, errors' extra fields and persistent keys are all covered.
 * - Locally (STAGE=local) the tracer is disabled (POWERTOOLS_TRACE_ENABLED=false semantics); on AWS it
 *   follows POWERTOOLS_TRACE_ENABLED (default on).
 * - Metrics always have a namespace (POWERTOOLS_METRICS_NAMESPACE, else 'BackOffice'), so publishing
 *   never fails for want of one; POWERTOOLS_METRICS_DISABLED=true silences them (tests, local).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

export const SERVICE_NAME = process.env.POWERTOOLS_SERVICE_NAME ?? 'backoffice';
export const METRICS_NAMESPACE = process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'BackOffice';

export const REDACTED = '[REDACTED]';

/** Lower-cased key names whose values are never logged. */
export const PII_KEYS: ReadonlySet<string> = new Set(
  [
    'email',
    'password',
    'newPassword',
    'currentPassword',
    'firstName',
    'lastName',
    'fullName',
    'dateOfBirth',
    'phone',
    'phoneNumber',
    'address',
    'documentNumber',
    'token',
    'idToken',
    'accessToken',
    'refreshToken',
    'authorization',
    'iban',
    'cookie',
    // Cognito attribute names and challenge material
    'given_name',
    'family_name',
    'phone_number',
    'birthdate',
    'session',
    'secretCode',
    'otpauthUri',
    // email recipients and postal data
    'to',
    'recipient',
    'postalCode',
    'street',
  ].map((k) => k.toLowerCase()),
);

export const isPiiKey = (key: string): boolean => PII_KEYS.has(key.toLowerCase());

/**
 * JSON replacer for the logger: values under PII keys become '[REDACTED]'. JSON.stringify calls the
 * replacer for every key at every depth, so redaction is recursive by construction.
 */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (key !== '' && isPiiKey(key) && value !== undefined && value !== null) return REDACTED;
  return value;
}

/** Deep copy with PII values redacted; for places that build log payloads outside the logger. */
export function redact<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => redact(v)) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = isPiiKey(k) && v != null ? REDACTED : redact(v);
    return out as T;
  }
  return value;
}

export const logger = new Logger({ serviceName: SERVICE_NAME, jsonReplacerFn: redactingReplacer });

export const metrics = new Metrics({ serviceName: SERVICE_NAME, namespace: METRICS_NAMESPACE });

const traceEnabled = process.env.STAGE !== 'local' && process.env.POWERTOOLS_TRACE_ENABLED !== 'false';

export const tracer = new Tracer({ serviceName: SERVICE_NAME, enabled: traceEnabled });
