/**
 * Pure KYC domain: extracted-document model, MRZ verification, checks, sanctions screening and the decision.
 * No AWS SDK, no I/O; the clock and every external fact (duplicates, lists, tenant policy) are passed in.
 */
export * from './assess.ts';
export * from './checks.ts';
export * from './decision.ts';
export * from './model.ts';
export * from './mrz.ts';
export * from './sanctions.ts';
export { levenshtein, nameSimilarity, similarity, tokenSortKey } from './text.ts';
