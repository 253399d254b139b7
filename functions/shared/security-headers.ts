/**
 * The security headers on every API response: the handlers' (functions/middleware/http.ts), API Gateway's
 * own errors (gateway responses, infra/constructs/api-spec.ts) and the local gateway's (local/gateway.ts).
 *
 * The API serves JSON only, so the policy is the strictest: nothing may be framed (CSP frame-ancestors and
 * X-Frame-Options for older browsers), nothing sniffed, no referrer sent, and HTTPS only for two years
 * (HSTS; browsers ignore it over plain HTTP, so the local runtime can send it too).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};
