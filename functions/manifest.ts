/**
 * The one list of every function, route, queue, event rule, schedule and state machine.
 *
 * `infra/` turns it into CDK resources; `local/` wires the same handlers to the local
 * gateway, queues, bus, scheduler and state-machine runner. Neither keeps a list of its own,
 * so the two cannot drift apart (test/infra/manifest.test.ts checks the template against it).
 *
 * Invariants:
 * - every function name is unique, kebab-case, and its entry file exists under functions/
 * - every route (method + path) is served by exactly one function
 * - every queue, rule, schedule and state machine refers to functions declared here
 */

import type { DetailType } from '#domain/events/index.ts';
import type { Role } from '#domain/identity/roles.ts';

export { CLIENT_ROLES, ROLES, type Role, STAFF_ROLES } from '#domain/identity/roles.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteSpec {
  method: HttpMethod;
  /** API Gateway path template, e.g. /v1/admin/clients/{clientId}/audit */
  path: string;
  /** 'public' routes skip the authorizer; otherwise the roles allowed (any authenticated role: 'authenticated'). */
  auth: 'public' | 'authenticated' | readonly Role[];
}

/**
 * Permissions a function needs. infra grants exactly these (least privilege); local ignores them.
 * - table:read / table:write: the single table (write implies read)
 * - bus:put: PutEvents on the tenant bus
 * - documents:read / documents:write: the KYC documents bucket
 * - audit-archive:read: HeadObject/GetObject on the Object Lock audit bucket (verifying the archive)
 * - audit-archive:write: the Object Lock audit bucket
 * - userpool:admin:clients / userpool:admin:staff: the Cognito user-provisioning admin calls (create,
 *   get, set password, add to group, delete) on ONE pool: the public registration function can never
 *   touch the staff pool
 * - userpool:auth: Cognito InitiateAuth / SignUp (public client flows)
 * - states:start:<machine>: StartExecution on one state machine, and DescribeExecution on its executions
 * - states:callback: SendTaskSuccess / SendTaskFailure (manual decisions)
 * - textract:analyze: AnalyzeID / AnalyzeDocument
 * - email:send: SES SendEmail from the tenant's brand identity (brand.supportEmail's domain)
 * - queue:send:<queue>: SendMessage on one queue of this manifest
 * - psp:secrets: read the PSP webhook / API secrets (Secrets Manager; local: environment)
 * - platform:secrets: read the trading platforms' connections (Secrets Manager; local: environment)
 * - settlements:read / settlements:write: the PSP settlement-report bucket (reconciliation)
 *
 * Every function that serves role-restricted routes has table:write, even when its routes only read: the edge
 * records each 403 forbidden_role (and each cross-client probe) as a security event in the table, and may open a
 * compliance case (functions/middleware/security.ts, docs/decisions/0010-security-events.md). A narrower grant
 * (UpdateItem on the security-event keys only, the case opened by a consumer) is the ADR's follow-up.
 */
export type Permission =
  | 'table:read'
  | 'table:write'
  | 'bus:put'
  | 'documents:read'
  | 'documents:write'
  | 'audit-archive:read'
  | 'audit-archive:write'
  | 'userpool:admin:clients'
  | 'userpool:admin:staff'
  | 'userpool:auth'
  | 'states:callback'
  | 'textract:analyze'
  | 'email:send'
  | 'psp:secrets'
  | 'platform:secrets'
  | 'settlements:read'
  | 'settlements:write'
  | `states:start:${string}`
  | `queue:send:${string}`;

export type StreamFilter = 'outbox' | 'audit';

/**
 * The bounded contexts. Each deploys as its own nested stack (infra/stacks/context-stack.ts) holding its
 * functions, state machines, queue consumers, rules, schedules and alarms; the trading half adds its own.
 * `sandbox` holds stand-ins for outside systems (the sandbox PSP): they call our API like a provider would,
 * so they deploy apart from the contexts whose routes the API serves.
 */
export const CONTEXTS = ['platform', 'identity', 'kyc', 'ledger', 'payments', 'trading', 'partners', 'sandbox'] as const;
export type Context = (typeof CONTEXTS)[number];

export interface FunctionSpec {
  /** Logical name, kebab-case, unique. */
  name: string;
  /** The bounded context it belongs to (and so the nested stack it deploys in). */
  context: Context;
  /** Entry file relative to the repository root; it exports `handler`. */
  entry: string;
  description: string;
  routes?: readonly RouteSpec[];
  /** DynamoDB stream consumer, filtered to items of this kind. */
  stream?: StreamFilter;
  permissions: readonly Permission[];
  memoryMb?: number;
  timeoutSeconds?: number;
}

export interface QueueSpec {
  name: string;
  fifo: boolean;
  consumer: string;
  batchSize: number;
  visibilityTimeoutSeconds: number;
  /** Receives before a message moves to the DLQ. */
  maxReceiveCount: number;
  /**
   * The most batches its consumer handles at once (the event source mapping's maximum concurrency,
   * at least 2); unset = Lambda scales with the queue.
   */
  maxConcurrency?: number;
}

/** An EventBridge rule on the tenant bus. Targets either a function or a queue. */
export interface RuleSpec {
  name: string;
  pattern: { source?: string[]; 'detail-type'?: string[]; detail?: Record<string, unknown> };
  target: { function: string } | { queue: string };
}

/**
 * A rule on the product's own events: source EVENT_SOURCE and detail-types of the event catalogue
 * (domain/events), built with `onEvents(...)`, so a detail-type that is not in the catalogue does not compile.
 */
export interface EventRuleSpec extends RuleSpec {
  pattern: { source: [typeof EVENT_SOURCE]; 'detail-type': DetailType[]; detail?: Record<string, unknown> };
}

/**
 * A scheduled job (EventBridge Scheduler). `cron` uses EventBridge syntax: cron(min hour day-of-month month
 * day-of-week year). `timezone`: 'tenant' evaluates it in the tenant's `timezone` (business-facing runs: a
 * daily client-facing job, fee settlement, IB payouts); 'UTC' for technical sweeps and watchdogs.
 */
export interface ScheduleSpec {
  name: string;
  cron: string;
  timezone: 'tenant' | 'UTC';
  function: string;
  description: string;
}

