/**
 * The partner network (issue 16, ADR 0018): a client applies to become a partner (optionally under a parent through
 * its sub-IB link) or staff create one, compliance decides and holds payouts, and staff move a client or a sub-IB to
 * another partner from a date.
 *
 * Invariants:
 * - a client has at most one partner record (the claim is put-if-absent with it: 409 already_a_partner); a partner
 *   starts pending, parent and edge from its creation; a parent is an approved partner reached through its sub_ib
 *   link (422 invalid_referral_code, not_a_sub_ib_link; 409 partner_not_approved), and the new depth is within the
 *   tenant's partners.maxDepth (422 network_too_deep). Applying without a code takes the sub_ib link the client
 *   registered through, if that link's partner is approved
 * - a decision follows `decided` (approve: pending or rejected; reject: pending; hold: approved, not held;
 *   release: held) (409 partner_decision_not_allowed) and carries a reason; approval does not wait for the
 *   client's KYC (a partner may refer while its review runs), its payouts do: they are held until the KYC is
 *   approved (functions/app/partners/payouts.ts); hold and release only change `hold` (payouts stop, accruals go on)
 * - a move is a new versioned item (attribution or parent edge) effective from a date not in the past unless
 *   `retroactive` with a reason (422 move_in_past, 400 reason_required), to an approved partner or to none (409
 *   partner_not_approved), never to the partner the subject already has at that date (409 move_no_change), never
 *   dated before a version already in effect (409 move_superseded: it would end there; a scheduled later move still
 *   happens). A sub-IB is never moved under itself or its own sub-network, now or at the date (422 partner_cycle),
 *   nor so deep that its sub-network passes maxDepth (422 network_too_deep); the current items (the referral's
 *   partner; the partner's parent, path and depth, and its descendants' paths) follow the latest version, in the
 *   same transaction (at most MAX_SUBTREE_MOVE descendants: 422 subtree_too_large). A retroactive move only writes
 *   the version and its event (partner.client.attributed, effectiveFrom in the past): re-accruing the deals since
 *   then is the accrual's (adjustment lines)
 * - every change is one commit: the items, an audit entry (actor: the client or the staff member) and its event
 *   (partner.applied, partner.decided, partner.client.attributed)
 */
import { ulid } from 'ulid';
import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { getClientProfile } from '#store/clients.ts';
import type { CommitWrite } from '#store/items.ts';
import type { OutboxEvent } from '#store/outbox.ts';
import type { Page } from '#store/pagination.ts';
import {
  type AssignmentItem,
  assignmentsOf,
  attributionEntity,
  attributionsOf,
  childrenOf,
  type EdgeItem,
  edgeEntity,
  edgesOf,
  getLink,
  getPartner,
  getReferral,
  listPartnersByStatus,
  newReferralWrite,
  type PartnerItem,
  type PartnerStatus,
  type PayoutSchedule,
  partnerClaimEntity,
  partnerClaimOf,
  partnerEntity,
  partnerNotFound,
  partnerSnapshot,
  referralEntity,
} from '#store/partners.ts';
import type { CommandContext } from '../context.ts';
import {
  effectiveInstant,
  NETWORK_STAFF,
  networkTooDeep,
  ownPartner,
  PARTNER_READERS,
  PARTNER_ROLES,
  partnerNotApproved,
} from './access.ts';
import { atInstant, chainReader } from './chain.ts';

/** A sub-IB move updates its descendants' paths in its transaction: at most this many. */
export const MAX_SUBTREE_MOVE = 90;

export const PARTNER_DECISIONS = ['approve', 'reject', 'hold', 'release'] as const;
export type PartnerDecision = (typeof PARTNER_DECISIONS)[number];

export const clientNotFound = () =>
  new DomainError('client_not_found', 'not_found', 'No client with this id', [
    { field: 'clientId', code: 'client_not_found', message: 'Unknown client' },
  ]);
