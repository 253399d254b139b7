/**
 * Referral links and attribution (issue 16, ADR 0018): an approved partner creates links (a code, a campaign tag,
 * kind client or sub_ib), visitors' clicks are recorded, and a registration attributes the new client to the
 * partner of the winning link.
 *
 * Invariants:
 * - codes are upper-cased (one code per link whatever its case); a taken code is 409 link_code_taken; only an
 *   approved partner creates links (409 partner_not_approved); a partner reads only its own links (another's:
 *   404 link_not_found, marked as a cross-client probe)
 * - a click is recorded for a link of an approved partner only (else 404 link_not_found), with the link's clicks
 *   counter; a repeat of the same (visitor, instant, code) counts once
 * - the registration's referral is chosen by TenantConfig.partners.attribution among the code the registration
 *   carried and the visitor's recorded clicks: first_touch = the oldest click, else the code; last_touch = the code,
 *   else the newest click. A candidate whose link is unknown or whose partner is not approved is skipped
 * - resolving never fails a registration: an error or no valid candidate means no attribution (the profile keeps
 *   the code it carried, as before)
 * - an attribution is written in the registration's own transaction: the referral (CURRENT), the attribution
 *   version from the registration instant, the link's registrations counter, an audit entry and
 *   partner.client.attributed
 */
import { randomInt } from 'node:crypto';
import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError } from '#domain/errors.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { type AuditInput, actorFrom, commit } from '#store/audit.ts';
import type { CommitWrite } from '#store/items.ts';
import type { OutboxEvent } from '#store/outbox.ts';
import type { Page } from '#store/pagination.ts';
import {
  attributionEntity,
  CLICK_TTL_DAYS,
  clickEntity,
  clicksOf,
  getLink,
  getPartner,
  type LinkItem,
  type LinkKind,
  linkCounterAdd,
  linkEntity,
  linkNotFound,
  listLinks,
  newReferralWrite,
  referralEntity,
  recordClick as storeClick,
} from '#store/partners.ts';
import type { CommandContext } from '../context.ts';
import { assertOwner, ownApprovedPartner, ownPartner, PARTNER_ROLES } from './access.ts';

/** How many of a visitor's clicks attribution looks at (the newest). */
export const MAX_CLICKS_CONSIDERED = 50;

