/**
 * Clawback of a client's commissions (issue 16, ADR 0018): a chargeback (`payment.chargeback.received`) or a staff
 * fraud flag reverses every commission line earned on the client's deals (and its CPA) whose deal time is within the
 * tenant's window before the cause (TenantConfig.partners.clawbackWindowDays). The reversals are lines like any
 * other, so the partner's next payout nets them (a negative net is carried forward, never paid).
 *
 * Invariants:
 * - one clawback line per (cause, clawed line), under source `clawback#<causeId>`, its amount the exact negation of
 *   the line it names (`clawsBack`), its partner, tier and currency the same: the sum of a cause's lines per
 *   partner and currency is minus what the window had earned
 * - idempotent: a line already clawed back by this cause is skipped, each new one is put-if-absent; a redelivered or
 *   resumed cause writes only what is missing, so a crash between chunks loses nothing and doubles nothing
 * - clawback lines and adjustments of a cause are never clawed back again by another cause (a second chargeback
 *   of the same client nets only lines not already reversed); causes of one client are serialised on its referral
 *   (each chunk ADDs its cause to the referral's clawbackCauses and its clawbackCommits, conditioned on the count
 *   read), so two causes at once never reverse the same line: the loser reads the winner's lines and goes on
 * - `partner.commission.clawed_back` is written with the chunk that completes the cause, with the cause's totals
 */

import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError } from '#domain/errors.ts';
import { formatAmount } from '#domain/money/index.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { commit, systemActor } from '#store/audit.ts';
import type { CommitWrite } from '#store/items.ts';
import { partnerKeys } from '#store/keys.ts';
import { clientLinesFrom, type LineItem, lineEntity, lineIdOf, sourceLines } from '#store/partner-accruals.ts';
import { getReferral } from '#store/partners.ts';
import type { CommandContext } from '../context.ts';

const CHUNK = 40;
export const CLAWBACK_ENTITY = 'partner-clawback';

export const clawbackSource = (causeId: string) => `clawback#${causeId}`;

export interface ClawbackInput {
  causeId: string;
  cause: 'chargeback' | 'fraud';
  clientId: string;
  /** When the cause happened (ISO): the window is the clawbackWindowDays before it. */
  at: string;
  reason?: string;
}

export interface ClawbackResult {
  outcome: 'not_referred' | 'nothing_to_claw' | 'clawed_back' | 'already_done';
  lines: number;
  totals: { partnerId: string; amount: string; currency: string }[];
}

/** Another cause of the client (or another run of this one) committed between our reads and our commit. */
const RACED = 'clawback_raced';
const raced = () => new DomainError(RACED, 'conflict', 'Another clawback of this client committed first; retry');
const ATTEMPTS = 3;
/** On the referral: the causes that clawed back (a string set) and a counter of their commits (the client's lock). */
const CAUSES = 'clawbackCauses';
const COMMITS = 'clawbackCommits';

export async function clawBack(input: ClawbackInput, ctx: CommandContext, actor?: AuditActor): Promise<ClawbackResult> {
  // Causes of one client are serialised on its referral: one that loses the race reads again what the winner
  // reversed and reverses only the rest (never a line twice).
  for (let attempt = 1; ; attempt++) {
    try {
      return await clawBackOnce(input, ctx, actor);
    } catch (err) {
      if (!(err instanceof DomainError) || err.code !== RACED || attempt >= ATTEMPTS) throw err;
    }
  }
}

