/**
 * Request fields the identity API modules share (registration, sign-in and its challenges, staff
 * creation): an email address and a new password, with their specific problem codes.
 *
 * Invariants:
 * - a malformed email is 400 invalid_email; a password breaking the policy (domain/identity/rules.ts) is
 *   400 weak_password, one issue per violation
 * - both are bounded before they are checked
 */
import * as z from 'zod';
import { isValidEmail, PASSWORD_MESSAGES, passwordViolations } from '#domain/identity/rules.ts';

export const emailField = z
  .string()
  .trim()
  .max(254)
  .refine(isValidEmail, { message: 'must be a valid email address', params: { code: 'invalid_email' } });

export const passwordField = z
  .string()
  .max(1024)
  .superRefine((pw, ctx) => {
    for (const v of passwordViolations(pw)) {
      ctx.addIssue({ code: 'custom', message: PASSWORD_MESSAGES[v], params: { code: 'weak_password', violation: v } });
    }
  });
