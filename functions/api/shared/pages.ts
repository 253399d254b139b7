/**
 * The list responses' shape: `{ items, nextCursor?, hasMore }` (functions/store/pagination.ts Page),
 * as an OpenAPI schema and as a body built from a store page with a view per item.
 */
import * as z from 'zod';
import type { Page } from '#store/pagination.ts';

/** The schema of a page of `item`. */
export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().optional(), hasMore: z.boolean() });

/** A page's body: each item through `view`, the cursor only when there is one. */
export function pageBody<T, U>(page: Page<T>, view: (item: T) => U): { items: U[]; nextCursor?: string; hasMore: boolean } {
  return { items: page.items.map(view), hasMore: page.hasMore, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
}