/** The state machines of `stateMachines` below (the WorkflowPort starts and describes them by this name). */
export type StateMachineName = 'withdrawal-approval' | 'kyc-review';

export interface StateMachineSpec {
  name: string;
  /** The bounded context whose nested stack holds it (its task functions are of the same context). */
  context: Context;
  /** ASL file relative to the repository root. Task resources are written as ${FunctionName} placeholders. */
  definition: string;
  /** Placeholder -> function name, e.g. { AnalyzeDocumentsFn: 'kyc-analyze' }. */
  tasks: Record<string, string>;
}

export const JOB_SOURCE = 'backoffice.jobs';
export const JOB_DETAIL_TYPE = 'job.run.requested';
export const EVENT_SOURCE = 'backoffice';

/** Who reads a client's trading account through the client routes (the client itself, and staff who read accounts). */
const TRADING_READERS = ['client', 'sales', 'retention', 'compliance', 'finance', 'admin'] as const;

const api = (
  context: Context,
  name: string,
  file: string,
  description: string,
  routes: RouteSpec[],
  permissions: Permission[],
): FunctionSpec => ({
  name,
  context,
  entry: `functions/api/${file}.ts`,
  description,
  routes,
  permissions,
});

export const functions: readonly FunctionSpec[] = [
  api(
    'platform',
    'api-health',
    'health',
    'Liveness and the OpenAPI document',
    [
      { method: 'GET', path: '/health', auth: 'public' },
      { method: 'GET', path: '/openapi.json', auth: 'public' },
    ],
    [],
  ),
  api(
    'identity',
    'api-registrations',
    'registrations',
    'Client self-registration',
    [{ method: 'POST', path: '/v1/registrations', auth: 'public' }],
    ['table:write', 'userpool:admin:clients'],
  ),
  api(
    'identity',
    'api-sessions',
    'sessions',
    'Sign-in: email and password for tokens, throttled per account and per source',
    [
      { method: 'POST', path: '/v1/sessions', auth: 'public' },
      { method: 'POST', path: '/v1/sessions/challenges', auth: 'public' },
    ],
    // table:write: the failed sign-in counters and their security events.
    ['table:write', 'userpool:auth'],
  ),
  api(
    'identity',
    'api-me',
    'me',
    "The caller's profile and onboarding state",
    [{ method: 'GET', path: '/v1/me', auth: 'authenticated' }],
    ['table:read'],
  ),
  api(
    'identity',
    'api-onboarding',
    'onboarding',
    "The client's onboarding: the form, personal details and the appropriateness questionnaire",
    [
      { method: 'GET', path: '/v1/onboarding/form', auth: ['client'] },
      { method: 'POST', path: '/v1/onboarding/profile', auth: ['client'] },
      { method: 'POST', path: '/v1/onboarding/questionnaire', auth: ['client'] },
    ],
    ['table:write'],
  ),
  api(
    'identity',
    'api-staff',
    'staff',
    'Staff users, created and listed by admins',
    [
      { method: 'POST', path: '/v1/admin/staff', auth: ['admin'] },
      { method: 'GET', path: '/v1/admin/staff', auth: ['admin'] },
    ],
    ['table:write', 'userpool:admin:staff'],
  ),
  api(
    'platform',
    'api-audit',
    'audit',
    "A client's audit trail, newest first",
    [{ method: 'GET', path: '/v1/admin/clients/{clientId}/audit', auth: ['compliance', 'admin'] }],
    ['table:write'],
  ),
  api(
    'platform',
    'api-jobs',
    'jobs',
    'Run a scheduled job on demand, and read its runs and their results',
    [
      { method: 'POST', path: '/v1/admin/jobs/{job}/runs', auth: ['admin'] },
      { method: 'GET', path: '/v1/admin/jobs/{job}/runs', auth: ['admin', 'compliance'] },
      { method: 'GET', path: '/v1/admin/jobs/{job}/runs/{runId}', auth: ['admin', 'compliance'] },
    ],
    ['table:write', 'bus:put'],
  ),
  api(
    'platform',
    'api-security-events',
    'security-events',
    'Security events for compliance: failed sign-ins, lockouts, cross-client probes, role refusals, bad webhook signatures',
    [{ method: 'GET', path: '/v1/admin/security-events', auth: ['compliance', 'admin'] }],
    ['table:write'],
  ),
  {
    name: 'outbox-relay',
    context: 'platform',
    entry: 'functions/workers/outbox-relay.ts',
    description: 'Publishes committed outbox items from the table stream to the event bus',
    stream: 'outbox',
    permissions: ['table:write', 'bus:put'],
  },
  {
    name: 'audit-archiver',
    context: 'platform',
    entry: 'functions/workers/audit-archiver.ts',
    description: 'Copies audit items from the table stream to the Object Lock audit bucket as NDJSON',
    stream: 'audit',
    permissions: ['audit-archive:write'],
  },
  {
    name: 'notifications',
    context: 'platform',
    entry: 'functions/workers/notifications.ts',
    description: 'Sends client notifications (welcome email, ...) from queued domain events',
    permissions: ['table:write', 'email:send'],
  },
  {
    name: 'job-audit-verify',
    context: 'platform',
    entry: 'functions/jobs/audit-verify.ts',
    description: 'Re-computes every audit hash chain, checks each chain tip is archived, and raises a finding on any gap',
    permissions: ['table:write', 'audit-archive:read', 'audit-archive:write'],
    timeoutSeconds: 300,
  },
  api(
    'ledger',
    'api-wallets',
    'wallets',
    "A client's wallets: balances, transactions and monthly CSV statements",
    [
      { method: 'GET', path: '/v1/wallets', auth: ['client'] },
      { method: 'GET', path: '/v1/wallets/{walletId}/transactions', auth: ['client', 'finance', 'compliance', 'admin'] },
      { method: 'GET', path: '/v1/wallets/{walletId}/statement', auth: ['client', 'finance', 'compliance', 'admin'] },
    ],
    ['table:write'],
  ),
  api(
    'ledger',
    'api-transfers',
    'transfers',
    "Transfers between a client's own wallets, with FX at the tenant rate",
    [{ method: 'POST', path: '/v1/transfers', auth: ['client'] }],
    ['table:write'],
  ),
  api(
    'ledger',
    'api-adjustments',
    'adjustments',
    'Manual wallet adjustments by finance, four-eyes above the tenant threshold',
    [
      { method: 'POST', path: '/v1/admin/adjustments', auth: ['finance'] },
      { method: 'GET', path: '/v1/admin/adjustments', auth: ['finance'] },
      { method: 'POST', path: '/v1/admin/adjustments/{adjustmentId}/decision', auth: ['finance'] },
    ],
    ['table:write'],
  ),
  api(
    'ledger',
    'api-ledger-admin',
    'ledger-admin',
    'Ledger inspection for finance, compliance and admins: accounts, journals, reconciliation',
    [
      { method: 'GET', path: '/v1/admin/ledger/accounts/{accountId}', auth: ['finance', 'compliance', 'admin'] },
      { method: 'GET', path: '/v1/admin/ledger/journals/{journalId}', auth: ['finance', 'compliance', 'admin'] },
      { method: 'GET', path: '/v1/admin/ledger/reconciliation', auth: ['finance', 'compliance', 'admin'] },
    ],
    ['table:write'],
  ),
  api(
    'kyc',
    'api-kyc',
    'kyc',
    "The client's verification: document uploads, submissions and status",
    [
      { method: 'GET', path: '/v1/kyc', auth: ['client'] },
      { method: 'POST', path: '/v1/kyc/documents', auth: ['client'] },
      { method: 'GET', path: '/v1/kyc/documents/{documentId}', auth: ['client', 'compliance', 'admin'] },
      { method: 'POST', path: '/v1/kyc/submissions', auth: ['client'] },
    ],
    ['table:write', 'documents:read', 'documents:write'],
  ),
  api(
    'kyc',
    'api-kyc-admin',
    'kyc-admin',
    'The compliance review queue: flagged KYC submissions, their evidence and the decision',
    [
      { method: 'GET', path: '/v1/admin/kyc/reviews', auth: ['compliance', 'admin'] },
      { method: 'GET', path: '/v1/admin/kyc/reviews/{reviewId}', auth: ['compliance', 'admin'] },
      { method: 'POST', path: '/v1/admin/kyc/reviews/{reviewId}/decision', auth: ['compliance'] },
    ],
    ['table:write', 'documents:read', 'states:callback'],
  ),
  api(
    'payments',
    'api-payment-methods',
    'payment-methods',
    "The deposit and withdrawal methods offered in the caller's country, with fees and processing times",
    [{ method: 'GET', path: '/v1/payment-methods', auth: ['client'] }],
    ['table:write'],
  ),
  api(
    'trading',
    'api-trading-account-types',
    'trading-account-types',
    'The trading account types the caller may open, with its leverage choices and whether live accounts are open to it',
    // table:write: the edge records refused requests as security events (functions/middleware/security.ts)
    [{ method: 'GET', path: '/v1/trading-account-types', auth: ['client'] }],
    ['table:write'],
  ),
  api(
    'trading',
    'api-trading-accounts',
    'trading-accounts',
    "The client's trading accounts: open, state, leverage, passwords, wallet transfers, positions and deals",
    [
      { method: 'POST', path: '/v1/trading-accounts', auth: ['client'] },
      { method: 'GET', path: '/v1/trading-accounts', auth: ['client'] },
      { method: 'GET', path: '/v1/trading-accounts/{accountId}', auth: [...TRADING_READERS] },
      { method: 'POST', path: '/v1/trading-accounts/{accountId}/leverage', auth: ['client'] },
      { method: 'POST', path: '/v1/trading-accounts/{accountId}/password-resets', auth: ['client'] },
      { method: 'POST', path: '/v1/trading-accounts/{accountId}/transfers', auth: ['client'] },
      { method: 'GET', path: '/v1/trading-accounts/{accountId}/transfers', auth: [...TRADING_READERS] },
      { method: 'GET', path: '/v1/trading-accounts/{accountId}/transfers/{transferId}', auth: [...TRADING_READERS] },
      { method: 'GET', path: '/v1/trading-accounts/{accountId}/positions', auth: [...TRADING_READERS] },
      { method: 'GET', path: '/v1/trading-accounts/{accountId}/deals', auth: [...TRADING_READERS] },
    ],
    ['table:write', 'platform:secrets'],
  ),
  api(
    'trading',
    'api-strategies',
    'strategies',
    'Copy trading: strategies (submission, marketplace, moderation) and subscriptions',
    [
      { method: 'POST', path: '/v1/strategies', auth: ['client'] },
      { method: 'GET', path: '/v1/strategies', auth: [...TRADING_READERS] },
      { method: 'GET', path: '/v1/strategies/{strategyId}', auth: [...TRADING_READERS] },
      // its provider and staff only (the use case); others 404
      { method: 'GET', path: '/v1/strategies/{strategyId}/followers', auth: [...TRADING_READERS] },
      { method: 'POST', path: '/v1/admin/strategies/{strategyId}/decision', auth: ['compliance', 'admin'] },
      { method: 'POST', path: '/v1/strategies/{strategyId}/subscriptions', auth: ['client'] },
      { method: 'GET', path: '/v1/subscriptions', auth: ['client'] },
      { method: 'GET', path: '/v1/subscriptions/{subscriptionId}', auth: ['client'] },
      { method: 'POST', path: '/v1/subscriptions/{subscriptionId}/status', auth: ['client'] },
      { method: 'GET', path: '/v1/subscriptions/{subscriptionId}/copies', auth: ['client'] },
      { method: 'GET', path: '/v1/subscriptions/{subscriptionId}/charges', auth: ['client'] },
      { method: 'GET', path: '/v1/strategies/{strategyId}/fees', auth: [...TRADING_READERS] },
    ],
    // platform:secrets: a follow checks the copy account's equity on the platform
    ['table:write', 'platform:secrets'],
  ),
  api(
    'trading',
    'api-copy-admin',
    'copy-admin',
    "The dealing desk's copy-trading view: social exposure per symbol and direction",
    [{ method: 'GET', path: '/v1/admin/copy/exposure', auth: ['finance', 'compliance', 'admin'] }],
    ['table:write'],
  ),
  {
    name: 'job-copy-exposure-alerts',
    context: 'trading',
    entry: 'functions/jobs/copy-exposure-alerts.ts',
    description: "Raises (and clears) the dealing desk's alert when copied exposure on a symbol reaches the tenant threshold",
    permissions: ['table:write'],
    timeoutSeconds: 60,
  },
  {
    name: 'copy-fanout',
    context: 'trading',
    entry: 'functions/workers/copy-fanout.ts',
    description: "Turns a strategy provider's deal (or a stop) into one replication message per follower on the FIFO queue",
    // platform:secrets: the provider's balance and equity, read once per opening deal for the proportional modes
    permissions: ['table:read', 'platform:secrets', 'queue:send:copy-replication'],
    memoryMb: 512,
    // A strategy with thousands of followers is thousands of messages: never cut off half-sent (a retry re-sends
    // the same deduplication ids, but a timeout under load made the bench's local bus give the event up).
    timeoutSeconds: 300,
  },
  {
    name: 'copy-executor',
    context: 'trading',
    entry: 'functions/workers/copy-executor.ts',
    description: "Copies one provider deal to one follower's copy account (or closes its copies on a stop), exactly once",
    permissions: ['table:write', 'platform:secrets'],
    timeoutSeconds: 30,
  },
  {
    name: 'copy-fees',
    context: 'trading',
    entry: 'functions/workers/copy-fees.ts',
    description: "Makes a stopped copy's final fee charge (platform balance operation, ledger journal to provider and broker)",
    permissions: ['table:write', 'platform:secrets'],
    timeoutSeconds: 60,
  },
  api(
    'trading',
    'api-trading-admin',
    'trading-admin',
    "Staff views of a client's trading accounts (groups, state, balance discrepancies) and account restrictions",
    [
      {
        method: 'GET',
        path: '/v1/admin/clients/{clientId}/trading-accounts',
        auth: ['sales', 'retention', 'compliance', 'finance', 'admin'],
      },
      { method: 'POST', path: '/v1/admin/trading-accounts/{accountId}/access', auth: ['compliance', 'admin'] },
    ],
    ['table:write', 'platform:secrets'],
  ),
  api(
    'payments',
    'api-deposits',
    'deposits',
    "The client's deposits: intents with the fee and the provider's next action, their status and history",
    [
      { method: 'POST', path: '/v1/deposits', auth: ['client'] },
      { method: 'GET', path: '/v1/deposits', auth: ['client'] },
      { method: 'GET', path: '/v1/deposits/{depositId}', auth: ['client', 'finance', 'compliance', 'admin'] },
    ],
    // queue:send:psp-sandbox: the sandbox provider's "API" is its queue (functions/adapters/psp/sandbox.ts).
    ['table:write', 'psp:secrets', 'queue:send:psp-sandbox'],
  ),
  api(
    'payments',
    'api-psp-webhooks',
    'psp-webhooks',
    'Payment provider webhooks: signed, de-duplicated by event id, applied to deposits, payouts, refunds and chargebacks',
    [{ method: 'POST', path: '/v1/webhooks/psp/{provider}', auth: 'public' }],
    // states:callback: a payout's outcome resumes its withdrawal-approval execution (SendTaskSuccess).
    ['table:write', 'psp:secrets', 'states:callback'],
  ),
  api(
    'payments',
    'api-withdrawals',
    'withdrawals',
    "The client's withdrawals: requests (funds held), status timelines, cancellation, and where money may go back to",
    [
      { method: 'POST', path: '/v1/withdrawals', auth: ['client'] },
      { method: 'GET', path: '/v1/withdrawals', auth: ['client'] },
      { method: 'GET', path: '/v1/withdrawals/{withdrawalId}', auth: ['client', 'finance', 'compliance', 'admin'] },
      { method: 'POST', path: '/v1/withdrawals/{withdrawalId}/cancellation', auth: ['client'] },
      { method: 'GET', path: '/v1/funding-sources', auth: ['client'] },
    ],
    // states:callback: cancelling a withdrawal under review ends its waiting execution.
    ['table:write', 'states:callback'],
  ),
  api(
    'payments',
    'api-withdrawals-admin',
    'withdrawals-admin',
    'The withdrawal review queue for finance and compliance: failing checks, evidence and the decision',
    [
      { method: 'GET', path: '/v1/admin/withdrawals', auth: ['finance', 'compliance', 'admin'] },
      { method: 'GET', path: '/v1/admin/withdrawals/{withdrawalId}', auth: ['finance', 'compliance', 'admin'] },
      { method: 'POST', path: '/v1/admin/withdrawals/{withdrawalId}/decision', auth: ['finance', 'compliance'] },
    ],
    ['table:write', 'states:callback'],
  ),
  api(
    'payments',
    'api-payments-admin',
    'payments-admin',
    'Deposits for the back office, refunds (finance) and compliance cases (chargebacks): list, read, close',
    [
      { method: 'GET', path: '/v1/admin/deposits', auth: ['finance', 'compliance', 'admin'] },
      { method: 'POST', path: '/v1/admin/deposits/{depositId}/refunds', auth: ['finance'] },
      { method: 'GET', path: '/v1/admin/compliance/cases', auth: ['compliance', 'admin'] },
      { method: 'GET', path: '/v1/admin/compliance/cases/{caseId}', auth: ['compliance', 'admin'] },
      { method: 'POST', path: '/v1/admin/compliance/cases/{caseId}/close', auth: ['compliance'] },
    ],
    ['table:write', 'psp:secrets', 'queue:send:psp-sandbox'],
  ),
  api(
    'payments',
    'api-psp-reconciliation',
    'psp-reconciliation',
    'PSP settlement reconciliation results',
    [{ method: 'GET', path: '/v1/admin/reconciliation/psp/{runId}', auth: ['finance', 'compliance', 'admin'] }],
    ['table:write'],
  ),
  {
    name: 'psp-sandbox',
    context: 'sandbox',
    entry: 'functions/workers/psp-sandbox.ts',
    description:
      'The sandbox payment provider: settles, fails or leaves pending each request by its amount and calls the signed webhook',
    permissions: ['psp:secrets', 'settlements:write'],
    timeoutSeconds: 30,
  },
  {
    name: 'withdrawal-start',
    context: 'payments',
    entry: 'functions/steps/withdrawal-start.ts',
    description: 'Starts the withdrawal-approval state machine for a received withdrawal (named after it, so at most once)',
    permissions: ['table:read', 'states:start:withdrawal-approval'],
  },
  {
    name: 'withdrawal-checks',
    context: 'payments',
    entry: 'functions/steps/withdrawal-checks.ts',
    description:
      'withdrawal-approval step: KYC validity, closed loop, AML rules and document requests; approve, review or reject',
    permissions: ['table:write'],
  },
  {
    name: 'withdrawal-open-review',
    context: 'payments',
    entry: 'functions/steps/withdrawal-open-review.ts',
    description: 'withdrawal-approval step: puts a flagged withdrawal in the finance/compliance queue with its task token',
    permissions: ['table:write', 'states:callback'],
  },
  {
    name: 'withdrawal-payout',
    context: 'payments',
    entry: 'functions/steps/withdrawal-payout.ts',
    description: "withdrawal-approval step: sends the payout to the provider and waits for the provider's confirmation",
    permissions: ['table:write', 'psp:secrets', 'queue:send:psp-sandbox', 'states:callback'],
    timeoutSeconds: 30,
  },
  {
    name: 'withdrawal-finalize',
    context: 'payments',
    entry: 'functions/steps/withdrawal-finalize.ts',
    description: 'withdrawal-approval step: completes (posts the hold) or ends (voids the hold, with the reason) a withdrawal',
    permissions: ['table:write'],
  },
  {
    name: 'job-deposit-expiry',
    context: 'payments',
    entry: 'functions/jobs/deposit-expiry.ts',
    description: 'Expires deposit intents the client never paid',
    permissions: ['table:write'],
    timeoutSeconds: 120,
  },
  {
    name: 'job-psp-reconciliation',
    context: 'payments',
    entry: 'functions/jobs/psp-reconciliation.ts',
    description: "Matches the providers' settlement reports against ledger journals",
    permissions: ['table:write', 'psp:secrets', 'settlements:read'],
    memoryMb: 1024,
    timeoutSeconds: 900,
  },
  {
    name: 'kyc-start-review',
    context: 'kyc',
    entry: 'functions/steps/kyc-start.ts',
    description: 'Starts the kyc-review state machine for a committed submission (named after it, so at most once)',
    permissions: ['table:read', 'states:start:kyc-review'],
  },
  {
    name: 'kyc-analyze',
    context: 'kyc',
    entry: 'functions/steps/kyc-analyze.ts',
    description: 'kyc-review step: analyses one identity document or proof of address (Textract) and stores the fields',
    permissions: ['table:write', 'documents:read', 'textract:analyze'],
    memoryMb: 512,
    timeoutSeconds: 60,
  },
  {
    name: 'kyc-assess',
    context: 'kyc',
    entry: 'functions/steps/kyc-assess.ts',
    description: 'kyc-review step: runs every KYC check on the extracted documents and decides',
    permissions: ['table:write'],
  },
  {
    name: 'kyc-open-review',
    context: 'kyc',
    entry: 'functions/steps/kyc-open-review.ts',
    description: 'kyc-review step: puts a flagged submission in the compliance queue with its task token',
    // states:callback: a submission already decided gets its task token answered at once (SendTaskSuccess).
    permissions: ['table:write', 'states:callback'],
  },
  {
    name: 'kyc-finalize',
    context: 'kyc',
    entry: 'functions/steps/kyc-finalize.ts',
    description: 'kyc-review step: applies the decision to the submission, its documents and the client',
    permissions: ['table:write'],
  },
  {
    name: 'job-kyc-expiry',
    context: 'kyc',
    entry: 'functions/jobs/kyc-expiry.ts',
    description: 'Flags identity documents expiring within 30 days and moves clients with expired ones to action_required',
    permissions: ['table:write'],
    timeoutSeconds: 300,
  },
  {
    name: 'job-withdrawal-watchdog',
    context: 'payments',
    entry: 'functions/jobs/withdrawal-watchdog.ts',
    description:
      'Restarts withdrawal approvals whose execution was never started or ended before the withdrawal was final (alarms when it gives up)',
    permissions: ['table:write', 'states:start:withdrawal-approval'],
    timeoutSeconds: 120,
  },
  {
    name: 'job-kyc-watchdog',
    context: 'kyc',
    entry: 'functions/jobs/kyc-watchdog.ts',
    description:
      'Restarts KYC reviews whose execution was never started or ended without a decision (a manual review when it gives up); re-sends lost review callbacks',
    // states:callback: re-sends the SendTaskSuccess of a decided review whose callback was lost.
    permissions: ['table:write', 'states:start:kyc-review', 'states:callback'],
    timeoutSeconds: 120,
  },
  {
    name: 'job-outbox-sweeper',
    context: 'platform',
    entry: 'functions/jobs/outbox-sweeper.ts',
    description: 'Republishes outbox events left unpublished (lost stream delivery, failed PutEvents)',
    permissions: ['table:write', 'bus:put'],
    timeoutSeconds: 120,
  },
  {
    name: 'job-trading-deal-ingest',
    context: 'trading',
    entry: 'functions/jobs/trading-deal-ingest.ts',
    description: 'Reads new deals and balance operations from each trading platform and writes each once with its event',
    permissions: ['table:write', 'platform:secrets'],
    memoryMb: 512,
    timeoutSeconds: 300,
  },
  {
    name: 'job-trading-transfer-resolver',
    context: 'trading',
    entry: 'functions/jobs/trading-transfer-resolver.ts',
    description: 'Settles wallet/trading-account transfers the platform did not answer, by asking it for the operation',
    permissions: ['table:write', 'platform:secrets'],
    timeoutSeconds: 300,
  },
  {
    name: 'job-copy-equity-snapshot',
    context: 'trading',
    entry: 'functions/jobs/copy-equity-snapshot.ts',
    description:
      "Writes each strategy account's and copy account's closing equity and net external flows once per day, then refreshes the strategies' statistics",
    permissions: ['table:write', 'platform:secrets'],
    memoryMb: 512,
    timeoutSeconds: 900,
  },
  {
    name: 'job-trading-reconciliation',
    context: 'trading',
    entry: 'functions/jobs/trading-reconciliation.ts',
    description: "Compares each live trading account's platform balance operations with the ledger and the transfers",
    permissions: ['table:write', 'platform:secrets'],
    memoryMb: 1024,
    timeoutSeconds: 900,
  },
  {
    name: 'job-copy-fee-settlement',
    context: 'trading',
    entry: 'functions/jobs/copy-fee-settlement.ts',
    description: 'Accrues copy management fees daily and charges the fees due (anniversaries, subscription periods, stops)',
    permissions: ['table:write', 'platform:secrets'],
    memoryMb: 512,
    timeoutSeconds: 900,
  },
  api(
    'partners',
    'api-partner-dashboard',
    'partner-dashboard',
    "The partner dashboard: the caller's network tree with counts, referred clients, accruals by day, rule or client, and the links' funnel",
    [
      // the caller's own approved partner record (found by its client id); sub-partners' clients are aggregates only.
      // Declared before api-partners: local/gateway.ts takes the first matching route, and /links/funnel must not
      // be read as /links/{code} (API Gateway prefers the static segment; the local gateway follows this order)
      { method: 'GET', path: '/v1/partners/me/network', auth: ['client', 'partner'] },
      { method: 'GET', path: '/v1/partners/me/clients', auth: ['client', 'partner'] },
      { method: 'GET', path: '/v1/partners/me/accruals', auth: ['client', 'partner'] },
      { method: 'GET', path: '/v1/partners/me/links/funnel', auth: ['client', 'partner'] },
    ],
    ['table:write'],
  ),
  api(
    'partners',
    'api-partners-reports',
    'partners-reports',
    "Staff: a deal's commissions explained and recomputed, a client's fraud flag (clawback), a period's replay",
    [
      { method: 'GET', path: '/v1/admin/partner-deals/{dealKey}/explanation', auth: ['compliance', 'finance', 'admin'] },
      { method: 'POST', path: '/v1/admin/clients/{clientId}/fraud-flag', auth: ['compliance', 'admin'] },
      { method: 'POST', path: '/v1/admin/partners/replay', auth: ['finance', 'compliance', 'admin'] },
    ],
    ['table:write'],
  ),
  api(
    'partners',
    'api-partners',
    'partners',
    'Partner network for clients: apply, your partner account, your referral links; the public click recorder',
    [
      // a partner acts with its client token; its records are found by its client id (another partner's link: 404)
      { method: 'POST', path: '/v1/partners', auth: ['client', 'partner'] },
      { method: 'GET', path: '/v1/partners/me', auth: ['client', 'partner'] },
      { method: 'POST', path: '/v1/partners/me/links', auth: ['client', 'partner'] },
      { method: 'GET', path: '/v1/partners/me/links', auth: ['client', 'partner'] },
      { method: 'GET', path: '/v1/partners/me/links/{code}', auth: ['client', 'partner'] },
      { method: 'POST', path: '/v1/referrals/clicks', auth: 'public' },
    ],
    ['table:write'],
  ),
  api(
    'partners',
    'api-partners-admin',
    'partners-admin',
    'Partner network for staff: partners, decisions and holds, moves of clients and sub-IBs, commission plans and assignments',
    [
      { method: 'GET', path: '/v1/admin/partners', auth: ['compliance', 'finance', 'admin'] },
      { method: 'GET', path: '/v1/admin/partners/{partnerId}', auth: ['compliance', 'finance', 'admin'] },
      { method: 'POST', path: '/v1/admin/partners', auth: ['compliance', 'admin'] },
      { method: 'POST', path: '/v1/admin/partners/{partnerId}/decision', auth: ['compliance', 'admin'] },
      { method: 'POST', path: '/v1/admin/partners/{partnerId}/parent', auth: ['compliance', 'admin'] },
      { method: 'POST', path: '/v1/admin/clients/{clientId}/partner', auth: ['compliance', 'admin'] },
      { method: 'POST', path: '/v1/admin/partner-plans', auth: ['finance', 'admin'] },
      { method: 'POST', path: '/v1/admin/partner-plans/{planId}/versions', auth: ['finance', 'admin'] },
      { method: 'GET', path: '/v1/admin/partner-plans', auth: ['compliance', 'finance', 'admin'] },
      { method: 'GET', path: '/v1/admin/partner-plans/{planId}', auth: ['compliance', 'finance', 'admin'] },
      { method: 'POST', path: '/v1/admin/partners/{partnerId}/plan', auth: ['finance', 'admin'] },
    ],
    ['table:write'],
  ),
  api(
    'partners',
    'api-partner-payouts',
    'partner-payouts',
    "Partner payouts: a partner's own payouts and statements (JSON, CSV); staff read any partner's and pay one now",
    [
      // the caller's own partner record (found by its client id); another partner's payout is 404
      { method: 'GET', path: '/v1/partners/me/payouts', auth: ['client', 'partner'] },
      { method: 'GET', path: '/v1/partners/me/payouts/{payoutId}/statement', auth: ['client', 'partner'] },
      { method: 'GET', path: '/v1/admin/partners/{partnerId}/payouts', auth: ['finance', 'compliance', 'admin'] },
      { method: 'GET', path: '/v1/admin/partner-payouts/{payoutId}/statement', auth: ['finance', 'compliance', 'admin'] },
      { method: 'POST', path: '/v1/admin/partners/{partnerId}/payouts/run', auth: ['finance', 'admin'] },
    ],
    ['table:write'],
  ),
  {
    name: 'job-partner-payouts',
    context: 'partners',
    entry: 'functions/jobs/partner-payouts.ts',
    description: 'Pays each approved partner due today (its schedule) the commission lines accrued since its last payout',
    permissions: ['table:write'],
    memoryMb: 512,
    timeoutSeconds: 900,
  },
  {
    name: 'job-ledger-reconciliation',
    context: 'ledger',
    entry: 'functions/jobs/ledger-reconciliation.ts',
    description: 'Checks balances against postings and holds, journals for balance, and expires stale holds',
    permissions: ['table:write'],
    memoryMb: 1024,
    timeoutSeconds: 900,
  },
  {
    name: 'partner-events',
    context: 'partners',
    entry: 'functions/workers/partner-events.ts',
    description:
      "IB commissions: a closed deal's commission lines, a referral's funnel milestones and CPA, a chargeback's clawback",
    permissions: ['table:write'],
    timeoutSeconds: 30,
  },
  {
    name: 'job-partner-accrual-replay',
    context: 'partners',
    entry: 'functions/jobs/partner-accrual-replay.ts',
    description:
      "Recomputes the previous day's commission lines from the stored deals and plan versions and compares them to the cent",
    permissions: ['table:write'],
    memoryMb: 1024,
    timeoutSeconds: 900,
  },
];

