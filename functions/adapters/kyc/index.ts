/**
 * The document analyzer for this runtime, chosen by KYC_ANALYZER: 'textract' (the default: Amazon Textract) or
 * 'sandbox' (local runs and tests: reads JSON document descriptions from S3, see sandbox.ts).
 *
 * Invariants:
 * - one analyzer per container, created on first use and reused (memoised together with the setting it was made
 *   for, so a test that changes KYC_ANALYZER gets a fresh one)
 * - an unknown KYC_ANALYZER value is a configuration error, thrown on first use, never silently Textract
 */
import type { DocumentAnalyzer } from './port.ts';
import { sandboxAnalyzer } from './sandbox.ts';
import { textractAnalyzer } from './textract.ts';

export type AnalyzerKind = 'sandbox' | 'textract';

let memo: { kind: AnalyzerKind; analyzer: DocumentAnalyzer } | undefined;
let override: DocumentAnalyzer | undefined;

export function analyzerKind(value: string | undefined = process.env.KYC_ANALYZER): AnalyzerKind {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'textract') return 'textract';
  if (v === 'sandbox') return 'sandbox';
  throw new Error(`KYC_ANALYZER must be 'sandbox' or 'textract', got '${value}'`);
}

export function documentAnalyzer(): DocumentAnalyzer {
  if (override) return override;
  const kind = analyzerKind();
  if (memo?.kind !== kind) memo = { kind, analyzer: kind === 'sandbox' ? sandboxAnalyzer() : textractAnalyzer() };
  return memo.analyzer;
}

/** For tests: force an analyzer (undefined goes back to the KYC_ANALYZER choice). */
export function setDocumentAnalyzer(a: DocumentAnalyzer | undefined): void {
  override = a;
}

export type { DocumentAnalyzer, S3Ref } from './port.ts';
export { AnalysisFailedError, AnalysisTransientError } from './port.ts';