const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTVWXYZ23456789';
export const normaliseCode = (code: string) => code.trim().toUpperCase();
const generatedCode = () => Array.from({ length: 8 }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');

const linkCodeTaken = () =>
  new DomainError('link_code_taken', 'conflict', 'This code is already in use', [
    { field: 'code', code: 'link_code_taken', message: 'Code taken' },
  ]);

/** An approved partner creates a referral link (code given or generated). */
export async function createLink(
  input: { code?: string | undefined; kind: LinkKind; campaign?: string | undefined },
  caller: Caller,
  ctx: CommandContext,
): Promise<LinkItem> {
  const actor = actorFrom(caller, PARTNER_ROLES);
  const partner = await ownApprovedPartner(caller);
  const at = (ctx.now ?? new Date()).toISOString();
  const link = linkEntity.item(
    {
      code: input.code ? normaliseCode(input.code) : generatedCode(),
      partnerId: partner.partnerId,
      kind: input.kind,
      ...(input.campaign ? { campaign: input.campaign } : {}),
      clicks: 0,
      registrations: 0,
      verified: 0,
      funded: 0,
      trading: 0,
    },
    at,
  );
  await commit({
    writes: [linkEntity.putNew(link, linkCodeTaken())],
    audit: {
      actor,
      action: 'partner.link.created',
      entity: { type: linkEntity.type, id: link.code },
      newEntity: true,
      clientId: caller.sub,
      before: null,
      after: { code: link.code, partnerId: link.partnerId, kind: link.kind, campaign: link.campaign ?? null },
      requestId: ctx.requestId,
    },
  });
  return link;
}

/** The caller's links, newest first (with their funnel counters). */
export async function listMyLinks(
  input: { limit: number; cursor?: string | undefined },
  caller: Caller,
  _ctx: CommandContext,
): Promise<Page<LinkItem>> {
  actorFrom(caller, PARTNER_ROLES);
  const partner = await ownPartner(caller);
  return listLinks(partner.partnerId, input);
}

/** One of the caller's links (another partner's, or none: 404 link_not_found). */
export async function readMyLink(input: { code: string }, caller: Caller, _ctx: CommandContext): Promise<LinkItem> {
  actorFrom(caller, PARTNER_ROLES);
  const link = await getLink(normaliseCode(input.code), { consistent: true });
  const owner = link ? await getPartner(link.partnerId) : undefined;
  assertOwner(caller, owner, linkNotFound);
  return link!;
}

/** The link of `code` when its partner is approved (what a click or a registration may count on). */
async function liveLink(code: string): Promise<LinkItem | undefined> {
  const link = await getLink(normaliseCode(code), { consistent: true });
  if (!link) return undefined;
  const partner = await getPartner(link.partnerId);
  return partner?.status === 'approved' ? link : undefined;
}

/** A visitor followed a link (public). */
export async function recordClick(
  input: { code: string; visitorId: string },
  ctx: CommandContext,
): Promise<{ code: string; recorded: boolean }> {
  const link = await liveLink(input.code);
  if (!link) throw linkNotFound();
  const now = ctx.now ?? new Date();
  const click = clickEntity.item(
    {
      visitorId: input.visitorId,
      at: now.toISOString(),
      code: link.code,
      partnerId: link.partnerId,
      ...(link.campaign ? { campaign: link.campaign } : {}),
      expiresAt: Math.floor(now.getTime() / 1000) + CLICK_TTL_DAYS * 86_400,
    },
    now.toISOString(),
  );
  return { code: link.code, recorded: await storeClick(click) };
}

/** The link a registration is attributed to (module invariants). */
export interface ResolvedReferral {
  code: string;
  partnerId: string;
  campaign?: string | undefined;
  via: 'code' | 'click';
}

/** The winning referral of a registration, or undefined (never throws: module invariants). */
export async function resolveReferral(input: {
  referralCode?: string | undefined;
  visitorId?: string | undefined;
}): Promise<ResolvedReferral | undefined> {
  try {
    const clicks = input.visitorId ? (await clicksOf(input.visitorId)).slice(-MAX_CLICKS_CONSIDERED) : [];
    const fromCode = input.referralCode ? [{ code: input.referralCode, via: 'code' as const }] : [];
    const fromClicks = clicks.map((c) => ({ code: c.code, via: 'click' as const }));
    const candidates =
      tenantConfig().partners.attribution === 'first_touch'
        ? [...fromClicks, ...fromCode]
        : [...fromCode, ...fromClicks.reverse()];
    const tried = new Set<string>();
    for (const c of candidates) {
      const code = normaliseCode(c.code);
      if (tried.has(code)) continue;
      tried.add(code);
      const link = await liveLink(code);
      if (link) return { code: link.code, partnerId: link.partnerId, campaign: link.campaign, via: c.via };
    }
    return undefined;
  } catch (err) {
    logger.warn('registration: the referral could not be resolved; registering without attribution', {
      error: err instanceof Error ? err.name : 'unknown',
    });
    return undefined;
  }
}

const ATTRIBUTION_FAILED = 'referral_attribution_failed';
const attributionFailed = () =>
  new DomainError(ATTRIBUTION_FAILED, 'conflict', "The referral's link or referral changed during the registration");
/** Whether a registration's commit failed on its referral's writes (then it registers without attribution). */
export const isReferralAttributionFailure = (err: unknown) => err instanceof DomainError && err.code === ATTRIBUTION_FAILED;

/** What a registration's commit adds for its referral: the writes, an audit entry and the event. */
export function registrationReferral(
  clientId: string,
  r: ResolvedReferral,
  now: string,
  actor: AuditActor,
  requestId: string,
): { writes: CommitWrite[]; audit: AuditInput; outbox: OutboxEvent[] } {
  const referral = referralEntity.item(
    {
      clientId,
      partnerId: r.partnerId,
      code: r.code,
      ...(r.campaign ? { campaign: r.campaign } : {}),
      registeredAt: now,
      volume: '0',
      windowVolume: '0',
      cpaPaid: false,
    },
    now,
  );
  const attribution = attributionEntity.item(
    {
      clientId,
      from: now,
      partnerId: r.partnerId,
      code: r.code,
      ...(r.campaign ? { campaign: r.campaign } : {}),
      source: 'registration',
      by: clientId,
    },
    now,
  );
  return {
    writes: [
      { ...newReferralWrite(referral), conditionFailedError: attributionFailed() },
      attributionEntity.putNew(attribution, attributionFailed()),
      { ...linkCounterAdd(r.code, 'registrations'), conditionFailedError: attributionFailed() },
    ],
    audit: {
      actor,
      action: 'partner.client.attributed',
      entity: { type: referralEntity.type, id: clientId },
      newEntity: true,
      clientId,
      before: null,
      after: { partnerId: r.partnerId, code: r.code, campaign: r.campaign ?? null, via: r.via, effectiveFrom: now },
      requestId,
    },
    outbox: [
      {
        detailType: 'partner.client.attributed',
        detail: {
          subject: 'client',
          subjectId: clientId,
          partnerId: r.partnerId,
          previousPartnerId: null,
          effectiveFrom: now,
          source: 'registration',
          code: r.code,
          ...(r.campaign ? { campaign: r.campaign } : {}),
        },
      },
    ],
  };
}