export const queues: readonly QueueSpec[] = [
  {
    // IB commissions (ADR 0018): deals, milestones and chargebacks, in any order; every use case is idempotent.
    name: 'partner-events',
    fifo: false,
    consumer: 'partner-events',
    batchSize: 10,
    // At least 6x the consumer's 30 s timeout.
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: 10,
    maxConcurrency: 10,
  },
  {
    // Copy-trade replication (ADR 0017): one message per follower and provider deal; MessageGroupId = the follower's
    // copy account, so one follower's opens, closes and stop apply in order while followers run in parallel.
    name: 'copy-replication',
    fifo: true,
    consumer: 'copy-executor',
    batchSize: 10,
    // At least 6x the executor's 30 s timeout; a copy's lease (60 s) is shorter, so a redelivery may recover it.
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: 10,
    // Followers run in parallel up to here (one batch per group at a time on a FIFO queue); bounded so a burst of
    // copies never takes the account's whole Lambda concurrency.
    maxConcurrency: 50,
  },
  {
    // The sandbox provider's inbox: each message is one request it answers with a signed webhook.
    // Two batches at once: a provider paces its webhooks rather than flooding the merchant's API (a
    // burst of deposits otherwise turns into webhooks that time out and wait for redelivery).
    name: 'psp-sandbox',
    fifo: false,
    consumer: 'psp-sandbox',
    batchSize: 10,
    // At least 6x the consumer's 30 s timeout (AWS's guidance for Lambda consumers; a deploy rule checks it).
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: 5,
    maxConcurrency: 2,
  },
  {
    name: 'notifications',
    fifo: false,
    consumer: 'notifications',
    batchSize: 10,
    visibilityTimeoutSeconds: 90,
    maxReceiveCount: 5,
    // Bounded: a burst of events never takes more than 5 concurrent executions from the account.
    maxConcurrency: 5,
  },
];

