/**
 * Every key in the single table, declared once per entity. Call sites never concatenate key parts:
 * they call these functions. Prefixes are unique per entity so overloaded indexes never collide.
 *
 * Invariants:
 * - each entity's pk/sk (and index keys) are composed only here
 * - seqs are zero-padded to SEQ_WIDTH digits, so lexical sk order is numeric order
 * - emails are used in keys only in their normalised form (domain/identity normalizeEmail)
 * - index partitions that gather many items (CLIENTS, STAFF, AUDITHEAD#n) are listed here, so their
 *   write heat is visible in one place; audit heads are sharded over AUDIT_HEAD_SHARDS partitions
 */
import { normalizeEmail } from '#domain/identity/rules.ts';

export const SEQ_WIDTH = 12;
export const padSeq = (seq: number) => String(seq).padStart(SEQ_WIDTH, '0');

export const AUDIT_HEAD_SHARDS = 16;

/** Small, stable string hash (FNV-1a 32-bit) for shard selection. */
function shardOf(s: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

export interface Key {
  pk: string;
  sk: string;
}

export const clientKeys = {
  type: 'client',
  key: (clientId: string): Key => ({ pk: `CLIENT#${clientId}`, sk: 'PROFILE' }),
  /** gsi1: all clients by creation time. */
  listIndex: (createdAt: string, clientId: string) => ({ gsi1pk: clientKeys.listPartition, gsi1sk: `${createdAt}#${clientId}` }),
  listPartition: 'CLIENTS',
} as const;

/**
 * A client's appropriateness-questionnaire attempts, one item each, oldest first (attempt numbers are
 * zero-padded); the latest result is also copied onto the client profile (onboarding.questionnaire).
 */
export const questionnaireAttemptKeys = {
  type: 'questionnaire-attempt',
  partition: (clientId: string) => `QATTEMPTS#${clientId}`,
  key: (clientId: string, questionnaireId: string, attempt: number): Key => ({
    pk: questionnaireAttemptKeys.partition(clientId),
    sk: `${questionnaireAttemptKeys.attemptPrefix(questionnaireId)}${padSeq(attempt)}`,
  }),
  attemptPrefix: (questionnaireId: string) => `ATTEMPT#${questionnaireId}#`,
} as const;

export const staffKeys = {
  type: 'staff',
  key: (staffId: string): Key => ({ pk: `STAFF#${staffId}`, sk: 'PROFILE' }),
  /** gsi1: all staff users by creation time. */
  listIndex: (createdAt: string, staffId: string) => ({ gsi1pk: staffKeys.listPartition, gsi1sk: `${createdAt}#${staffId}` }),
  listPartition: 'STAFF',
} as const;

export const uniqueEmailKeys = {
  type: 'unique-email',
  key: (email: string): Key => ({ pk: `UNIQUE#EMAIL#${normalizeEmail(email)}`, sk: 'UNIQUE' }),
} as const;

export const auditKeys = {
  type: 'audit',
  headType: 'audit-head',
  partition: (entityType: string, entityId: string) => `AUDIT#${entityType}#${entityId}`,
  item: (entityType: string, entityId: string, seq: number): Key => ({
    pk: auditKeys.partition(entityType, entityId),
    sk: `SEQ#${padSeq(seq)}`,
  }),
  seqPrefix: 'SEQ#',
  head: (entityType: string, entityId: string): Key => ({ pk: auditKeys.partition(entityType, entityId), sk: 'HEAD' }),
  /** gsi1 on audit items that concern a client: that client's whole trail in one query. */
  clientTrailIndex: (clientId: string, at: string, entityType: string, entityId: string, seq: number) => ({
    gsi1pk: auditKeys.clientTrailPartition(clientId),
    gsi1sk: `${at}#${entityType}#${entityId}#${padSeq(seq)}`,
  }),
  clientTrailPartition: (clientId: string) => `CLIENTAUDIT#${clientId}`,
  /** gsi2 on chain heads: every chain, spread over AUDIT_HEAD_SHARDS partitions (read by the verify job). */
  headIndex: (entityType: string, entityId: string) => ({
    gsi2pk: auditKeys.headShardPartition(shardOf(`${entityType}#${entityId}`, AUDIT_HEAD_SHARDS)),
    gsi2sk: `${entityType}#${entityId}`,
  }),
  headShardPartition: (shard: number) => `AUDITHEAD#${String(shard).padStart(2, '0')}`,
} as const;

/** Unpublished outbox items are indexed (sparse gsi2) over this many partitions. */
export const OUTBOX_PENDING_SHARDS = 8;

export const outboxKeys = {
  type: 'outbox',
  key: (eventId: string): Key => ({ pk: `OUTBOX#${eventId}`, sk: 'OUTBOX' }),
  /**
   * gsi2 (sparse): outbox items not yet published, oldest first, spread over OUTBOX_PENDING_SHARDS
   * partitions; removed when the item is marked published (read by the outbox-sweeper job).
   */
  pendingIndex: (eventId: string, occurredAt: string) => ({
    gsi2pk: outboxKeys.pendingPartition(shardOf(eventId, OUTBOX_PENDING_SHARDS)),
    gsi2sk: `${occurredAt}#${eventId}`,
  }),
  pendingPartition: (shard: number) => `OUTBOXPENDING#${shard}`,
} as const;

export const emailKeys = {
  type: 'email',
  key: (messageId: string): Key => ({ pk: `EMAIL#${messageId}`, sk: 'EMAIL' }),
  /** gsi1: messages to one recipient, oldest first (lets the local runtime and tests find them). */
  recipientIndex: (to: string, createdAt: string, messageId: string) => ({
    gsi1pk: emailKeys.recipientPartition(to),
    gsi1sk: `${createdAt}#${messageId}`,
  }),
  recipientPartition: (to: string) => `EMAILTO#${normalizeEmail(to)}`,
} as const;

export const notifiedKeys = {
  type: 'notified',
  key: (eventId: string): Key => ({ pk: `NOTIFIED#${eventId}`, sk: 'NOTIFIED' }),
} as const;

/**
 * The HTTP edge's idempotency records (functions/middleware/idempotency.ts, functions/store/idempotency-records.ts):
 * one item per (caller, route, Idempotency-Key), keyed by Powertools' hashed key (`http#<sha256>`), TTL 24 h.
 * - record   pk IDEMPOTENCY#<powertools key>   sk IDEMPOTENCY
 */
export const idempotencyRecordKeys = {
  type: 'idempotency',
  key: (idempotencyKey: string): Key => ({ pk: `IDEMPOTENCY#${idempotencyKey}`, sk: 'IDEMPOTENCY' }),
} as const;

export const jobRunKeys = {
  type: 'job-run',
  key: (job: string, runId: string): Key => ({ pk: `JOB#${job}`, sk: `RUN#${runId}` }),
  runPrefix: 'RUN#',
  partition: (job: string) => `JOB#${job}`,
} as const;

/**
 * The sign-in throttle (functions/store/sign-in-throttle.ts): one failure counter per account and per source.
 * - account  pk SIGNINTHROTTLE#ACCOUNT#<sha256(normalised email)>  sk THROTTLE  (hashed: an attacker picks the
 *            email, and unknown addresses are not PII we want in keys)
 * - source   pk SIGNINTHROTTLE#SOURCE#<source>                      sk THROTTLE  (source: domain/security sourceOf)
 * Both carry the TTL attribute: a counter is gone (and, until TTL runs, ignored) an hour after its last failure.
 */
export const signInThrottleKeys = {
  type: 'sign-in-throttle',
  account: (emailHash: string): Key => ({ pk: `SIGNINTHROTTLE#ACCOUNT#${emailHash}`, sk: 'THROTTLE' }),
  source: (source: string): Key => ({ pk: `SIGNINTHROTTLE#SOURCE#${source}`, sk: 'THROTTLE' }),
} as const;

/**
 * Security events (functions/store/security-events.ts, docs/decisions/0010-security-events.md): one counted
 * item per (kind, by, target, hour bucket); eventId is a hash of those four.
 * - event      pk SECEVT#<eventId>  sk SECEVT
 *     gsi1 CLIENTAUDIT#<clientId> / <firstSeenAt>#security-event#<eventId>  (in the client's trail, beside its audit items)
 *     gsi2 SECEVENTS / <bucket>#<kind>#<eventId>                           (every event by time: the compliance summary)
 *     gsi3 SECEVENTS#<kind> / <bucket>#<eventId>                           (one kind by time)
 * - case count pk SECCOUNT#<caseKind>#<clientId>  sk BUCKET#<bucket>     (a client's events towards a case, per hour)
 * SECEVENTS is one partition for the tenant: writes to it are bounded by the recorder's coalescing (one write per
 * event identity per container every few seconds), not by the request rate.
 */
export const securityEventKeys = {
  type: 'security-event',
  caseCountType: 'security-case-count',
  key: (eventId: string): Key => ({ pk: `SECEVT#${eventId}`, sk: 'SECEVT' }),
  clientTrailIndex: (clientId: string, firstSeenAt: string, eventId: string) => ({
    gsi1pk: auditKeys.clientTrailPartition(clientId),
    gsi1sk: `${firstSeenAt}#security-event#${eventId}`,
  }),
  listPartition: 'SECEVENTS',
  listIndex: (bucket: string, kind: string, eventId: string) => ({
    gsi2pk: securityEventKeys.listPartition,
    gsi2sk: `${bucket}#${kind}#${eventId}`,
  }),
  kindPartition: (kind: string) => `SECEVENTS#${kind}`,
  kindIndex: (kind: string, bucket: string, eventId: string) => ({
    gsi3pk: securityEventKeys.kindPartition(kind),
    gsi3sk: `${bucket}#${eventId}`,
  }),
  caseCount: (caseKind: string, clientId: string, bucket: string): Key => ({
    pk: `SECCOUNT#${caseKind}#${clientId}`,
    sk: `BUCKET#${bucket}`,
  }),
} as const;

/** Ledger list indexes are spread over this many partitions (write heat of the hot path). */
export const LEDGER_INDEX_SHARDS = 16;
const pad3 = (n: number) => String(n).padStart(3, '0');
const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * The ledger (functions/store/ledger). Accounts, their balance shards and their postings live in
 * separate partitions, so a sharded house account's shards do not share a partition's throughput.
 * - account          pk LACCT#<accountId>            sk ACCOUNT
 *     gsi1 LOWNER#<ownerId> / <accountId>            (an owner's accounts: a client's wallets)
 *     gsi2 LACCTS#<nn> / <accountId>                 (every account, 16 partitions: reconciliation)
 * - balance shard    pk LBAL#<accountId>#<shard>     sk BALANCE
 * - posting          pk LPOST#<accountId>#<shard>    sk P#<postedAt>#<seq>   (postedAt is monotone in seq)
 * - journal          pk LJRNL#<journalId>            sk JOURNAL
 *     gsi1 LJRNLS#<nn> / <postedAt>#<journalId>      (journals by time, 16 partitions)
 * - idempotency key  pk LIDEM#<scope>#<key>          sk IDEMPOTENCY
 * - hold             pk LHOLD#<holdId>               sk HOLD
 *     gsi1 LACCTHOLDS#<accountId> / <createdAt>#<holdId>   (an account's holds)
 *     gsi2 LOPENHOLDS#<nn> / <expiresAt>#<holdId>    (sparse: only pending holds; removed on close)
 * - queued command   pk LCMDQ#<accountId>            sk <commandId>  (a contended account's waiting journals)
 * - command lease    pk LCMDL#<accountId>            sk LEASE        (who applies the account's queue now)
 * - command refusal  pk LCMDR#<commandId>            sk RESULT       (a queued command's domain error, TTL)
 */
export const ledgerKeys = {
  accountType: 'ledger-account',
  balanceType: 'ledger-balance',
  postingType: 'ledger-posting',
  journalType: 'ledger-journal',
  idempotencyType: 'ledger-idempotency',
  holdType: 'ledger-hold',
  /** Stable shard for an id (journal or hold) among `shards`. */
  shardFor: (id: string, shards: number) => (shards <= 1 ? 0 : shardOf(id, shards)),
  account: (accountId: string): Key => ({ pk: `LACCT#${accountId}`, sk: 'ACCOUNT' }),
  ownerIndex: (ownerId: string, accountId: string) => ({ gsi1pk: ledgerKeys.ownerPartition(ownerId), gsi1sk: accountId }),
  ownerPartition: (ownerId: string) => `LOWNER#${ownerId}`,
  accountListIndex: (accountId: string) => ({
    gsi2pk: ledgerKeys.accountListPartition(shardOf(accountId, LEDGER_INDEX_SHARDS)),
    gsi2sk: accountId,
  }),
  accountListPartition: (n: number) => `LACCTS#${pad2(n)}`,
  balance: (accountId: string, shard: number): Key => ({ pk: `LBAL#${accountId}#${pad3(shard)}`, sk: 'BALANCE' }),
  postingPartition: (accountId: string, shard: number) => `LPOST#${accountId}#${pad3(shard)}`,
  postingPrefix: 'P#',
  /** Sort key of a posting; also the bound for time-range queries (`postingSk(at)` sorts before any posting at `at`). */
  postingSk: (postedAt: string, seq?: number) => (seq === undefined ? `P#${postedAt}` : `P#${postedAt}#${padSeq(seq)}`),
  posting: (accountId: string, shard: number, postedAt: string, seq: number): Key => ({
    pk: ledgerKeys.postingPartition(accountId, shard),
    sk: ledgerKeys.postingSk(postedAt, seq),
  }),
  journal: (journalId: string): Key => ({ pk: `LJRNL#${journalId}`, sk: 'JOURNAL' }),
  journalListIndex: (postedAt: string, journalId: string) => ({
    gsi1pk: ledgerKeys.journalListPartition(shardOf(journalId, LEDGER_INDEX_SHARDS)),
    gsi1sk: `${postedAt}#${journalId}`,
  }),
  journalListPartition: (n: number) => `LJRNLS#${pad2(n)}`,
  idempotency: (scope: string, key: string): Key => ({ pk: `LIDEM#${scope}#${key}`, sk: 'IDEMPOTENCY' }),
  hold: (holdId: string): Key => ({ pk: `LHOLD#${holdId}`, sk: 'HOLD' }),
  accountHoldsIndex: (accountId: string, createdAt: string, holdId: string) => ({
    gsi1pk: `LACCTHOLDS#${accountId}`,
    gsi1sk: `${createdAt}#${holdId}`,
  }),
  openHoldIndex: (holdId: string, expiresAt: string) => ({
    gsi2pk: ledgerKeys.openHoldPartition(shardOf(holdId, LEDGER_INDEX_SHARDS)),
    gsi2sk: `${expiresAt}#${holdId}`,
  }),
  openHoldPartition: (n: number) => `LOPENHOLDS#${pad2(n)}`,
  commandType: 'ledger-command',
  commandLeaseType: 'ledger-command-lease',
  commandResultType: 'ledger-command-result',
  commandQueuePartition: (accountId: string) => `LCMDQ#${accountId}`,
  command: (accountId: string, commandId: string): Key => ({ pk: `LCMDQ#${accountId}`, sk: commandId }),
  commandLease: (accountId: string): Key => ({ pk: `LCMDL#${accountId}`, sk: 'LEASE' }),
  commandResult: (commandId: string): Key => ({ pk: `LCMDR#${commandId}`, sk: 'RESULT' }),
} as const;

export const adjustmentKeys = {
  type: 'adjustment',
  key: (adjustmentId: string): Key => ({ pk: `ADJUSTMENT#${adjustmentId}`, sk: 'ADJUSTMENT' }),
  /** gsi1: adjustment requests in one status, by request time (small: finance's work queue). */
  statusIndex: (status: string, requestedAt: string, adjustmentId: string) => ({
    gsi1pk: adjustmentKeys.statusPartition(status),
    gsi1sk: `${requestedAt}#${adjustmentId}`,
  }),
  statusPartition: (status: string) => `ADJUSTMENTS#${status}`,
  /** gsi2: every adjustment request, by request time. */
  listIndex: (requestedAt: string, adjustmentId: string) => ({
    gsi2pk: adjustmentKeys.listPartition,
    gsi2sk: `${requestedAt}#${adjustmentId}`,
  }),
  listPartition: 'ADJUSTMENTS',
  /** A requester's running total of immediate adjustments on one UTC day (four-eyes split guard). */
  counterType: 'adjustment-counter',
  counter: (requesterSub: string, day: string): Key => ({ pk: `ADJCOUNTER#${requesterSub}#${day}`, sk: 'ADJUSTMENT-COUNTER' }),
} as const;

/** Ledger reconciliation findings, one item each, under their run (the run itself is a job-run item). */
export const reconciliationKeys = {
  type: 'reconciliation-finding',
  partition: (runId: string) => `RECON#${runId}`,
  finding: (runId: string, n: number): Key => ({ pk: reconciliationKeys.partition(runId), sk: `FINDING#${padSeq(n)}` }),
  findingPrefix: 'FINDING#',
} as const;

/**
 * KYC (functions/store/kyc.ts). Documents and submissions each have their own partition; a client's
 * lists go through gsi1, the compliance review queue through gsi2.
 * - document file     pk KYCDOC#<documentId>           sk DOCUMENT
 *     gsi1 KYCDOCS#<clientId> / <createdAt>#<documentId>       (a client's files)
 * - submission        pk KYCSUB#<submissionId>         sk SUBMISSION
 *     gsi1 KYCSUBS#<clientId> / <submittedAt>#<submissionId>   (a client's submissions)
 *     gsi2 (sparse, one of, derived from status and review on every write):
 *     gsi2 KYCPROCESSING / <submittedAt>#<submissionId>        (status 'processing' without a review: the
 *                                                               kyc-watchdog job finds lost or failed executions)
 *     gsi2 KYCREVIEWS#pending / <queuedAt>#<submissionId>      (open manual reviews, oldest first)
 *     gsi2 KYCREVIEWS#decided / <decidedAt>#<submissionId>     (decided reviews: recent review times)
 * - extraction        pk KYCSUB#<submissionId>         sk EXTRACTION#<unit>   (identity | address)
 * - document number   pk KYCDOCNUM#<country>#<number>  sk CLIENT#<clientId>   (duplicate-document check)
 * - expiry watch      pk KYCEXPIRY#<clientId>          sk EXPIRY
 *     gsi1 KYCEXPIRIES / <identityExpiresOn>#<clientId>        (the daily expiry job)
 * Never name a KYC date attribute `expiresAt`: that is the table's TTL attribute.
 */
export const kycKeys = {
  documentType: 'kyc-document',
  submissionType: 'kyc-submission',
  extractionType: 'kyc-extraction',
  documentNumberType: 'kyc-document-number',
  expiryType: 'kyc-expiry',
  document: (documentId: string): Key => ({ pk: `KYCDOC#${documentId}`, sk: 'DOCUMENT' }),
  clientDocumentsIndex: (clientId: string, createdAt: string, documentId: string) => ({
    gsi1pk: kycKeys.clientDocumentsPartition(clientId),
    gsi1sk: `${createdAt}#${documentId}`,
  }),
  clientDocumentsPartition: (clientId: string) => `KYCDOCS#${clientId}`,
  /** The S3 object key of a document file (private bucket; never derived from client input other than ids). */
  objectKey: (clientId: string, documentId: string) => `kyc/${clientId}/${documentId}`,
  submission: (submissionId: string): Key => ({ pk: `KYCSUB#${submissionId}`, sk: 'SUBMISSION' }),
  clientSubmissionsIndex: (clientId: string, submittedAt: string, submissionId: string) => ({
    gsi1pk: kycKeys.clientSubmissionsPartition(clientId),
    gsi1sk: `${submittedAt}#${submissionId}`,
  }),
  clientSubmissionsPartition: (clientId: string) => `KYCSUBS#${clientId}`,
  reviewQueueIndex: (status: 'pending' | 'decided', at: string, submissionId: string) => ({
    gsi2pk: kycKeys.reviewQueuePartition(status),
    gsi2sk: `${at}#${submissionId}`,
  }),
  reviewQueuePartition: (status: 'pending' | 'decided') => `KYCREVIEWS#${status}`,
  processingIndex: (submittedAt: string, submissionId: string) => ({
    gsi2pk: kycKeys.processingPartition,
    gsi2sk: `${submittedAt}#${submissionId}`,
  }),
  processingPartition: 'KYCPROCESSING',
  extraction: (submissionId: string, unit: 'identity' | 'address'): Key => ({
    pk: `KYCSUB#${submissionId}`,
    sk: `EXTRACTION#${unit}`,
  }),
  documentNumberPartition: (country: string, documentNumber: string) => `KYCDOCNUM#${country}#${documentNumber}`,
  documentNumber: (country: string, documentNumber: string, clientId: string): Key => ({
    pk: kycKeys.documentNumberPartition(country, documentNumber),
    sk: `CLIENT#${clientId}`,
  }),
  expiry: (clientId: string): Key => ({ pk: `KYCEXPIRY#${clientId}`, sk: 'EXPIRY' }),
  expiryIndex: (identityExpiresOn: string, clientId: string) => ({
    gsi1pk: kycKeys.expiryPartition,
    gsi1sk: `${identityExpiresOn}#${clientId}`,
  }),
  expiryPartition: 'KYCEXPIRIES',
} as const;

const PAYMENT_INDEX_SHARDS = 8;

/**
 * Payments (functions/store/payments/). Each payment has its own partition; a client's lists go
 * through gsi1, work queues through gsi2.
 * - deposit          pk DEPOSIT#<depositId>                sk DEPOSIT
 *     gsi1 DEPOSITS#<clientId> / <createdAt>#<depositId>          (a client's deposits, newest last)
 *     gsi2 (sparse: created/pending only) DEPOSITSOPEN#<n> / <intentExpiresAt>#<depositId>   (the expiry job)
 *     gsi3 DEPOSITQ#<status> / <statusAt>#<depositId>               (the back office by status, tenant-wide)
 * - provider ref     pk PSPREF#<provider>#<providerRef>    sk PSPREF   { paymentKind, paymentId }
 * - webhook event    pk PSPEVENT#<provider>#<eventId>      sk PSPEVENT (put-if-absent in the effect's transaction)
 * - withdrawal       pk WITHDRAWAL#<withdrawalId>          sk WITHDRAWAL
 *     gsi1 WITHDRAWALS#<clientId> / <createdAt>#<withdrawalId>    (a client's withdrawals)
 *     gsi2 WITHDRAWALQ#<status> / <statusAt>#<withdrawalId>       (the back office by status, oldest first)
 * - refund           pk REFUND#<refundId>                  sk REFUND
 *     gsi1 DEPOSITREFUNDS#<depositId> / <createdAt>#<refundId>    (a deposit's refunds)
 * - chargeback       pk CHARGEBACK#<chargebackId>          sk CHARGEBACK
 *     gsi1 CHARGEBACKS#<clientId> / <openedAt>#<chargebackId>
 * - payment state    pk PAYSTATE#<clientId>                sk PAYSTATE (first deposit, pre-verification total, freeze)
 * - funding source   pk FUNDSRC#<clientId>                 sk SRC#<sourceId> (closed loop: in / back per source)
 * - compliance case  pk CASE#<caseId>                      sk CASE
 *     gsi1 CASES#<clientId> / <openedAt>#<caseId>
 *     gsi2 CASEQ#<status> / <openedAt>#<caseId>                   (compliance's queue by status)
 * - PSP reconciliation line  pk PSPRECON#<runId>           sk LINE#<n>  (the run itself is a job-run item)
 */
export const paymentKeys = {
  depositType: 'deposit',
  providerRefType: 'psp-ref',
  webhookEventType: 'psp-event',
  withdrawalType: 'withdrawal',
  refundType: 'refund',
  chargebackType: 'chargeback',
  paymentStateType: 'payment-state',
  fundingSourceType: 'funding-source',
  caseType: 'compliance-case',
  reconLineType: 'psp-recon-line',
  deposit: (depositId: string): Key => ({ pk: `DEPOSIT#${depositId}`, sk: 'DEPOSIT' }),
  clientDepositsIndex: (clientId: string, createdAt: string, depositId: string) => ({
    gsi1pk: paymentKeys.clientDepositsPartition(clientId),
    gsi1sk: `${createdAt}#${depositId}`,
  }),
  clientDepositsPartition: (clientId: string) => `DEPOSITS#${clientId}`,
  openDepositIndex: (depositId: string, intentExpiresAt: string) => ({
    gsi2pk: paymentKeys.openDepositPartition(shardOf(depositId, PAYMENT_INDEX_SHARDS)),
    gsi2sk: `${intentExpiresAt}#${depositId}`,
  }),
  openDepositPartition: (n: number) => `DEPOSITSOPEN#${n}`,
  depositStatusIndex: (status: string, statusAt: string, depositId: string) => ({
    gsi3pk: paymentKeys.depositStatusPartition(status),
    gsi3sk: `${statusAt}#${depositId}`,
  }),
  depositStatusPartition: (status: string) => `DEPOSITQ#${status}`,
  openDepositShards: PAYMENT_INDEX_SHARDS,
  providerRef: (provider: string, providerRef: string): Key => ({ pk: `PSPREF#${provider}#${providerRef}`, sk: 'PSPREF' }),
  webhookEvent: (provider: string, eventId: string): Key => ({ pk: `PSPEVENT#${provider}#${eventId}`, sk: 'PSPEVENT' }),
  withdrawal: (withdrawalId: string): Key => ({ pk: `WITHDRAWAL#${withdrawalId}`, sk: 'WITHDRAWAL' }),
  clientWithdrawalsIndex: (clientId: string, createdAt: string, withdrawalId: string) => ({
    gsi1pk: paymentKeys.clientWithdrawalsPartition(clientId),
    gsi1sk: `${createdAt}#${withdrawalId}`,
  }),
  clientWithdrawalsPartition: (clientId: string) => `WITHDRAWALS#${clientId}`,
  withdrawalStatusIndex: (status: string, statusAt: string, withdrawalId: string) => ({
    gsi2pk: paymentKeys.withdrawalStatusPartition(status),
    gsi2sk: `${statusAt}#${withdrawalId}`,
  }),
  withdrawalStatusPartition: (status: string) => `WITHDRAWALQ#${status}`,
  refund: (refundId: string): Key => ({ pk: `REFUND#${refundId}`, sk: 'REFUND' }),
  depositRefundsIndex: (depositId: string, createdAt: string, refundId: string) => ({
    gsi1pk: paymentKeys.depositRefundsPartition(depositId),
    gsi1sk: `${createdAt}#${refundId}`,
  }),
  depositRefundsPartition: (depositId: string) => `DEPOSITREFUNDS#${depositId}`,
  chargeback: (chargebackId: string): Key => ({ pk: `CHARGEBACK#${chargebackId}`, sk: 'CHARGEBACK' }),
  clientChargebacksIndex: (clientId: string, openedAt: string, chargebackId: string) => ({
    gsi1pk: `CHARGEBACKS#${clientId}`,
    gsi1sk: `${openedAt}#${chargebackId}`,
  }),
  paymentState: (clientId: string): Key => ({ pk: `PAYSTATE#${clientId}`, sk: 'PAYSTATE' }),
  fundingSourcePartition: (clientId: string) => `FUNDSRC#${clientId}`,
  fundingSource: (clientId: string, sourceId: string): Key => ({
    pk: paymentKeys.fundingSourcePartition(clientId),
    sk: `SRC#${sourceId}`,
  }),
  case: (caseId: string): Key => ({ pk: `CASE#${caseId}`, sk: 'CASE' }),
  clientCasesIndex: (clientId: string, openedAt: string, caseId: string) => ({
    gsi1pk: `CASES#${clientId}`,
    gsi1sk: `${openedAt}#${caseId}`,
  }),
  caseStatusIndex: (status: string, openedAt: string, caseId: string) => ({
    gsi2pk: paymentKeys.caseStatusPartition(status),
    gsi2sk: `${openedAt}#${caseId}`,
  }),
  caseStatusPartition: (status: string) => `CASEQ#${status}`,
  reconPartition: (runId: string) => `PSPRECON#${runId}`,
  reconLine: (runId: string, n: number): Key => ({ pk: `PSPRECON#${runId}`, sk: `LINE#${padSeq(n)}` }),
  reconLinePrefix: 'LINE#',
} as const;

/**
 * The trading context (functions/store/trading.ts; ADR 0016):
 * - trading account   pk TACCOUNT#<accountId>                         sk ACCOUNT
 *     gsi1 CLIENTTACCOUNTS#<clientId> / <createdAt>#<accountId>      (a client's accounts)
 *     gsi2 TACCOUNTS#LIVE / <createdAt>#<accountId>                  (sparse: active live accounts, reconciliation)
 * - login             pk TLOGIN#<platform>#<server>#<login>           sk LOGIN   (platform login -> account)
 * - transfer          pk TTRANSFER#<transferId>                       sk TRANSFER
 *     gsi1 TACCTRANSFERS#<accountId> / <createdAt>#<transferId>      (an account's transfers)
 *     gsi2 TTRANSFERS#PENDING / <createdAt>#<transferId>             (sparse: pending ones, for the resolver)
 * - deal              pk TDEAL#<platform>#<server>#<deal>             sk DEAL    (written once per platform deal)
 *     gsi1 TACCDEALS#<accountId> / <timeMsc>#<deal>                  (an account's deals, when the login is ours)
 *     gsi2 TPOS#<platform>#<server>#<positionId> / <timeMsc>#<deal>  (a position's deals: IB hold time, price move)
 * - deal cursor       pk TDEALCURSOR#<platform>#<server>              sk CURSOR
 * - turnover          pk TURNOVER#<clientId>#<currency>              sk <yyyy-mm-ddThh>  (ADD counter per hour)
 */
export const tradingKeys = {
  accountType: 'trading-account',
  loginType: 'trading-login',
  transferType: 'trading-transfer',
  dealType: 'trading-deal',
  cursorType: 'trading-deal-cursor',
  turnoverType: 'trading-turnover',
  account: (accountId: string): Key => ({ pk: `TACCOUNT#${accountId}`, sk: 'ACCOUNT' }),
  clientAccountsPartition: (clientId: string) => `CLIENTTACCOUNTS#${clientId}`,
  clientAccountsIndex: (clientId: string, createdAt: string, accountId: string) => ({
    gsi1pk: tradingKeys.clientAccountsPartition(clientId),
    gsi1sk: `${createdAt}#${accountId}`,
  }),
  liveAccountsPartition: 'TACCOUNTS#LIVE',
  liveAccountsIndex: (createdAt: string, accountId: string) => ({
    gsi2pk: tradingKeys.liveAccountsPartition,
    gsi2sk: `${createdAt}#${accountId}`,
  }),
  login: (platform: string, server: string, login: number): Key => ({ pk: `TLOGIN#${platform}#${server}#${login}`, sk: 'LOGIN' }),
  transfer: (transferId: string): Key => ({ pk: `TTRANSFER#${transferId}`, sk: 'TRANSFER' }),
  accountTransfersPartition: (accountId: string) => `TACCTRANSFERS#${accountId}`,
  accountTransfersIndex: (accountId: string, createdAt: string, transferId: string) => ({
    gsi1pk: tradingKeys.accountTransfersPartition(accountId),
    gsi1sk: `${createdAt}#${transferId}`,
  }),
  pendingTransfersPartition: 'TTRANSFERS#PENDING',
  pendingTransfersIndex: (createdAt: string, transferId: string) => ({
    gsi2pk: tradingKeys.pendingTransfersPartition,
    gsi2sk: `${createdAt}#${transferId}`,
  }),
  deal: (platform: string, server: string, deal: number): Key => ({ pk: `TDEAL#${platform}#${server}#${deal}`, sk: 'DEAL' }),
  accountDealsPartition: (accountId: string) => `TACCDEALS#${accountId}`,
  accountDealsIndex: (accountId: string, timeMsc: number, deal: number) => ({
    gsi1pk: tradingKeys.accountDealsPartition(accountId),
    gsi1sk: `${String(timeMsc).padStart(15, '0')}#${padSeq(deal)}`,
  }),
  cursor: (platform: string, server: string): Key => ({ pk: `TDEALCURSOR#${platform}#${server}`, sk: 'CURSOR' }),
  positionDealsPartition: (platform: string, server: string, positionId: number) => `TPOS#${platform}#${server}#${positionId}`,
  positionDealsIndex: (platform: string, server: string, positionId: number, timeMsc: number, deal: number) => ({
    gsi2pk: tradingKeys.positionDealsPartition(platform, server, positionId),
    gsi2sk: `${String(timeMsc).padStart(15, '0')}#${padSeq(deal)}`,
  }),
  turnoverPartition: (clientId: string, currency: string) => `TURNOVER#${clientId}#${currency}`,
  turnover: (clientId: string, currency: string, hour: string): Key => ({
    pk: tradingKeys.turnoverPartition(clientId, currency),
    sk: hour,
  }),
} as const;

/**
 * Copy trading (functions/store/copy.ts; issue 15):
 * - strategy          pk STRATEGY#<strategyId>                        sk STRATEGY
 *     gsi1 STRATEGIES#<status> / <createdAt>#<strategyId>            (the marketplace, the moderation queue)
 *     gsi2 PROVIDERSTRATEGIES#<clientId> / <createdAt>#<strategyId>  (a provider's strategies)
 * - strategy account  pk STRATEGYACCOUNT#<accountId>                  sk CLAIM   (one strategy per trading account)
 */
export const copyKeys = {
  strategyType: 'strategy',
  accountClaimType: 'strategy-account',
  strategy: (strategyId: string): Key => ({ pk: `STRATEGY#${strategyId}`, sk: 'STRATEGY' }),
  statusPartition: (status: string) => `STRATEGIES#${status}`,
  statusIndex: (status: string, createdAt: string, strategyId: string) => ({
    gsi1pk: copyKeys.statusPartition(status),
    gsi1sk: `${createdAt}#${strategyId}`,
  }),
  providerPartition: (clientId: string) => `PROVIDERSTRATEGIES#${clientId}`,
  providerIndex: (clientId: string, createdAt: string, strategyId: string) => ({
    gsi2pk: copyKeys.providerPartition(clientId),
    gsi2sk: `${createdAt}#${strategyId}`,
  }),
  accountClaim: (accountId: string): Key => ({ pk: `STRATEGYACCOUNT#${accountId}`, sk: 'CLAIM' }),
} as const;

/**
 * Copy subscriptions (functions/store/copy.ts):
 * - subscription      pk SUBSCRIPTION#<subscriptionId>                sk SUBSCRIPTION
 *     gsi1 STRATEGYSUBS#<strategyId> / <status>#<createdAt>#<id>     (a strategy's followers by status: fan-out)
 *     gsi2 FOLLOWERSUBS#<clientId> / <createdAt>#<id>                (a follower's subscriptions)
 * - copy account      pk COPYACCOUNT#<accountId>                      sk CLAIM   (one live subscription per account)
 */
export const subscriptionKeys = {
  type: 'copy-subscription',
  claimType: 'copy-account',
  key: (id: string): Key => ({ pk: `SUBSCRIPTION#${id}`, sk: 'SUBSCRIPTION' }),
  strategyPartition: (strategyId: string) => `STRATEGYSUBS#${strategyId}`,
  strategyIndex: (strategyId: string, status: string, createdAt: string, id: string) => ({
    gsi1pk: subscriptionKeys.strategyPartition(strategyId),
    gsi1sk: `${status}#${createdAt}#${id}`,
  }),
  followerPartition: (clientId: string) => `FOLLOWERSUBS#${clientId}`,
  followerIndex: (clientId: string, createdAt: string, id: string) => ({
    gsi2pk: subscriptionKeys.followerPartition(clientId),
    gsi2sk: `${createdAt}#${id}`,
  }),
  claim: (accountId: string): Key => ({ pk: `COPYACCOUNT#${accountId}`, sk: 'CLAIM' }),
} as const;

export const COPY_FEE_OPEN_SHARDS = 8;

/**
 * Copy fees (functions/store/copy-fees.ts; ADR 0017 "Settlement"):
 * - fee state   pk SUBSCRIPTION#<subscriptionId>              sk FEES  (high-water mark, accruals, periods, the lock)
 *     gsi1 COPYFEES#OPEN#<n> / <createdAt>#<subscriptionId>     (sparse: fees not yet finally settled; the daily job's
 *     work list, over COPY_FEE_OPEN_SHARDS partitions)
 * - fee pair    pk COPYFEEPAIR#<strategyId>#<followerClientId> sk MARK  (what a stopped copy leaves to a restart)
 * - charge      pk COPYCHARGE#<chargeId>                      sk COPYCHARGE
 *     gsi1 SUBCHARGES#<subscriptionId> / <createdAt>#<chargeId>  (a follower's charges, newest first)
 *     gsi2 STRATEGYFEES#<strategyId> / <createdAt>#<chargeId>    (a provider's fee income, newest first)
 *     gsi3 ACCOUNTCHARGES#<accountId> / <createdAt>#<chargeId>   (a copy account's charges: reconciliation)
 */
export const copyFeeKeys = {
  stateType: 'copy-fee-state',
  pairType: 'copy-fee-pair',
  chargeType: 'copy-fee-charge',
  state: (subscriptionId: string): Key => ({ pk: `SUBSCRIPTION#${subscriptionId}`, sk: 'FEES' }),
  openPartition: (shard: number) => `COPYFEES#OPEN#${shard}`,
  openIndex: (subscriptionId: string, createdAt: string) => ({
    gsi1pk: copyFeeKeys.openPartition(shardOf(subscriptionId, COPY_FEE_OPEN_SHARDS)),
    gsi1sk: `${createdAt}#${subscriptionId}`,
  }),
  pair: (strategyId: string, followerClientId: string): Key => ({
    pk: `COPYFEEPAIR#${strategyId}#${followerClientId}`,
    sk: 'MARK',
  }),
  charge: (chargeId: string): Key => ({ pk: `COPYCHARGE#${chargeId}`, sk: 'COPYCHARGE' }),
  subscriptionPartition: (subscriptionId: string) => `SUBCHARGES#${subscriptionId}`,
  strategyPartition: (strategyId: string) => `STRATEGYFEES#${strategyId}`,
  accountPartition: (accountId: string) => `ACCOUNTCHARGES#${accountId}`,
  chargeIndexes: (c: {
    subscriptionId: string;
    strategyId: string;
    followerAccountId: string;
    createdAt: string;
    chargeId: string;
  }) => ({
    gsi1pk: copyFeeKeys.subscriptionPartition(c.subscriptionId),
    gsi1sk: `${c.createdAt}#${c.chargeId}`,
    gsi2pk: copyFeeKeys.strategyPartition(c.strategyId),
    gsi2sk: `${c.createdAt}#${c.chargeId}`,
    gsi3pk: copyFeeKeys.accountPartition(c.followerAccountId),
    gsi3sk: `${c.createdAt}#${c.chargeId}`,
  }),
} as const;

/**
 * Copy trades (functions/store/copy-trades.ts):
 * - copy trade     pk COPYTRADE#<copyId>                      sk COPYTRADE
 *     gsi1 SUBCOPIES#<subscriptionId> / <createdAt>#<copyId>    (a follower's copies, newest first)
 * - position link  pk COPYLINKS#<subscriptionId>               sk POS#<providerPositionId padded>
 *     (one partition per subscription: every link of a follower in one query, for a stop that closes them all)
 * - copy state     pk SUBSCRIPTION#<subscriptionId>            sk STATE   (peak equity, money invested, fee marks)
 */
export const copyTradeKeys = {
  type: 'copy-trade',
  linkType: 'copy-link',
  stateType: 'copy-state',
  key: (copyId: string): Key => ({ pk: `COPYTRADE#${copyId}`, sk: 'COPYTRADE' }),
  subscriptionPartition: (subscriptionId: string) => `SUBCOPIES#${subscriptionId}`,
  subscriptionIndex: (subscriptionId: string, createdAt: string, copyId: string) => ({
    gsi1pk: copyTradeKeys.subscriptionPartition(subscriptionId),
    gsi1sk: `${createdAt}#${copyId}`,
  }),
  linkPartition: (subscriptionId: string) => `COPYLINKS#${subscriptionId}`,
  link: (subscriptionId: string, providerPositionId: number): Key => ({
    pk: copyTradeKeys.linkPartition(subscriptionId),
    sk: `POS#${String(providerPositionId).padStart(16, '0')}`,
  }),
  state: (subscriptionId: string): Key => ({ pk: `SUBSCRIPTION#${subscriptionId}`, sk: 'STATE' }),
} as const;

/**
 * Social exposure (functions/store/copy-exposure.ts):
 * - exposure     pk COPYEXPOSURE  sk <symbol>#<side>#<currency>   (one partition: the dealing desk reads it whole)
 * - counted deal pk COPYEXPOSUREDEAL#<dealKey>  sk DEAL            (a provider deal counted once)
 */
export const exposureKeys = {
  type: 'copy-exposure',
  partition: 'COPYEXPOSURE',
  key: (symbol: string, side: string, currency: string): Key => ({ pk: 'COPYEXPOSURE', sk: `${symbol}#${side}#${currency}` }),
  countedDeal: (dealKey: string): Key => ({ pk: `COPYEXPOSUREDEAL#${dealKey}`, sk: 'DEAL' }),
} as const;

/**
 * Copy-trading statistics (functions/store/copy-stats.ts; issue 15, ADR 0017):
 * - equity snapshot  pk EQUITY#<accountId>                           sk DAY#<yyyy-mm-dd>  (a trading account's closing
 *     equity and net external flows of one tenant day; put-if-absent, never changed; oldest first in its partition)
 * - strategy stats   pk STRATEGY#<strategyId>                        sk STATS   (the precomputed summary the
 *     marketplace sorts and filters; rewritten whole by each refresh)
 */
export const copyStatsKeys = {
  snapshotType: 'equity-snapshot',
  statsType: 'strategy-stats',
  snapshotPartition: (accountId: string) => `EQUITY#${accountId}`,
  dayPrefix: 'DAY#',
  snapshot: (accountId: string, date: string): Key => ({ pk: copyStatsKeys.snapshotPartition(accountId), sk: `DAY#${date}` }),
  stats: (strategyId: string): Key => ({ pk: `STRATEGY#${strategyId}`, sk: 'STATS' }),
} as const;

/**
 * Introducing brokers (functions/store/partners.ts, partner-accruals.ts, partner-payouts.ts; issue 16, ADR 0018):
 * - partner        pk PARTNER#<partnerId>                 sk PARTNER
 *     gsi1 PARTNERS#<status> / <createdAt>#<partnerId>      (staff list by status)
 *     gsi2 PARTNERCLIENT#<clientId> / PARTNER               (a client's partner record, at most one)
 *     gsi3 PARTNERCHILDREN#<parentId|ROOT> / <partnerId>    (the current tree, one level at a time)
 * - parent edge    pk PARTNERTREE#<partnerId>             sk FROM#<iso>   (versioned: parent from that instant)
 * - assignment     pk PARTNERPLAN#<partnerId>             sk FROM#<iso>   (versioned: plan + overrides from then)
 * - plan version   pk PLAN#<planId>                       sk V#<version padded>   (immutable)
 *     gsi1 PLANS / <planId>#<version padded>                (every plan's versions)
 * - link           pk PLINK#<code>                        sk LINK    (ADD counters: clicks, registrations, ...)
 *     gsi1 PARTNERLINKS#<partnerId> / <createdAt>#<code>
 * - click          pk PCLICK#<visitorId>                  sk <iso>#<code>   (first/last touch, TTL)
 * - attribution    pk PATTR#<clientId>                    sk FROM#<iso>   (versioned: partner from that instant)
 * - referral       pk PATTR#<clientId>                    sk CURRENT  (the current partner and the client's funnel)
 *     gsi1 PARTNERREFS#<partnerId> / <registeredAt>#<clientId>
 * - accrual line   pk PACCR#<sourceKey>                   sk LINE#<partnerId>#<rule>#<seq padded>
 *     gsi1 PACCRP#<partnerId> / <accruedAt>#<lineId>         (a partner's lines in accrual order: payouts, dashboard)
 *     gsi2 PACCRC#<clientId> / <dealTime>#<lineId>           (a client's lines by deal time: clawbacks)
 * - deal result    pk PACCR#<sourceKey>                   sk RESULT   (why a deal earned what it earned, or nothing)
 * - payout         pk PPAYOUT#<payoutId>                  sk PAYOUT
 *     gsi1 PARTNERPAYOUTS#<partnerId> / <periodEnd>#<payoutId>
 */
export const partnerKeys = {
  type: 'partner',
  edgeType: 'partner-edge',
  assignmentType: 'partner-assignment',
  planType: 'partner-plan',
  linkType: 'partner-link',
  clickType: 'partner-click',
  attributionType: 'partner-attribution',
  referralType: 'partner-referral',
  lineType: 'partner-accrual',
  resultType: 'partner-deal-result',
  payoutType: 'partner-payout',
  ROOT: 'ROOT',
  partner: (partnerId: string): Key => ({ pk: `PARTNER#${partnerId}`, sk: 'PARTNER' }),
  statusPartition: (status: string) => `PARTNERS#${status}`,
  clientPartition: (clientId: string) => `PARTNERCLIENT#${clientId}`,
  childrenPartition: (parentId: string | null) => `PARTNERCHILDREN#${parentId ?? 'ROOT'}`,
  edgePartition: (partnerId: string) => `PARTNERTREE#${partnerId}`,
  edge: (partnerId: string, from: string): Key => ({ pk: `PARTNERTREE#${partnerId}`, sk: `FROM#${from}` }),
  assignmentPartition: (partnerId: string) => `PARTNERPLAN#${partnerId}`,
  assignment: (partnerId: string, from: string): Key => ({ pk: `PARTNERPLAN#${partnerId}`, sk: `FROM#${from}` }),
  planPartition: (planId: string) => `PLAN#${planId}`,
  plan: (planId: string, version: number): Key => ({ pk: `PLAN#${planId}`, sk: `V#${String(version).padStart(6, '0')}` }),
  plansPartition: 'PLANS',
  link: (code: string): Key => ({ pk: `PLINK#${code}`, sk: 'LINK' }),
  linksPartition: (partnerId: string) => `PARTNERLINKS#${partnerId}`,
  clickPartition: (visitorId: string) => `PCLICK#${visitorId}`,
  click: (visitorId: string, at: string, code: string): Key => ({ pk: `PCLICK#${visitorId}`, sk: `${at}#${code}` }),
  attributionPartition: (clientId: string) => `PATTR#${clientId}`,
  attribution: (clientId: string, from: string): Key => ({ pk: `PATTR#${clientId}`, sk: `FROM#${from}` }),
  referral: (clientId: string): Key => ({ pk: `PATTR#${clientId}`, sk: 'CURRENT' }),
  referralsPartition: (partnerId: string) => `PARTNERREFS#${partnerId}`,
  sourcePartition: (sourceKey: string) => `PACCR#${sourceKey}`,
  line: (sourceKey: string, partnerId: string, rule: string, seq: number): Key => ({
    pk: `PACCR#${sourceKey}`,
    sk: `LINE#${partnerId}#${rule}#${String(seq).padStart(4, '0')}`,
  }),
  result: (sourceKey: string): Key => ({ pk: `PACCR#${sourceKey}`, sk: 'RESULT' }),
  partnerLinesPartition: (partnerId: string) => `PACCRP#${partnerId}`,
  clientLinesPartition: (clientId: string) => `PACCRC#${clientId}`,
  payout: (payoutId: string): Key => ({ pk: `PPAYOUT#${payoutId}`, sk: 'PAYOUT' }),
  payoutsPartition: (partnerId: string) => `PARTNERPAYOUTS#${partnerId}`,
} as const;