const alreadyAPartner = () =>
  new DomainError('already_a_partner', 'conflict', 'This client already has a partner account', [
    { field: 'clientId', code: 'already_a_partner', message: 'Already a partner' },
  ]);
const invalidReferralCode = (message: string, code = 'invalid_referral_code') =>
  new DomainError(code, 'unprocessable', message, [{ field: 'referralCode', code, message }]);
const moveNoChange = () => new DomainError('move_no_change', 'conflict', 'The subject already has this partner at that date');
const partnerCycle = () =>
  new DomainError('partner_cycle', 'unprocessable', 'A partner cannot be placed under itself or its own sub-network', [
    { field: 'parentId', code: 'partner_cycle', message: 'Would make a cycle' },
  ]);
/** A move dated before a version already in effect would only apply until that version: refused. */
function assertNotSuperseded(versions: readonly { from: string }[], from: string, now: Date): void {
  const nowIso = now.toISOString();
  const later = versions.find((v) => v.from > from && v.from <= nowIso);
  if (later) {
    throw new DomainError(
      'move_superseded',
      'conflict',
      `A later change (from ${later.from}) is already in effect; a move dated before it would end there`,
      [{ field: 'effectiveFrom', code: 'move_superseded', message: `Before ${later.from}` }],
    );
  }
}

const versionTaken = () =>
  new DomainError('conflict', 'conflict', 'Another change takes effect at the same instant; choose another date');

const newPartnerId = () => `ib_${ulid().toLowerCase()}`;
const normaliseCode = (code: string) => code.trim().toUpperCase();

/** The parent a new partner gets: the approved partner whose link it names (module invariants). */
async function parentFromCode(code: string): Promise<PartnerItem> {
  const link = await getLink(normaliseCode(code), { consistent: true });
  if (!link) throw invalidReferralCode('No referral link with this code');
  if (link.kind !== 'sub_ib') throw invalidReferralCode('This link refers clients, not sub-partners', 'not_a_sub_ib_link');
  const parent = await getPartner(link.partnerId, { consistent: true });
  if (parent?.status !== 'approved')
    throw partnerNotApproved('The referring partner', parent?.status ?? 'unknown', 'referralCode');
  return parent;
}

/** The sub_ib link the client registered through, if its partner is approved (else no parent). */
async function parentFromRegistration(clientId: string): Promise<{ parent: PartnerItem; code: string } | undefined> {
  const referral = await getReferral(clientId, { consistent: true });
  if (!referral?.code) return undefined;
  const link = await getLink(referral.code);
  if (link?.kind !== 'sub_ib') return undefined;
  const parent = await getPartner(link.partnerId, { consistent: true });
  return parent?.status === 'approved' ? { parent, code: link.code } : undefined;
}

function assertDepth(parent: PartnerItem | undefined): { path: string[]; depth: number } {
  const path = parent ? [...parent.path, parent.partnerId] : [];
  const max = tenantConfig().partners.maxDepth;
  if (path.length > max) throw networkTooDeep(path.length, max);
  return { path, depth: path.length };
}

interface NewPartner {
  clientId: string;
  parent: PartnerItem | undefined;
  referralCode?: string | undefined;
  name?: string | undefined;
  payoutSchedule?: PayoutSchedule | undefined;
  createdBy?: string | undefined;
  approve?: { by: string; reason: string } | undefined;
}

