/**
 * zod issues to field errors with stable codes.
 *
 * Guarantees:
 * - every issue becomes at least one `{ field, code, message }`; `field` is the dotted path
 *   ("address.country", "items.0.amount"), or the part name ('body', 'query', 'params') for a root issue
 * - unknown keys (strict objects) become one error per key with code `unknown_field` and the key as field
 * - zod codes map to stable snake_case codes: too_small, too_big, invalid_format, invalid_type,
 *   invalid_value, not_multiple_of; unions/keys/elements become invalid_value; a custom issue uses its
 *   `params.code` when the schema author gave one (e.g. `weak_password`), else invalid_value
 * - the problem's top-level code is the authors' `params.code` when every issue carries the same one,
 *   otherwise `validation_failed`
 */
import type { z } from 'zod';
import type { FieldError } from '#domain/errors.ts';
import { EdgeError } from './problem.ts';

export type Part = 'body' | 'query' | 'params';

type Issue = z.core.$ZodIssue;

const authorCode = (issue: Issue): string | undefined => {
  const params = (issue as { params?: Record<string, unknown> }).params;
  return typeof params?.code === 'string' && /^[a-z][a-z0-9_]*$/.test(params.code) ? params.code : undefined;
};

const fieldOf = (path: PropertyKey[], part: Part): string => (path.length === 0 ? part : path.map(String).join('.'));

function codeOf(issue: Issue): string {
  const own = authorCode(issue);
  if (own) return own;
  switch (issue.code) {
    case 'too_small':
    case 'too_big':
    case 'invalid_format':
    case 'invalid_type':
    case 'invalid_value':
    case 'not_multiple_of':
      return issue.code;
    default:
      return 'invalid_value';
  }
}

export function fieldErrors(issues: readonly Issue[], part: Part): FieldError[] {
  return issues.flatMap((issue): FieldError[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: fieldOf([...issue.path, key], part),
        code: 'unknown_field',
        message: `Unknown field "${key}"`,
      }));
    }
    return [{ field: fieldOf(issue.path, part), code: codeOf(issue), message: issue.message }];
  });
}

/** The top-level code: the authors' shared params.code, else validation_failed. */
export function problemCode(issues: readonly Issue[]): string {
  const codes = issues.map(authorCode);
  const first = codes[0];
  return first !== undefined && codes.every((c) => c === first) ? first : 'validation_failed';
}

/** Parses one part of the request with its schema, throwing a 400 EdgeError listing every issue. */
export async function parsePart<T>(schema: z.ZodType<T>, input: unknown, part: Part): Promise<T> {
  const result = await schema.safeParseAsync(input);
  if (result.success) return result.data;
  throw validationError(result.error.issues, part);
}

export function validationError(issues: readonly Issue[], part: Part): EdgeError {
  const code = problemCode(issues);
  const errors = fieldErrors(issues, part);
  return new EdgeError(code, 400, errors, {}, code === 'validation_failed' ? undefined : issues[0]?.message);
}

/** Several parts' failures in one 400 (body, query and params are all reported at once). */
export function mergeValidationErrors(errs: EdgeError[]): EdgeError {
  if (errs.length === 1) return errs[0]!;
  const errors = errs.flatMap((e) => e.errors);
  const codes = new Set(errs.map((e) => e.code));
  const [only] = codes;
  return codes.size === 1 && only !== 'validation_failed'
    ? new EdgeError(only!, 400, errors, {}, errs[0]!.detailOverride)
    : new EdgeError('validation_failed', 400, errors);
}