/** The pattern of a rule on catalogue events: `onEvents('kyc.approved', 'kyc.rejected')` (catalogue keys only). */
const onEvents = (...detailTypes: DetailType[]): EventRuleSpec['pattern'] => ({
  source: [EVENT_SOURCE],
  'detail-type': detailTypes,
});

export const rules: readonly EventRuleSpec[] = [
  {
    // IB commissions (ADR 0018): what accrues, what qualifies a referral, what claws back, what re-prices past deals.
    name: 'partner-events-to-queue',
    pattern: onEvents(
      'trading.deal.closed',
      'kyc.approved',
      'payment.deposit.completed',
      'payment.chargeback.received',
      'partner.client.attributed',
      'partner.plan.changed',
    ),
    target: { queue: 'partner-events' },
  },
  {
    name: 'client-registered-to-notifications',
    pattern: onEvents('client.registered'),
    target: { queue: 'notifications' },
  },
  {
    // The client hears about every verification outcome and document expiry (in its language).
    name: 'kyc-outcomes-to-notifications',
    pattern: onEvents('kyc.approved', 'kyc.rejected', 'kyc.documents_requested', 'kyc.document_expiring', 'kyc.expired'),
    target: { queue: 'notifications' },
  },
  {
    name: 'withdrawal-received-to-start',
    pattern: onEvents('payment.withdrawal.received'),
    target: { function: 'withdrawal-start' },
  },
  {
    // The client hears about money in and out (in its language).
    name: 'payment-outcomes-to-notifications',
    pattern: onEvents(
      'payment.deposit.completed',
      'payment.deposit.failed',
      'payment.withdrawal.completed',
      'payment.withdrawal.rejected',
      'payment.withdrawal.failed',
      'payment.refund.completed',
      'payment.chargeback.received',
    ),
    target: { queue: 'notifications' },
  },
  {
    // A provider's deals and the stops that close copied positions become replication messages (ADR 0017).
    name: 'copy-signals-to-fanout',
    pattern: onEvents('trading.position.opened', 'trading.deal.closed', 'copy.subscription.changed'),
    target: { function: 'copy-fanout' },
  },
  {
    // A stopped copy's final fee charge (ADR 0017 "Settlement"); the daily job makes it when this one cannot.
    name: 'copy-stops-to-fee-settlement',
    pattern: onEvents('copy.subscription.changed'),
    target: { function: 'copy-fees' },
  },
  {
    name: 'kyc-submission-created-to-start',
    pattern: onEvents('kyc.submission.created'),
    target: { function: 'kyc-start-review' },
  },
];

