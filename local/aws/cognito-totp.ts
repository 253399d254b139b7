/**
 * TOTP for the local Cognito (RFC 4226 HOTP + RFC 6238 TOTP) and RFC 4648 base32, on node:crypto only.
 *
 * Guarantees:
 * - totp() matches the RFC 6238 SHA-1 test vectors (test/unit/local-aws-cognito-mfa.test.ts)
 * - defaults are what Cognito and authenticator apps use: HMAC-SHA1, 30-second steps, 6 digits
 * - matchTotp() compares in constant time and accepts the current step and `window` steps either side
 * - secrets are generated with crypto.randomBytes (160 bits, the RFC 4226 recommendation) and base32
 *   encoded without padding, as authenticator apps expect in an otpauth:// URI
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export const TOTP_STEP_SECONDS = 30;
export const TOTP_DIGITS = 6;

export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** Case-insensitive; ignores padding, spaces and dashes (as secrets are often typed in groups). */
export function base32Decode(text: string): Buffer {
  const clean = text.toUpperCase().replace(/[\s=-]/g, '');
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const idx = ALPHABET.indexOf(ch);
    if (idx < 0) throw new Error('invalid base32 character');
    value = ((value << 5) | idx) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** A new TOTP secret, base32 (32 characters for 20 bytes). */
export function newTotpSecret(): string {
  return base32Encode(randomBytes(20));
}

/** RFC 4226 HOTP with dynamic truncation. */
export function hotp(
  key: Uint8Array,
  counter: number,
  digits = TOTP_DIGITS,
  algorithm: 'sha1' | 'sha256' | 'sha512' = 'sha1',
): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, key).update(msg).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary =
    ((mac[offset]! & 0x7f) << 24) |
    ((mac[offset + 1]! & 0xff) << 16) |
    ((mac[offset + 2]! & 0xff) << 8) |
    (mac[offset + 3]! & 0xff);
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The time step (counter) for a Unix time in milliseconds. */
export const totpStep = (timeMs: number, stepSeconds = TOTP_STEP_SECONDS) => Math.floor(timeMs / 1000 / stepSeconds);

/** RFC 6238 TOTP for a base32 secret (or raw key bytes) at `timeMs` (default: now). */
export function totp(
  secret: string | Uint8Array,
  timeMs = Date.now(),
  opts: { digits?: number; stepSeconds?: number } = {},
): string {
  const key = typeof secret === 'string' ? base32Decode(secret) : secret;
  return hotp(key, totpStep(timeMs, opts.stepSeconds), opts.digits ?? TOTP_DIGITS);
}

/**
 * The time step whose code equals `code`, looking at the current step and `window` steps either side
 * (newest first); null when none matches or the code is not `digits` digits.
 */
export function matchTotp(secret: string, code: unknown, timeMs = Date.now(), window = 1): number | null {
  if (typeof code !== 'string' || !new RegExp(`^\\d{${TOTP_DIGITS}}$`).test(code)) return null;
  const key = base32Decode(secret);
  const now = totpStep(timeMs);
  for (let step = now + window; step >= now - window; step--) {
    if (timingSafeEqual(Buffer.from(hotp(key, step)), Buffer.from(code))) return step;
  }
  return null;
}
