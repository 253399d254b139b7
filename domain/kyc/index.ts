/**
 * Pure KYC domain: extracted-document model, MRZ verification, checks, sanctions screening, the decision,
 * submissions, review reasons, the client's view, ETAs, document expiry and pre-verification deposits.
 * No AWS SDK, no I/O; the clock and every external fact (duplicates, lists, tenant policy) are passed in.
 */
export * from './assess.ts';
export * from './checks.ts';
export * from './client-status.ts';
export * from './decision.ts';
export * from './eta.ts';
export * from './expiry.ts';
export * from './model.ts';
export * from './mrz.ts';
export * from './pre-verification.ts';
export * from './review-reasons.ts';
export * from './sanctions.ts';
export * from './submission.ts';
export { levenshtein, nameSimilarity, similarity, tokenSortKey } from './text.ts';