async function createPartnerRecord(n: NewPartner, caller: Caller, allowed: readonly Role[], ctx: CommandContext) {
  const actor = actorFrom(caller, allowed);
  const at = (ctx.now ?? new Date()).toISOString();
  const { path, depth } = assertDepth(n.parent);
  const partnerId = newPartnerId();
  const parentId = n.parent?.partnerId ?? null;
  const partner = partnerEntity.item(
    {
      partnerId,
      clientId: n.clientId,
      status: n.approve ? 'approved' : 'pending',
      parentId,
      path,
      depth,
      payout: { schedule: n.payoutSchedule ?? 'monthly' },
      paidThrough: {},
      ...(n.name ? { name: n.name } : {}),
      ...(n.referralCode ? { referralCode: n.referralCode } : {}),
      ...(n.createdBy ? { createdBy: n.createdBy } : {}),
      ...(n.approve ? { decidedBy: n.approve.by, decidedAt: at, reason: n.approve.reason } : {}),
    },
    at,
  );
  const outbox: OutboxEvent[] = [
    {
      detailType: 'partner.applied',
      detail: { partnerId, clientId: n.clientId, parentId, referralCode: n.referralCode ?? null },
    },
  ];
  if (n.approve) {
    outbox.push({
      detailType: 'partner.decided',
      detail: { partnerId, clientId: n.clientId, decision: 'approved', reason: n.approve.reason, decidedBy: n.approve.by },
    });
  }
  await commit({
    writes: [
      partnerEntity.putNew(partner),
      partnerClaimEntity.putNew(partnerClaimEntity.item({ clientId: n.clientId, partnerId }, at), alreadyAPartner()),
      edgeEntity.putNew(edgeEntity.item({ partnerId, from: at, parentId, by: caller.sub }, at)),
    ],
    audit: {
      actor,
      action: n.createdBy ? 'partner.created' : 'partner.applied',
      entity: { type: partnerEntity.type, id: partnerId },
      newEntity: true,
      clientId: n.clientId,
      before: null,
      after: partnerSnapshot(partner),
      requestId: ctx.requestId,
    },
    outbox,
  });
  return partner;
}

export interface ApplyInput {
  /** A sub_ib link code of the partner to sign up under. */
  referralCode?: string | undefined;
  name?: string | undefined;
  payoutSchedule?: PayoutSchedule | undefined;
}

/** A client applies to become a partner (pending until compliance decides). */
export async function applyAsPartner(input: ApplyInput, caller: Caller, ctx: CommandContext): Promise<PartnerItem> {
  actorFrom(caller, PARTNER_ROLES);
  if (await partnerClaimOf(caller.sub)) throw alreadyAPartner();
  let parent: PartnerItem | undefined;
  let code: string | undefined;
  if (input.referralCode) {
    parent = await parentFromCode(input.referralCode);
    code = normaliseCode(input.referralCode);
  } else {
    const fromRegistration = await parentFromRegistration(caller.sub);
    parent = fromRegistration?.parent;
    code = fromRegistration?.code;
  }
  return createPartnerRecord(
    { clientId: caller.sub, parent, referralCode: code, name: input.name, payoutSchedule: input.payoutSchedule },
    caller,
    PARTNER_ROLES,
    ctx,
  );
}

export interface CreatePartnerInput {
  clientId: string;
  parentId?: string | null | undefined;
  name?: string | undefined;
  payoutSchedule?: PayoutSchedule | undefined;
  /** Approve at once, with this reason (payouts still wait for the client's KYC). */
  approveReason?: string | undefined;
}

/** Staff create a partner for an existing client (pending, or approved at once with a reason). */
export async function createPartner(input: CreatePartnerInput, caller: Caller, ctx: CommandContext): Promise<PartnerItem> {
  actorFrom(caller, NETWORK_STAFF);
  if (!(await getClientProfile(input.clientId))) throw clientNotFound();
  if (await partnerClaimOf(input.clientId)) throw alreadyAPartner();
  let parent: PartnerItem | undefined;
  if (input.parentId) {
    parent = await getPartner(input.parentId, { consistent: true });
    if (!parent) throw parentNotFound();
    if (parent.status !== 'approved') throw partnerNotApproved('The parent', parent.status, 'parentId');
  }
  return createPartnerRecord(
    {
      clientId: input.clientId,
      parent,
      name: input.name,
      payoutSchedule: input.payoutSchedule,
      createdBy: caller.sub,
      ...(input.approveReason ? { approve: { by: caller.sub, reason: input.approveReason } } : {}),
    },
    caller,
    NETWORK_STAFF,
    ctx,
  );
}

