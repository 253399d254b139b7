/**
 * Security events: what an attack leaves behind (docs/decisions/0010-security-events.md). Pure rules:
 * the kinds, how a request's source is named, the time buckets events are counted in, and when a
 * client's events open a compliance case.
 *
 * Invariants:
 * - an event is identified by (kind, by, target, hour bucket): `by` is the signed-in user who did it
 *   (`user:<sub>`) or, for anonymous requests, the source it came from (`ip:<address>`); repeats of the
 *   same identity are one counted event, never one record per request
 * - a source is the request's IP address as API Gateway saw it; an IPv6 address is reduced to its /64
 *   (one subscriber's allocation, which an attacker can rotate through freely); IPv4-mapped IPv6 is IPv4;
 *   anything unparseable is `unknown`
 * - buckets are UTC hours (`YYYY-MM-DDTHH`), so they sort as strings
 * - a case rule counts a client's events of some kinds per bucket; the count reaching its threshold opens
 *   one case for that client and bucket
 */

export const SECURITY_EVENT_KINDS = [
  /** A password sign-in refused for a wrong password or an unknown account (counted by the throttle). */
  'sign_in_failed',
  /** A sign-in answered 429 sign_in_locked: the account or the source is locked out. */
  'sign_in_locked',
  /** A client asked for another client's resource (answered 404 as if it did not exist). */
  'cross_client_probe',
  /** A signed-in user without the route's role (403 forbidden_role). */
  'forbidden_role',
  /** A PSP webhook with a missing, malformed, stale or wrong signature (401 signature_*). */
  'webhook_signature_rejected',
] as const;
export type SecurityEventKind = (typeof SECURITY_EVENT_KINDS)[number];

export const isSecurityEventKind = (s: string): s is SecurityEventKind => (SECURITY_EVENT_KINDS as readonly string[]).includes(s);

/** The hour bucket of an instant: `2026-12-06T14`. */
export const hourBucket = (at: Date): string => at.toISOString().slice(0, 13);

/** The first instant of a bucket. */
export const bucketStart = (bucket: string): string => `${bucket}:00:00.000Z`;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The eight hextets of an IPv6 address (an embedded IPv4 tail included), or undefined when it is not one. */
function ipv6Hextets(ip: string): number[] | undefined {
  let text = ip.toLowerCase().split('%')[0]!;
  const lastColon = text.lastIndexOf(':');
  if (lastColon < 0) return undefined;
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    if (!IPV4.test(last)) return undefined;
    const [a, b, c, d] = last.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  if (![...head, ...rest].every((h) => /^[0-9a-f]{1,4}$/.test(h))) return undefined;
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  return [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest].map((h) => Number.parseInt(h, 16));
}

/** `ip:<address>` for IPv4, `ip:<first four hextets>::/64` for IPv6, `ip:unknown` otherwise. */
export function sourceOf(sourceIp: string | null | undefined): string {
  const ip = (sourceIp ?? '').trim();
  if (IPV4.test(ip)) return `ip:${ip}`;
  const h = ipv6Hextets(ip);
  if (!h) return 'ip:unknown';
  const mapped = h.slice(0, 5).every((x) => x === 0) && h[5] === 0xffff;
  if (mapped) return `ip:${h[6]! >> 8}.${h[6]! & 255}.${h[7]! >> 8}.${h[7]! & 255}`;
  return `ip:${h
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(':')}::/64`;
}

/** A compliance case kind that security events open (one per client and bucket). */
export const SECURITY_CASE_KINDS = ['sign_in_attack', 'cross_client_probing'] as const;
export type SecurityCaseKind = (typeof SECURITY_CASE_KINDS)[number];

export interface SecurityCaseRule {
  caseKind: SecurityCaseKind;
  /** The event kinds counted together, per client and bucket. */
  kinds: readonly SecurityEventKind[];
  /** Events in one bucket that open the case. */
  threshold: number;
  /** Why, for compliance (the case's evidence). */
  description: string;
}

/**
 * The thresholds, per client and UTC hour:
 * - 20 refused sign-ins (failed or locked out) for one client's account: the throttle allows at most ~18
 *   real guesses an hour per account, so 20 refusals means someone kept trying through the lockout;
 *   a client who forgot the password stops long before
 * - 3 cross-client probes by one client: ids are random, so a client never meets another client's
 *   resource id by accident; once can be a shared link, three is a pattern
 */
export const SECURITY_CASE_RULES: readonly SecurityCaseRule[] = [
  {
    caseKind: 'sign_in_attack',
    kinds: ['sign_in_failed', 'sign_in_locked'],
    threshold: 20,
    description: 'Repeated refused sign-ins for this client account within one hour',
  },
  {
    caseKind: 'cross_client_probing',
    kinds: ['cross_client_probe'],
    threshold: 3,
    description: "This client repeatedly asked for other clients' resources within one hour",
  },
];

export const caseRuleFor = (kind: SecurityEventKind): SecurityCaseRule | undefined =>
  SECURITY_CASE_RULES.find((r) => r.kinds.includes(kind));

/** True when adding `added` to a count that is now `total` crossed `threshold` (exactly one writer sees it). */
export const crossedThreshold = (total: number, added: number, threshold: number) =>
  total - added < threshold && total >= threshold;
