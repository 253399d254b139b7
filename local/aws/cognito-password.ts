/**
 * Password handling for the local Cognito: the default Cognito password policy, and scrypt hashes
 * (random salt, constant-time comparison). Clear-text passwords are never stored or logged.
 */
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';
import { AwsError } from './errors.ts';

const PARAMS = { N: 16384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { ...opts, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** `scrypt$N$r$p$<salt b64>$<hash b64>` */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** True when `password` matches `stored`. With no stored hash it still does the work, so timing does not tell. */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  const parts = (stored ?? DUMMY).split('$');
  const [scheme, n, r, p, salt, hash] = parts;
  if (parts.length !== 6 || scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await derive(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) });
  return stored !== undefined && actual.length === expected.length && timingSafeEqual(actual, expected);
}
const DUMMY = `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(KEY_LENGTH).toString('base64')}`;

/** Cognito's default policy: at least 8 characters with upper case, lower case, a digit and a symbol. */
export function assertPasswordPolicy(password: unknown): asserts password is string {
  const fail = (why: string) => {
    throw new AwsError('InvalidPasswordException', `Password did not conform with policy: ${why}`);
  };
  if (typeof password !== 'string' || password.length < 8) fail('Password not long enough');
  const p = password as string;
  if (p.length > 256) fail('Password is too long');
  if (!/[a-z]/.test(p)) fail('Password must have lowercase characters');
  if (!/[A-Z]/.test(p)) fail('Password must have uppercase characters');
  if (!/[0-9]/.test(p)) fail('Password must have numeric characters');
  if (!/[^A-Za-z0-9]/.test(p)) fail('Password must have symbol characters');
}