export const schedules: readonly ScheduleSpec[] = [
  {
    // Nightly, after the day's deals are in: yesterday's commissions recomputed from the facts, to the cent.
    name: 'partner-accrual-replay',
    cron: 'cron(45 2 * * ? *)',
    timezone: 'UTC',
    function: 'job-partner-accrual-replay',
    description: "Nightly replay of the previous day's IB commission lines",
  },
  {
    name: 'copy-exposure-alerts',
    cron: 'cron(* * * * ? *)',
    timezone: 'UTC',
    function: 'job-copy-exposure-alerts',
    description: 'Compares copied exposure per symbol and direction with the tenant thresholds, every minute',
  },
  {
    name: 'audit-verify',
    cron: 'cron(30 2 * * ? *)',
    timezone: 'UTC',
    function: 'job-audit-verify',
    description: 'Nightly audit hash-chain verification',
  },
  {
    // Hourly: stale holds keep client funds reserved until expired, so expiry must not lag by a day;
    // and a balance bug found within the hour has touched far fewer movements than one found overnight.
    name: 'ledger-reconciliation',
    cron: 'cron(15 * * * ? *)',
    timezone: 'UTC',
    function: 'job-ledger-reconciliation',
    description: 'Hourly ledger reconciliation and hold expiry',
  },
  {
    // Every 5 minutes: an outbox event whose stream delivery was lost is republished within ~10 minutes.
    name: 'outbox-sweeper',
    cron: 'cron(0/5 * * * ? *)',
    timezone: 'UTC',
    function: 'job-outbox-sweeper',
    description: 'Republishes outbox events unpublished for more than 5 minutes',
  },
  {
    // Every 15 minutes: an unpaid intent is shown expired (and its pre-verification allowance freed) within ~15 minutes.
    name: 'deposit-expiry',
    cron: 'cron(0/15 * * * ? *)',
    timezone: 'UTC',
    function: 'job-deposit-expiry',
    description: 'Expires unpaid deposit intents',
  },
  {
    // Daily after the providers publish the previous day's settlement reports.
    name: 'psp-reconciliation',
    cron: 'cron(0 6 * * ? *)',
    timezone: 'UTC',
    function: 'job-psp-reconciliation',
    description: "Matches yesterday's PSP settlement reports against the ledger",
  },
  {
    // 08:00 in the tenant's time zone: clients hear of an expiring document at the start of their day.
    name: 'kyc-expiry',
    cron: 'cron(0 8 * * ? *)',
    timezone: 'tenant',
    function: 'job-kyc-expiry',
    description: 'Daily identity-document expiry watch',
  },
  {
    // Every 10 minutes: a submission whose execution was never started (kyc-start failed for good) or
    // failed, timed out or was aborted is back under review within ~20 minutes.
    name: 'kyc-watchdog',
    cron: 'cron(0/10 * * * ? *)',
    timezone: 'UTC',
    function: 'job-kyc-watchdog',
    description: 'Restarts KYC reviews whose start was lost or whose execution failed',
  },
  {
    // Every 10 minutes: a withdrawal whose approval never started or died is moving again within
    // ~25 minutes, instead of holding the client's money until the hold expires.
    name: 'withdrawal-watchdog',
    cron: 'cron(5/10 * * * ? *)',
    timezone: 'UTC',
    function: 'job-withdrawal-watchdog',
    description: 'Restarts withdrawal approvals whose start was lost or whose execution failed',
  },
  {
    // Every minute: deals reach copy trading, IB commissions and CRM within about a minute of the platform.
    name: 'trading-deal-ingest',
    cron: 'cron(0/1 * * * ? *)',
    timezone: 'UTC',
    function: 'job-trading-deal-ingest',
    description: 'Ingests new deals and balance operations from every trading platform',
  },
  {
    // Every 2 minutes: a transfer the platform did not answer is settled within a few minutes, never guessed.
    name: 'trading-transfer-resolver',
    cron: 'cron(0/2 * * * ? *)',
    timezone: 'UTC',
    function: 'job-trading-transfer-resolver',
    description: 'Settles pending wallet/trading-account transfers by asking the platform',
  },
  {
    // Just after midnight in the tenant's time zone: the day that ended gets its closing equity (copy statistics).
    name: 'copy-equity-snapshot',
    cron: 'cron(5 0 * * ? *)',
    timezone: 'tenant',
    function: 'job-copy-equity-snapshot',
    description: "Daily equity snapshot of strategy and copy accounts, and the strategies' statistics",
  },
  {
    // Daily, after the platforms' end-of-day rollover.
    name: 'trading-reconciliation',
    cron: 'cron(30 3 * * ? *)',
    timezone: 'UTC',
    function: 'job-trading-reconciliation',
    description: 'Daily trading account reconciliation against the ledger',
  },
  {
    // 00:15 in the tenant's time zone: copy fees accrue one day and the day's anniversaries are charged, on the
    // broker's business day (ADR 0017 "Settlement").
    name: 'copy-fee-settlement',
    cron: 'cron(15 0 * * ? *)',
    timezone: 'tenant',
    function: 'job-copy-fee-settlement',
    description: 'Daily copy-fee accrual and settlement (performance, management, volume, subscription)',
  },
  {
    // 01:00 in the tenant's time zone: partners are paid on the broker's business day (daily, Mondays or the 1st,
    // by each partner's schedule), the lines accrued up to the run less the tenant's payoutSafetySeconds.
    name: 'partner-payouts',
    cron: 'cron(0 1 * * ? *)',
    timezone: 'tenant',
    function: 'job-partner-payouts',
    description: 'Daily partner payouts (commission lines to the partner wallet, above the tenant minimum)',
  },
];

