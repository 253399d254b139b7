/**
 * Exact JSON-over-HTTP plumbing shared by the REST platform adapters (dxtrade.ts, match-trader.ts): a fetch
 * wrapper that maps transport failures to platform_unavailable, decimal conversions that never go through a
 * binary double, and the deal cursor (base64url of a time|id sort key) with its paging.
 *
 * Invariants:
 * - a number in an answer is read from its JSON source text (quoteNumbers turns every number token into a string
 *   before JSON.parse), so 0.1 + 0.2 never happens and 17-digit balances keep their digits
 * - a number in a request is written from a decimal string verbatim (Raw / stringifyExact), never via Number()
 * - toScaled refuses what does not fit the scale exactly (more non-zero decimals than allowed) with a RangeError;
 *   the adapters turn that into invalid_amount / invalid_volume
 * - retryable platform_unavailable only for: a timeout (AbortSignal), a connection error, HTTP 5xx or 429, or a
 *   body that is not JSON; every other HTTP answer is handed back to the adapter to map
 */
import { TradingError } from '#domain/trading/errors.ts';
import type { Deal } from '#domain/trading/model.ts';
import type { DealPage } from '#domain/trading/port.ts';

// biome-ignore lint/suspicious/noExplicitAny: vendor answers are untyped JSON, read field by field
export type Json = any;

/** A decimal number to be written into a JSON request as it is (no quotes, no rounding). */
export class Raw {
  constructor(readonly text: string) {
    if (!/^-?\d+(?:\.\d+)?$/.test(text)) throw new RangeError(`Not a decimal: ${text}`);
  }
}

/** JSON.stringify where Raw values become bare JSON numbers with exactly their digits. */
export function stringifyExact(value: unknown): string {
  const marks: string[] = [];
  const text = JSON.stringify(value, (_k, v) => {
    if (v instanceof Raw) {
      marks.push(v.text);
      return `\u0000raw${marks.length - 1}\u0000`;
    }
    return typeof v === 'bigint' ? v.toString() : v;
  });
  return text.replace(/"\\u0000raw(\d+)\\u0000"/g, (_m, i: string) => marks[Number(i)]!);
}

/** JSON text with every number token (outside strings) turned into a string of its source text. */
export function quoteNumbers(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      const m = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
      const token = m ? m[0] : c;
      out += `"${token}"`;
      i += token.length;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Parses a JSON answer keeping every number as its exact decimal text. */
export const parseExact = (text: string): Json => JSON.parse(quoteNumbers(text));

const pow10 = (n: number) => 10n ** BigInt(n);

/**
 * A decimal (string or number text, optionally with an exponent) -> an integer count of 10^-scale.
 * Trailing zeros beyond the scale are accepted; any other extra digit is a RangeError (not representable).
 */
export function toScaled(value: unknown, scale: number): bigint {
  const text = typeof value === 'number' ? String(value) : value;
  const m = typeof text === 'string' ? /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text.trim()) : null;
  if (!m) throw new RangeError(`Not a decimal number: ${String(value)}`);
  const digits = m[2]! + (m[3] ?? '');
  const shift = (m[4] ? Number(m[4]) : 0) - (m[3] ?? '').length + scale; // value x 10^scale = digits x 10^shift
  let abs: bigint;
  if (shift >= 0) abs = BigInt(digits) * pow10(shift);
  else {
    const cut = Math.max(0, digits.length + shift);
    if (/[^0]/.test(digits.slice(cut))) throw new RangeError(`${String(value)} has more than ${scale} decimals`);
    abs = BigInt(digits.slice(0, cut) || '0');
  }
  return m[1] === '-' ? -abs : abs;
}