const parentNotFound = () =>
  new DomainError('partner_not_found', 'not_found', 'No partner with this id', [
    { field: 'parentId', code: 'partner_not_found', message: 'Unknown partner' },
  ]);

/** What a decision does to a partner in its state, or undefined when it may not (module invariants). */
function decided(p: PartnerItem, decision: PartnerDecision, by: string, reason: string, at: string): PartnerItem | undefined {
  const { hold: _hold, ...withoutHold } = p;
  switch (decision) {
    case 'approve':
      return p.status === 'pending' || p.status === 'rejected'
        ? { ...p, status: 'approved', decidedBy: by, decidedAt: at, reason }
        : undefined;
    case 'reject':
      return p.status === 'pending' ? { ...p, status: 'rejected', decidedBy: by, decidedAt: at, reason } : undefined;
    case 'hold':
      return p.status === 'approved' && !p.hold ? { ...p, hold: { reason, by, at } } : undefined;
    case 'release':
      return p.hold ? (withoutHold as PartnerItem) : undefined;
  }
}

const EVENT_DECISION = { approve: 'approved', reject: 'rejected', hold: 'hold', release: 'release' } as const;

/** Compliance approves or rejects an application, or holds or releases a partner's payouts (audited). */
export async function decidePartner(
  input: { partnerId: string; decision: PartnerDecision; reason: string },
  caller: Caller,
  ctx: CommandContext,
): Promise<PartnerItem> {
  const actor = actorFrom(caller, NETWORK_STAFF);
  const p = await getPartner(input.partnerId, { consistent: true });
  if (!p) throw partnerNotFound();
  const at = (ctx.now ?? new Date()).toISOString();
  const next = decided(p, input.decision, caller.sub, input.reason, at);
  if (!next) {
    throw new DomainError(
      'partner_decision_not_allowed',
      'conflict',
      `A partner that is ${p.status}${p.hold ? ' (held)' : ''} cannot be given '${input.decision}'`,
    );
  }
  const after = partnerEntity.replaced(p, next, at);
  await commit({
    writes: [partnerEntity.patch(p, next, at)],
    audit: {
      actor,
      action: `partner.${input.decision}`,
      entity: { type: partnerEntity.type, id: p.partnerId },
      clientId: p.clientId,
      before: partnerSnapshot(p),
      after: { ...partnerSnapshot(after), reason: input.reason },
      requestId: ctx.requestId,
    },
    outbox: [
      {
        detailType: 'partner.decided',
        detail: {
          partnerId: p.partnerId,
          clientId: p.clientId,
          decision: EVENT_DECISION[input.decision],
          reason: input.reason,
          decidedBy: caller.sub,
        },
      },
    ],
  });
  return after;
}

/** The caller's own partner record (any status). */
export async function readOwnPartner(caller: Caller, _ctx: CommandContext): Promise<PartnerItem> {
  actorFrom(caller, PARTNER_ROLES);
  return ownPartner(caller);
}

/** One partner for staff, with its parent edges and plan assignments (oldest first). */
export async function readPartner(
  input: { partnerId: string },
  caller: Caller,
  _ctx: CommandContext,
): Promise<{ partner: PartnerItem; edges: EdgeItem[]; assignments: AssignmentItem[] }> {
  actorFrom(caller, PARTNER_READERS);
  const partner = await getPartner(input.partnerId, { consistent: true });
  if (!partner) throw partnerNotFound();
  const [edges, assignments] = await Promise.all([edgesOf(partner.partnerId), assignmentsOf(partner.partnerId)]);
  return { partner, edges, assignments };
}

/** Partners in a status, newest first (staff). */
export async function listPartners(
  input: { status: PartnerStatus; limit: number; cursor?: string | undefined },
  caller: Caller,
  _ctx: CommandContext,
): Promise<Page<PartnerItem>> {
  actorFrom(caller, PARTNER_READERS);
  return listPartnersByStatus(input.status, input);
}

// ------------------------------------------------------------------------------------------------ moves

