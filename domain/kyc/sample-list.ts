/**
 * The fictional sample sanctions list (data/sanctions-sample.json), typed. SAMPLE DATA: for tests,
 * local runs and demos only; never a substitute for a licensed list.
 */
import sample from './data/sanctions-sample.json' with { type: 'json' };
import type { SanctionsList } from './sanctions.ts';

export const SAMPLE_SANCTIONS_LIST: SanctionsList = {
  source: sample.source,
  version: sample.version,
  entries: sample.entries,
};