/** An integer count of 10^-scale -> its shortest decimal text ("150", "0.4", "-12.05"). */
export function fromScaled(value: bigint, scale: number): string {
  const neg = value < 0n;
  const s = (neg ? -value : value).toString().padStart(scale + 1, '0');
  const int = s.slice(0, s.length - scale);
  const frac = scale > 0 ? s.slice(s.length - scale).replace(/0+$/, '') : '';
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/** A safe positive integer from a JSON value (string or number), else undefined. */
export function safeInt(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : typeof value === 'number' ? value : Number.NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** FNV-1a over the text, cut to 52 bits and made positive: a stable numeric id for a vendor's string id. */
export function stableId(text: string): number {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(text, 'utf8')) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return Number(h & 0xfffffffffffffn) || 1;
}

export const unavailable = (message: string, meta: Record<string, unknown> = {}) =>
  new TradingError('platform_unavailable', message, [], meta);

export interface HttpAnswer {
  status: number;
  body: Json;
  headers: Headers;
}

/**
 * One HTTP exchange with fetch. Throws platform_unavailable (retryable) for a timeout, a connection error, a 5xx,
 * a 429 or an unreadable body; answers every other status with its parsed body for the caller to map.
 */
export async function exchange(
  vendor: string,
  url: URL,
  init: { method: string; headers?: Record<string, string>; body?: unknown; timeoutMs: number },
): Promise<HttpAnswer> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method,
      headers: {
        accept: 'application/json',
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : stringifyExact(init.body),
      signal: AbortSignal.timeout(init.timeoutMs),
    });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    if (err.name === 'TimeoutError' || err.name === 'AbortError')
      throw unavailable(`${vendor} ${init.method} ${url.pathname}: no answer within ${init.timeoutMs} ms`, {
        timeoutMs: init.timeoutMs,
      });
    throw unavailable(`${vendor} ${init.method} ${url.pathname}: ${err.cause?.code ?? err.message}`);
  }
  let text: string;
  try {
    text = await res.text();
  } catch (e) {
    throw unavailable(`${vendor} ${url.pathname}: ${(e as Error).message}`, { status: res.status });
  }
  if (res.status >= 500 || res.status === 429)
    throw unavailable(`${vendor} ${init.method} ${url.pathname}: HTTP ${res.status}`, { status: res.status });
  let body: Json = null;
  if (text.trim() !== '') {
    try {
      body = parseExact(text);
    } catch {
      throw unavailable(`${vendor} ${url.pathname}: unreadable answer (HTTP ${res.status})`, { status: res.status });
    }
  }
  return { status: res.status, body, headers: res.headers };
}

/** `<15-digit ms>|<16-digit id>`: sorts deals by time, then id, as text (the DXtrade and Match-Trader cursors). */
export function sortKey(timeMs: number, id: number): string {
  return `${String(timeMs).padStart(15, '0')}|${String(id).padStart(16, '0')}`;
}

/**
 * Reads a DXtrade / Match-Trader deal cursor: '' (the beginning) or base64url(sortKey). Answers the key to read
 * after and the millisecond to ask the server from (inclusive); a RangeError for a bad limit or anything else.
 */
export function readCursor(vendor: string, cursor: string, limit: number): { after: string; fromMs: number } {
  if (!Number.isSafeInteger(limit) || limit <= 0) throw new RangeError('limit must be a positive integer');
  const after = cursor === '' ? '' : Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^(\d{15})\|(\d{16})$/.exec(after);
  if (cursor !== '' && !m) throw new RangeError(`Not a ${vendor} deal cursor: ${cursor}`);
  return { after, fromMs: m ? Number(m[1]) : 0 };
}

/** The first `limit` deals sorting after `after`, by key; the cursor names the last one (unchanged when none). */
export function pageAfter(keyed: readonly { key: string; deal: Deal }[], after: string, limit: number, cursor: string): DealPage {
  const page = keyed
    .filter((k) => k.key > after)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, limit);
  const last = page.at(-1);
  return { deals: page.map((k) => k.deal), cursor: last ? Buffer.from(last.key, 'utf8').toString('base64url') : cursor };
}