export interface MoveInput {
  effectiveFrom?: string | undefined;
  retroactive?: boolean | undefined;
  reason: string;
}

async function approvedTarget(partnerId: string | null, field: string): Promise<PartnerItem | undefined> {
  if (partnerId === null) return undefined;
  const p = await getPartner(partnerId, { consistent: true });
  if (!p) {
    throw new DomainError('partner_not_found', 'not_found', 'No partner with this id', [
      { field, code: 'partner_not_found', message: 'Unknown partner' },
    ]);
  }
  if (p.status !== 'approved') throw partnerNotApproved('The partner', p.status, field);
  return p;
}

/** Staff move a client to another partner (or to none) from a date: a new attribution version (audited). */
export async function moveClient(
  input: MoveInput & { clientId: string; partnerId: string | null },
  caller: Caller,
  ctx: CommandContext,
): Promise<{ clientId: string; partnerId: string | null; previousPartnerId: string | null; effectiveFrom: string }> {
  const actor = actorFrom(caller, NETWORK_STAFF);
  const now = ctx.now ?? new Date();
  const from = effectiveInstant(input, now, 'move_in_past');
  const profile = await getClientProfile(input.clientId, { consistent: true });
  if (!profile) throw clientNotFound();
  await approvedTarget(input.partnerId, 'partnerId');
  const attributions = await attributionsOf(input.clientId);
  assertNotSuperseded(attributions, from, now);
  const previousPartnerId = atInstant(attributions, from)?.partnerId ?? null;
  if (previousPartnerId === input.partnerId) throw moveNoChange();
  const at = now.toISOString();
  const attribution = attributionEntity.item(
    {
      clientId: input.clientId,
      from,
      partnerId: input.partnerId,
      source: 'move',
      by: caller.sub,
      reason: input.reason,
      ...(input.retroactive ? { retroactive: true } : {}),
    },
    at,
  );
  const writes: CommitWrite[] = [attributionEntity.putNew(attribution, versionTaken())];
  const latest = attributions.every((a) => a.from < from);
  if (latest) {
    const referral = await getReferral(input.clientId, { consistent: true });
    if (referral) {
      writes.push(referralEntity.patch(referral, { ...referral, partnerId: input.partnerId }, at));
    } else {
      writes.push(
        newReferralWrite(
          referralEntity.item(
            {
              clientId: input.clientId,
              partnerId: input.partnerId,
              registeredAt: profile.createdAt,
              volume: '0',
              windowVolume: '0',
              cpaPaid: false,
            },
            at,
          ),
        ),
      );
    }
  }
  await commitMove({
    writes,
    actor,
    subject: 'client',
    entity: { type: referralEntity.type, id: input.clientId },
    clientId: input.clientId,
    to: input.partnerId,
    previous: previousPartnerId,
    from,
    input,
    by: caller.sub,
    ctx,
  });
  return { clientId: input.clientId, partnerId: input.partnerId, previousPartnerId, effectiveFrom: from };
}

/** Every current descendant of a partner (breadth first, from the children index). */
async function descendantsOf(partnerId: string, limit: number): Promise<PartnerItem[] | undefined> {
  const out: PartnerItem[] = [];
  let level = [partnerId];
  while (level.length > 0) {
    const children = (await Promise.all(level.map((id) => childrenOf(id)))).flat();
    out.push(...children);
    if (out.length > limit) return undefined;
    level = children.map((c) => c.partnerId);
  }
  return out;
}

