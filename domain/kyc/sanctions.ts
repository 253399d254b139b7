/**
 * Sanctions screening against a list passed in as data (a fictional sample ships in
 * data/sanctions-sample.json; production lists are loaded by an adapter and passed the same way).
 *
 * Invariants:
 * - names match by token-sorted similarity (case, diacritics, punctuation and word order ignored),
 *   against the entry's name and every alias; the best score over them is the entry's score
 * - score >= threshold (default 0.85) AND the DOB agrees (full-date equality, or year equality when the
 *   list has only a year) => hard `sanctions_hit` naming the entry id and score
 * - score >= threshold without DOB agreement (entry has no DOB, client DOB unknown, or DOBs differ)
 *   => review `sanctions_possible_match`
 * - one issue per matched entry, hits before possible matches, then by score descending
 */
import type { KycIssue } from './model.ts';
import { nameSimilarity } from './text.ts';

export interface SanctionsEntry {
  id: string;
  name: string;
  aliases: string[];
  /** YYYY-MM-DD or YYYY */
  dob?: string;
  nationality?: string;
  program: string;
}

export interface SanctionsList {
  source: string;
  version: string;
  entries: SanctionsEntry[];
}

export interface ScreeningSubject {
  fullName: string;
  /** YYYY-MM-DD */
  dateOfBirth?: string;
}

export const SANCTIONS_THRESHOLD = 0.85;

function dobMatches(entryDob: string | undefined, dob: string | undefined): boolean {
  if (!entryDob || !dob) return false;
  return /^\d{4}$/.test(entryDob) ? dob.slice(0, 4) === entryDob : dob === entryDob;
}

export function screenSanctions(
  subject: ScreeningSubject,
  list: SanctionsList,
  threshold: number = SANCTIONS_THRESHOLD,
): KycIssue[] {
  const found: { issue: KycIssue; hard: boolean; score: number }[] = [];
  for (const entry of list.entries) {
    let best = { score: 0, matchedName: '' };
    for (const candidate of [entry.name, ...entry.aliases]) {
      const s = nameSimilarity(subject.fullName, candidate);
      if (s.score > best.score) best = { score: s.score, matchedName: candidate };
    }
    if (best.score < threshold) continue;
    const hard = dobMatches(entry.dob, subject.dateOfBirth);
    found.push({
      hard,
      score: best.score,
      issue: {
        code: hard ? 'sanctions_hit' : 'sanctions_possible_match',
        severity: hard ? 'hard' : 'review',
        field: 'name',
        evidence: {
          entryId: entry.id,
          program: entry.program,
          listSource: list.source,
          listVersion: list.version,
          score: best.score,
          threshold,
          matchedName: best.matchedName,
          dobMatch: hard,
          dobPrecision: entry.dob ? (entry.dob.length === 4 ? 'year' : 'date') : 'none',
        },
        suggestedAction: hard ? 'compliance_escalation' : 'compliance_review',
      },
    });
  }
  return found.sort((a, b) => Number(b.hard) - Number(a.hard) || b.score - a.score).map((f) => f.issue);
}
