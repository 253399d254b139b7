/**
 * The list responses' shape: `{ items, nextCursor?, hasMore }` (a page as the use cases return it),
 * as an OpenAPI schema and as a body built from a page with a view per item; and the query parameters
 * every list route takes (`limit`, `cursor`).
 *
 * Invariants:
 * - a cursor parameter is bounded (MAX_CURSOR_LENGTH) and in the base64url alphabet, else 400 with the field
 *   code invalid_cursor; whether it points into the list being read is the store's check (400 invalid_cursor)
 * - a body has `nextCursor` only when there is one
 */
import * as z from 'zod';

export const MAX_CURSOR_LENGTH = 2048;

/** Query-string schema for a cursor: bounded, base64url alphabet. */
export const cursorParam = z
  .string()
  .min(1)
  .max(MAX_CURSOR_LENGTH)
  .refine((s) => /^[A-Za-z0-9_-]+$/.test(s), { message: 'Invalid cursor', params: { code: 'invalid_cursor' } });

/** Query-string schema for a page size. */
export const limitParam = (max = 100, dflt = 50) => z.coerce.number().int().min(1).max(max).default(dflt);

/** A page of items, as a list use case returns it. */
export interface PageOf<T> {
  items: T[];
  nextCursor?: string | undefined;
  hasMore: boolean;
}

/** The schema of a page of `item`. */
export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().optional(), hasMore: z.boolean() });

/** A page's body: each item through `view`, the cursor only when there is one. */
export function pageBody<T, U>(page: PageOf<T>, view: (item: T) => U): { items: U[]; nextCursor?: string; hasMore: boolean } {
  return { items: page.items.map(view), hasMore: page.hasMore, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
}