async function clawBackOnce(input: ClawbackInput, ctx: CommandContext, actor?: AuditActor): Promise<ClawbackResult> {
  const referral = await getReferral(input.clientId, { consistent: true });
  const raw = referral as unknown as Record<string, unknown> | undefined;
  const causes = raw?.[CAUSES] instanceof Set ? [...(raw[CAUSES] as Set<string>)] : [];
  let commits = typeof raw?.[COMMITS] === 'number' ? (raw[COMMITS] as number) : 0;
  const mine: LineItem[] = [];
  // Lines already reversed (by this cause or an earlier one): a clawback line keeps its original's deal time, so
  // both are in the same window. The causes recorded on the referral are read strongly consistent (the index may lag).
  const reversed = new Set<string>();
  for (const c of causes) {
    if (c === input.causeId) continue;
    for (const l of (await sourceLines(clawbackSource(c))).lines) if (l.clawsBack) reversed.add(l.clawsBack);
  }
  const windowFromMs = Date.parse(input.at) - tenantConfig().partners.clawbackWindowDays * 86_400_000;
  const untilMs = Date.parse(input.at);
  for await (const page of clientLinesFrom(input.clientId, windowFromMs)) {
    for (const l of page) {
      if (l.kind === 'clawback') {
        if (l.clawsBack) reversed.add(l.clawsBack);
      } else if (l.dealTimeMsc <= untilMs) mine.push(l);
    }
  }
  if (!referral && mine.length === 0) return { outcome: 'not_referred', lines: 0, totals: [] };

  const source = clawbackSource(input.causeId);
  const { lines: existing } = await sourceLines(source);
  for (const l of existing) if (l.clawsBack) reversed.add(l.clawsBack);
  const todo = mine
    .filter((l) => !reversed.has(l.lineId) && BigInt(l.amount) !== 0n)
    .sort((a, b) => (a.lineId < b.lineId ? -1 : 1));
  if (todo.length === 0) {
    return { outcome: existing.length > 0 ? 'already_done' : 'nothing_to_claw', lines: 0, totals: totalsOf(existing) };
  }

  const nextSeq = new Map<string, number>();
  for (const l of existing) nextSeq.set(l.partnerId, Math.max(nextSeq.get(l.partnerId) ?? 0, l.seq + 1));
  const who = actor ?? systemActor('partner-clawbacks');
  const windowFrom = new Date(windowFromMs).toISOString();
  const written: LineItem[] = [...existing];
  for (let i = 0; i < todo.length; i += CHUNK) {
    const at = new Date().toISOString();
    const chunk = todo.slice(i, i + CHUNK).map((orig) => {
      const seq = nextSeq.get(orig.partnerId) ?? 0;
      nextSeq.set(orig.partnerId, seq + 1);
      return lineEntity.item(
        {
          lineId: lineIdOf(source, orig.partnerId, 'clawback', seq),
          sourceKey: source,
          kind: 'clawback',
          seq,
          partnerId: orig.partnerId,
          tier: orig.tier,
          rule: 'clawback',
          amount: (-BigInt(orig.amount)).toString(),
          currency: orig.currency,
          rate: orig.rate,
          inputs: { cause: input.cause, causeId: input.causeId, clawedRule: orig.rule, clawedSource: orig.sourceKey },
          planId: orig.planId,
          planVersion: orig.planVersion,
          clientId: input.clientId,
          ...(orig.accountId ? { accountId: orig.accountId } : {}),
          dealTimeMsc: orig.dealTimeMsc,
          accruedAt: at,
          clawsBack: orig.lineId,
        },
        at,
      );
    });
    written.push(...chunk);
    const last = i + CHUNK >= todo.length;
    const lock: CommitWrite[] = referral
      ? [
          {
            Update: {
              Key: partnerKeys.referral(input.clientId),
              UpdateExpression: 'ADD #causes :cause, #commits :one',
              ConditionExpression: commits === 0 ? 'attribute_not_exists(#commits)' : '#commits = :commits',
              ExpressionAttributeNames: { '#causes': CAUSES, '#commits': COMMITS },
              ExpressionAttributeValues: {
                ':cause': new Set([input.causeId]),
                ':one': 1,
                ...(commits === 0 ? {} : { ':commits': commits }),
              },
            },
            conditionFailedError: raced(),
          },
        ]
      : [];
    await commit({
      writes: [...chunk.map((l) => lineEntity.putNew(l, raced())), ...lock],
      audit: [
        {
          actor: who,
          action: 'partner.commission.clawed_back',
          entity: { type: CLAWBACK_ENTITY, id: input.causeId },
          clientId: input.clientId,
          before: null,
          after: {
            cause: input.cause,
            windowFrom,
            lines: chunk.map((l) => ({ lineId: l.lineId, clawsBack: l.clawsBack, amount: l.amount, currency: l.currency })),
          },
          ...(input.reason ? { reason: input.reason } : {}),
          requestId: ctx.requestId,
        },
      ],
      outbox: last
        ? [
            {
              detailType: 'partner.commission.clawed_back',
              detail: {
                causeId: input.causeId,
                cause: input.cause,
                clientId: input.clientId,
                windowFrom,
                lines: written.length,
                totals: totalsOf(written),
              },
            },
          ]
        : [],
    });
    commits++;
  }
  return { outcome: 'clawed_back', lines: todo.length, totals: totalsOf(written) };
}

function totalsOf(lines: readonly LineItem[]): ClawbackResult['totals'] {
  const sums = new Map<string, { partnerId: string; currency: string; amount: bigint }>();
  for (const l of lines) {
    const key = `${l.partnerId}#${l.currency}`;
    const s = sums.get(key) ?? { partnerId: l.partnerId, currency: l.currency, amount: 0n };
    s.amount += BigInt(l.amount);
    sums.set(key, s);
  }
  return [...sums.values()]
    .sort((a, b) => (a.partnerId === b.partnerId ? (a.currency < b.currency ? -1 : 1) : a.partnerId < b.partnerId ? -1 : 1))
    .map((s) => ({ partnerId: s.partnerId, currency: s.currency, amount: formatAmount(s.amount, s.currency) }));
}