export const stateMachines: readonly StateMachineSpec[] = [
  {
    name: 'withdrawal-approval',
    context: 'payments',
    definition: 'step-functions/withdrawal-approval.asl.json',
    tasks: {
      ChecksFn: 'withdrawal-checks',
      OpenReviewFn: 'withdrawal-open-review',
      PayoutFn: 'withdrawal-payout',
      FinalizeFn: 'withdrawal-finalize',
    },
  },
  {
    name: 'kyc-review',
    context: 'kyc',
    definition: 'step-functions/kyc-review.asl.json',
    tasks: { AnalyzeFn: 'kyc-analyze', AssessFn: 'kyc-assess', OpenReviewFn: 'kyc-open-review', FinalizeFn: 'kyc-finalize' },
  },
];

export function functionByName(name: string): FunctionSpec {
  const fn = functions.find((f) => f.name === name);
  if (!fn) throw new Error(`manifest: no function named ${name}`);
  return fn;
}

export function allRoutes(): { fn: FunctionSpec; route: RouteSpec }[] {
  return functions.flatMap((fn) => (fn.routes ?? []).map((route) => ({ fn, route })));
}

/**
 * Functions that EventBridge invokes asynchronously (rule targets, schedules and their on-demand rules):
 * infra gives each an on-failure destination, so a run that fails after Lambda's retries is kept, not lost.
 */
export function asyncInvokedFunctions(): Set<string> {
  return new Set([
    ...rules.flatMap((r) => ('function' in r.target ? [r.target.function] : [])),
    ...schedules.map((s) => s.function),
  ]);
}

/** The context that owns a rule: its target function's, or its target queue's consumer's. */
export function ruleContext(rule: RuleSpec): Context {
  if ('function' in rule.target) return functionByName(rule.target.function).context;
  const queue = rule.target.queue;
  const spec = queues.find((q) => q.name === queue);
  if (!spec) throw new Error(`manifest: rule ${rule.name} targets unknown queue ${queue}`);
  return functionByName(spec.consumer).context;
}
