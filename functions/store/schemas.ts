/**
 * Small zod building blocks for the entity schemas (functions/store/entity.ts): the stored shape of a
 * value declared once in domain/ as a TypeScript type.
 *
 * Invariants:
 * - `oneOf` takes a record keyed by EVERY member of a string union (satisfies Record<U, true>), so the
 *   enum can neither miss nor add a member: a union changed in domain/ without its stored schema does not
 *   compile
 * - a part of an item read on its own (a projection) is parsed by its part of the entity's schema
 *   (`parsePart`), failing with the same StoredItemError as a whole item
 * - nested objects are loose (`looseObject`): an attribute the schema does not declare survives a
 *   read-modify-write at any depth, as it does at the top level (entity.ts)
 */
import * as z from 'zod';
import { StoredItemError } from './entity.ts';

/** z.enum of exactly the keys of `members` (declare it `{ a: true, b: true } satisfies Record<Union, true>`). */
export const oneOf = <T extends string>(members: Record<T, true>) => z.enum(Object.keys(members) as [T, ...T[]]);

/**
 * A nested object: loose at run time (attributes it does not declare are kept, so a read-modify-write never
 * drops them), typed like z.object (no index signature, so a domain interface is assignable to its input).
 */
export const nested = <T extends z.core.$ZodLooseShape>(shape: T) =>
  z.looseObject(shape) as unknown as ReturnType<typeof z.object<T>>;

/** Optional string attribute (absent or undefined). */
export const optionalString = () => z.string().optional();

/** A map of strings to strings (detail, parameters). */
export const stringMap = () => z.record(z.string(), z.string());

/** A projected part of an entity's item, parsed by that part of its schema (StoredItemError otherwise). */
export function parsePart<S extends z.ZodType>(entityType: string, schema: S, raw: unknown): z.output<S> {
  const res = schema.safeParse(raw);
  if (res.success) return res.data;
  throw new StoredItemError(
    entityType,
    undefined,
    res.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  );
}