/** Staff move a sub-IB (with its sub-network) under another parent (or to the top) from a date (audited). */
export async function moveSubPartner(
  input: MoveInput & { partnerId: string; parentId: string | null },
  caller: Caller,
  ctx: CommandContext,
): Promise<PartnerItem> {
  const actor = actorFrom(caller, NETWORK_STAFF);
  const now = ctx.now ?? new Date();
  const from = effectiveInstant(input, now, 'move_in_past');
  const p = await getPartner(input.partnerId, { consistent: true });
  if (!p) throw partnerNotFound();
  const parent = await approvedTarget(input.parentId, 'parentId');
  if (parent && (parent.partnerId === p.partnerId || parent.path.includes(p.partnerId))) throw partnerCycle();
  if (parent && (await chainReader().ancestorsAt(parent.partnerId, from)).includes(p.partnerId)) throw partnerCycle();
  const edges = await edgesOf(p.partnerId);
  assertNotSuperseded(edges, from, now);
  const previousParentId = atInstant(edges, from)?.parentId ?? null;
  if (previousParentId === input.parentId) throw moveNoChange();

  const descendants = await descendantsOf(p.partnerId, MAX_SUBTREE_MOVE);
  if (!descendants) {
    throw new DomainError(
      'subtree_too_large',
      'unprocessable',
      `A sub-network of more than ${MAX_SUBTREE_MOVE} partners cannot be moved in one change`,
    );
  }
  const path = parent ? [...parent.path, parent.partnerId] : [];
  const height = Math.max(0, ...descendants.map((d) => d.depth - p.depth));
  const max = tenantConfig().partners.maxDepth;
  if (path.length + height > max) throw networkTooDeep(path.length + height, max);

  const at = now.toISOString();
  const writes: CommitWrite[] = [
    edgeEntity.putNew(
      edgeEntity.item(
        {
          partnerId: p.partnerId,
          from,
          parentId: input.parentId,
          by: caller.sub,
          reason: input.reason,
          ...(input.retroactive ? { retroactive: true } : {}),
        },
        at,
      ),
      versionTaken(),
    ),
  ];
  let after = p;
  if (edges.every((e) => e.from < from)) {
    const next: PartnerItem = { ...p, parentId: input.parentId, path, depth: path.length };
    writes.push(partnerEntity.patch(p, next, at));
    after = partnerEntity.replaced(p, next, at);
    for (const d of descendants) {
      const below = d.path.slice(d.path.indexOf(p.partnerId) + 1);
      const dPath = [...path, p.partnerId, ...below];
      writes.push(partnerEntity.patch(d, { ...d, path: dPath, depth: dPath.length }, at));
    }
  }
  await commitMove({
    writes,
    actor,
    subject: 'partner',
    entity: { type: partnerEntity.type, id: p.partnerId },
    clientId: p.clientId,
    to: input.parentId,
    previous: previousParentId,
    from,
    input,
    by: caller.sub,
    ctx,
  });
  return after;
}

/**
 * A move's writes with its audit entry (partner.client.moved / partner.parent.moved: before and after the partner or
 * parent, the date, the reason) and its partner.client.attributed event, in one transaction.
 */
async function commitMove(m: {
  writes: CommitWrite[];
  actor: AuditActor;
  subject: 'client' | 'partner';
  entity: { type: string; id: string };
  clientId: string;
  to: string | null;
  previous: string | null;
  from: string;
  input: { reason: string; retroactive?: boolean | undefined };
  by: string;
  ctx: CommandContext;
}): Promise<void> {
  const [action, field] = m.subject === 'client' ? ['partner.client.moved', 'partnerId'] : ['partner.parent.moved', 'parentId'];
  await commit({
    writes: m.writes,
    audit: {
      actor: m.actor,
      action,
      entity: m.entity,
      clientId: m.clientId,
      before: { [field]: m.previous },
      after: {
        [field]: m.to,
        effectiveFrom: m.from,
        reason: m.input.reason,
        ...(m.input.retroactive ? { retroactive: true } : {}),
      },
      requestId: m.ctx.requestId,
    },
    outbox: [
      {
        detailType: 'partner.client.attributed',
        detail: {
          subject: m.subject,
          subjectId: m.entity.id,
          partnerId: m.to,
          previousPartnerId: m.previous,
          effectiveFrom: m.from,
          source: 'move',
          movedBy: m.by,
          reason: m.input.reason,
        },
      },
    ],
  });
}
