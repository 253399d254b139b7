/**
 * Text matching for names and addresses: normalisation, token sort and a Levenshtein similarity.
 *
 * Invariants:
 * - normalisation folds case, strips diacritics (NFD + combining-mark removal, plus letters NFD cannot
 *   decompose: ß->ss, æ->ae, ø->o, ł->l, đ->d, œ->oe, þ->th), and turns every non-letter/digit into a word break
 * - a name also matches its ICAO 9303 MRZ transliteration (Ä->AE, Ö->OE, Ü->UE, Å->AA, Ø->OE, Ñ->N...):
 *   name similarity is the best score over the plain-folded and transliterated forms of both sides
 * - word order never matters: names are compared as their sorted tokens
 * - similarity is 1 - levenshtein / max(length), in [0, 1]; 1 iff the normalised strings are equal;
 *   it is symmetric
 */

const FOLD: Record<string, string> = { ß: 'ss', æ: 'ae', ø: 'o', ł: 'l', đ: 'd', œ: 'oe', þ: 'th', ı: 'i' };

/** Lower-cased, diacritic-free tokens of a string. */
export function tokens(s: string): string[] {
  const folded = s
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[ßæøłđœþı]/g, (ch) => FOLD[ch] ?? ch);
  return folded.split(/[^\p{L}\p{N}]+/u).filter((t) => t.length > 0);
}

/** Tokens sorted and joined by one space: 'GARCIA-LÓPEZ, José' -> 'garcia jose lopez'. */
export function tokenSortKey(s: string): string {
  return tokens(s).sort().join(' ');
}

/** Levenshtein edit distance over code points (insert, delete, substitute each cost 1). */
export function levenshtein(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  if (x.length === 0) return y.length;
  if (y.length === 0) return x.length;
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[y.length] ?? 0;
}

/** 1 - distance / longer length, on already-normalised strings. Two empty strings are identical (1). */
export function similarity(a: string, b: string): number {
  const len = Math.max([...a].length, [...b].length);
  if (len === 0) return 1;
  return 1 - levenshtein(a, b) / len;
}

/** Rounds a score to 4 decimals for evidence (stable, readable audit records). */
export const round4 = (n: number): number => Math.round(n * 10_000) / 10_000;

const ICAO: Record<string, string> = { ä: 'ae', ö: 'oe', ü: 'ue', å: 'aa', æ: 'ae', ø: 'oe', ĳ: 'ij', þ: 'th' };

/** ICAO 9303 Part 3 recommended transliteration of the letters where it differs from diacritic stripping. */
export function icaoTransliterate(s: string): string {
  return s.normalize('NFC').replace(/[äöüåæøĳþ]/giu, (ch) => {
    const t = ICAO[ch.toLowerCase()] ?? ch;
    return ch === ch.toLowerCase() ? t : t.toUpperCase();
  });
}

export interface NameScore {
  score: number;
  method: 'token_sort' | 'token_subset';
  a: string;
  b: string;
}

/**
 * Similarity of two person names, independent of case, diacritics, punctuation and word order.
 * A name whose tokens (at least two) all appear in the other scores 1 by 'token_subset': a missing
 * middle name or second surname is not a mismatch.
 */
export function nameSimilarity(a: string, b: string): NameScore {
  const variants = (s: string) => {
    const t = icaoTransliterate(s);
    return t === s ? [s] : [s, t];
  };
  let best: NameScore | undefined;
  for (const x of variants(a)) {
    for (const y of variants(b)) {
      const s = plainNameSimilarity(x, y);
      if (!best || s.score > best.score) best = s;
    }
  }
  return best ?? plainNameSimilarity(a, b);
}

function plainNameSimilarity(a: string, b: string): NameScore {
  const ta = tokens(a).sort();
  const tb = tokens(b).sort();
  const ka = ta.join(' ');
  const kb = tb.join(' ');
  const [short, long] = ta.length <= tb.length ? [ta, tb] : [tb, ta];
  if (short.length >= 2 && short.length < long.length && short.every((t) => long.includes(t))) {
    return { score: 1, method: 'token_subset', a: ka, b: kb };
  }
  return { score: round4(similarity(ka, kb)), method: 'token_sort', a: ka, b: kb };
}
