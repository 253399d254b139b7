/**
 * Ledger accounts and their balance items.
 *
 * Invariants:
 * - an account item and all its balance shard items are created in one audited transaction; ids
 *   are deterministic (wallet: wal_<clientId>_<CUR>; house: house_<kind>_<CUR>), so creation is
 *   idempotent: a lost creation race returns the account the winner created
 * - kind, currency, ownerId and shards never change after creation (so they may be cached);
 *   flags (frozen, noNegative) change only through setAccountFlags, which writes the account item
 *   and every balance shard in one transaction (bumping each shard's version, so a concurrent
 *   posting that read the old flags fails its version condition and re-reads)
 * - a balance is the sum of its shards; ledger/held/available are read exactly (codec.ts)
 */

import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError } from '#domain/errors.ts';
import {
  type Account,
  type AccountFacts,
  type AccountFlags,
  type AccountKind,
  type Balance,
  DEFAULT_HOT_SHARDS,
  HOT_KINDS,
  HOUSE_OWNER,
  ID_PATTERN,
  MAX_SHARDS,
  NO_NEGATIVE_KINDS,
} from '#domain/ledger/index.ts';
import { currency as currencyOf } from '#domain/money/index.ts';
import { RETRY_POLICIES } from '#shared/retry.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { commit, systemActor } from '../audit.ts';
import { type CommitWrite, newItem, putNew } from '../items.ts';
import { LEDGER_INDEX_SHARDS, ledgerKeys } from '../keys.ts';
import { batchGet, big, int, jitter, keyId, queryAll, sleepMs } from './codec.ts';

export const ACCOUNT_ENTITY = 'ledger-account';
export const MAX_ATTEMPTS = RETRY_POLICIES.ledgerVersion.attempts;

export interface LedgerCtx {
  actor: AuditActor;
  requestId: string;
}

/** A balance shard as stored. */
export interface ShardBalance extends Balance {
  accountId: string;
  shard: number;
  currency: string;
  flags: AccountFlags;
  /** postedAt of the shard's last posting ('' before the first). */
  lastPostedAt: string;
}

export type { AccountFacts } from '#domain/ledger/index.ts';

const facts = new Map<string, AccountFacts>();

export const walletId = (clientId: string, currency: string) => `wal_${clientId}_${currency}`;
export const houseAccountId = (kind: AccountKind, currency: string) => `house_${kind}_${currency}`;

export function toAccount(item: Record<string, unknown>): Account {
  const flags = item.flags as { noNegative?: unknown; frozen?: unknown } | undefined;
  return {
    accountId: String(item.accountId),
    kind: item.kind as AccountKind,
    currency: String(item.currency),
    ownerId: String(item.ownerId),
    flags: { noNegative: flags?.noNegative === true, frozen: flags?.frozen === true },
    shards: int(item.shards),
  };
}

export function toShardBalance(item: Record<string, unknown>): ShardBalance {
  return {
    accountId: String(item.accountId),
    shard: int(item.shard),
    currency: String(item.currency),
    ledger: big(item.ledger),
    held: big(item.held),
    available: big(item.available),
    version: int(item.version),
    seq: int(item.seq),
    flags: { noNegative: item.noNegative === true, frozen: item.frozen === true },
    lastPostedAt: typeof item.lastPostedAt === 'string' ? item.lastPostedAt : '',
  };
}

const remember = (a: Account) => {
  const { flags: _f, ...rest } = a;
  facts.set(a.accountId, rest);
};

/** Several accounts in one strongly consistent BatchGet (missing ids are absent from the map). */
export async function getAccounts(accountIds: readonly string[]): Promise<Map<string, Account>> {
  const got = await batchGet([...new Set(accountIds)].map((id) => ledgerKeys.account(id)));
  const out = new Map<string, Account>();
  for (const item of got.values()) {
    const a = toAccount(item);
    remember(a);
    out.set(a.accountId, a);
  }
  return out;
}

export async function getAccount(accountId: string): Promise<Account | undefined> {
  const got = await batchGet([ledgerKeys.account(accountId)]);
  const item = got.get(keyId(ledgerKeys.account(accountId)));
  if (!item) return undefined;
  const a = toAccount(item);
  remember(a);
  return a;
}

/** The immutable facts of several accounts (cached per container); missing ids are absent. */
export async function accountFacts(ids: readonly string[]): Promise<Map<string, AccountFacts>> {
  const missing = [...new Set(ids)].filter((id) => !facts.has(id));
  if (missing.length > 0) {
    const got = await batchGet(missing.map((id) => ledgerKeys.account(id)));
    for (const item of got.values()) remember(toAccount(item));
  }
  const out = new Map<string, AccountFacts>();
  for (const id of ids) {
    const f = facts.get(id);
    if (f) out.set(id, f);
  }
  return out;
}

/** Strongly consistent reads of the given balance shards. */
export async function readShards(shards: { accountId: string; shard: number }[]): Promise<Map<string, ShardBalance>> {
  const got = await batchGet(shards.map((s) => ledgerKeys.balance(s.accountId, s.shard)));
  const out = new Map<string, ShardBalance>();
  for (const item of got.values()) {
    const b = toShardBalance(item);
    out.set(`${b.accountId}#${b.shard}`, b);
  }
  return out;
}

export const shardKey = (accountId: string, shard: number) => `${accountId}#${shard}`;

/** An account's balance: the sum of its shards (version and seq are sums too). */
export function sumShards(shards: ShardBalance[]): Balance {
  return shards.reduce<Balance>(
    (acc, s) => ({
      ledger: acc.ledger + s.ledger,
      held: acc.held + s.held,
      available: acc.available + s.available,
      version: acc.version + s.version,
      seq: acc.seq + s.seq,
    }),
    { ledger: 0n, held: 0n, available: 0n, version: 0, seq: 0 },
  );
}

/** Every shard of one account. */
export async function accountShards(accountId: string): Promise<ShardBalance[]> {
  const f = (await accountFacts([accountId])).get(accountId);
  if (!f) throw new DomainError('account_not_found', 'not_found', 'No such account', [], { accountId });
  const got = await readShards(Array.from({ length: f.shards }, (_, shard) => ({ accountId, shard })));
  return [...got.values()].sort((a, b) => a.shard - b.shard);
}

/** The account's balance: the sum over its shards (strongly consistent). */
export async function getBalance(accountId: string): Promise<Balance> {
  return sumShards(await accountShards(accountId));
}

export interface OpenAccountInput {
  accountId: string;
  kind: AccountKind;
  currency: string;
  ownerId: string;
  shards?: number;
  noNegative?: boolean;
}

/** Creates an account with its balance shards (audited), or returns the existing one. */
export async function openAccount(input: OpenAccountInput, ctx: LedgerCtx): Promise<Account> {
  if (!ID_PATTERN.test(input.accountId)) {
    throw new DomainError('invalid_account_id', 'validation', 'An account id is 1-128 characters of A-Z a-z 0-9 _ . : -');
  }
  currencyOf(input.currency);
  const shards = input.shards ?? 1;
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
    throw new DomainError('invalid_shards', 'validation', `Shards must be an integer in 1..${MAX_SHARDS}`);
  }
  const existing = await getAccount(input.accountId);
  if (existing) return existing;
  const account: Account = {
    accountId: input.accountId,
    kind: input.kind,
    currency: input.currency,
    ownerId: input.ownerId,
    flags: { noNegative: input.noNegative ?? NO_NEGATIVE_KINDS.includes(input.kind), frozen: false },
    shards,
  };
  const now = new Date().toISOString();
  const taken = new DomainError('account_exists', 'conflict', 'The account exists');
  const writes: CommitWrite[] = [
    putNew(
      newItem(
        {
          ...ledgerKeys.account(account.accountId),
          type: ledgerKeys.accountType,
          ...account,
          ...ledgerKeys.ownerIndex(account.ownerId, account.accountId),
          ...ledgerKeys.accountListIndex(account.accountId),
        },
        now,
      ),
      taken,
    ),
    ...Array.from({ length: shards }, (_, shard) =>
      putNew(
        newItem(
          {
            ...ledgerKeys.balance(account.accountId, shard),
            type: ledgerKeys.balanceType,
            accountId: account.accountId,
            shard,
            currency: account.currency,
            ledger: 0n,
            held: 0n,
            available: 0n,
            seq: 0,
            lastPostedAt: '',
            noNegative: account.flags.noNegative,
            frozen: false,
          },
          now,
        ),
        taken,
      ),
    ),
  ];
  const clientId = account.ownerId === HOUSE_OWNER ? undefined : account.ownerId;
  try {
    await commit({
      writes,
      audit: {
        actor: ctx.actor,
        action: 'ledger.account.opened',
        entity: { type: ACCOUNT_ENTITY, id: account.accountId },
        clientId,
        before: null,
        after: account,
        requestId: ctx.requestId,
      },
      outbox: [{ detailType: 'ledger.account.opened', detail: { ...account, clientId } }],
    });
  } catch (err) {
    if (err !== taken) throw err;
    const winner = await getAccount(account.accountId);
    if (!winner) throw err;
    return winner;
  }
  remember(account);
  return account;
}

/** The client's wallet in `currency`, created on first use. */
export async function ensureWallet(clientId: string, currency: string, ctx: LedgerCtx): Promise<Account> {
  if (!ID_PATTERN.test(clientId)) throw new DomainError('invalid_client_id', 'validation', 'Invalid client id');
  return openAccount({ accountId: walletId(clientId, currency), kind: 'client_wallet', currency, ownerId: clientId }, ctx);
}

/**
 * The house account of `kind` in `currency`, created on first use with `opts.shards` shards
 * (default: DEFAULT_HOT_SHARDS for psp_clearing, fee_income and fx_position, 1 otherwise). The
 * shard count is fixed when the account is created.
 */
/** Shards for hot house accounts: the tenant's `ledger.houseAccountShards`, or the default outside a tenant. */
function hotAccountShards(): number {
  return process.env.TENANT_CONFIG ? tenantConfig().ledger.houseAccountShards : DEFAULT_HOT_SHARDS;
}

export async function houseAccount(kind: AccountKind, currency: string, opts: { shards?: number } = {}): Promise<Account> {
  const id = houseAccountId(kind, currency);
  const cached = facts.get(id);
  if (cached) {
    const a = await getAccount(id);
    if (a) return a;
  }
  return openAccount(
    {
      accountId: id,
      kind,
      currency,
      ownerId: HOUSE_OWNER,
      shards: opts.shards ?? (HOT_KINDS.includes(kind) ? hotAccountShards() : 1),
      // owed-money kinds (ib_payable, strategy_pool) can never pay out more than they hold
      noNegative: NO_NEGATIVE_KINDS.includes(kind),
    },
    { actor: systemActor('ledger'), requestId: `house-account:${id}` },
  );
}

/** A client's wallets with their balances. */
export async function listWallets(clientId: string): Promise<(Account & { balance: Balance })[]> {
  const out: (Account & { balance: Balance })[] = [];
  for await (const page of queryAll({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :p',
    ExpressionAttributeValues: { ':p': ledgerKeys.ownerPartition(clientId) },
  })) {
    for (const item of page) {
      if (item.type !== ledgerKeys.accountType || item.kind !== 'client_wallet') continue;
      const a = toAccount(item);
      remember(a);
      const shards = await accountShards(a.accountId);
      out.push({ ...a, flags: shards[0]?.flags ?? a.flags, balance: sumShards(shards) });
    }
  }
  return out.sort((x, y) => x.currency.localeCompare(y.currency));
}

/** Freezes/unfreezes an account (or changes noNegative), audited, in one transaction with every shard. */
export async function setAccountFlags(accountId: string, flags: Partial<AccountFlags>, ctx: LedgerCtx): Promise<Account> {
  for (let attempt = 0; ; attempt++) {
    const accItem = (await batchGet([ledgerKeys.account(accountId)])).get(keyId(ledgerKeys.account(accountId)));
    if (!accItem) throw new DomainError('account_not_found', 'not_found', 'No such account', [], { accountId });
    const account = toAccount(accItem);
    const shards = await accountShards(accountId);
    const next: AccountFlags = { ...account.flags, ...flags };
    const race = new DomainError('concurrent_modification', 'conflict', 'The account changed; retry');
    const now = new Date().toISOString();
    const writes: CommitWrite[] = [
      {
        Update: {
          Key: ledgerKeys.account(accountId),
          UpdateExpression: 'SET #f = :f, #v = :nv, #u = :u',
          ConditionExpression: '#v = :v',
          ExpressionAttributeNames: { '#f': 'flags', '#v': 'version', '#u': 'updatedAt' },
          ExpressionAttributeValues: { ':f': next, ':v': int(accItem.version), ':nv': int(accItem.version) + 1, ':u': now },
        },
        conditionFailedError: race,
      },
      ...shards.map(
        (s): CommitWrite => ({
          Update: {
            Key: ledgerKeys.balance(accountId, s.shard),
            UpdateExpression: 'SET #fr = :fr, #nn = :nn, #v = :nv, #u = :u',
            ConditionExpression: '#v = :v',
            ExpressionAttributeNames: { '#fr': 'frozen', '#nn': 'noNegative', '#v': 'version', '#u': 'updatedAt' },
            ExpressionAttributeValues: {
              ':fr': next.frozen,
              ':nn': next.noNegative,
              ':v': s.version,
              ':nv': s.version + 1,
              ':u': now,
            },
          },
          conditionFailedError: race,
        }),
      ),
    ];
    const action =
      flags.frozen === true
        ? 'ledger.account.frozen'
        : flags.frozen === false
          ? 'ledger.account.unfrozen'
          : 'ledger.account.flags_changed';
    try {
      await commit({
        writes,
        audit: {
          actor: ctx.actor,
          action,
          entity: { type: ACCOUNT_ENTITY, id: accountId },
          clientId: account.ownerId === HOUSE_OWNER ? undefined : account.ownerId,
          before: account.flags,
          after: next,
          requestId: ctx.requestId,
        },
        outbox: [{ detailType: 'ledger.account.flags_changed', detail: { accountId, flags: next } }],
      });
      return { ...account, flags: next };
    } catch (err) {
      const retry = err === race || (err instanceof DomainError && err.code === 'concurrent_modification');
      if (!retry || attempt + 1 >= MAX_ATTEMPTS) throw err;
      await sleepMs(jitter(attempt));
    }
  }
}

/** Every account, via the gsi2 account list (16 partitions; eventually consistent). */
export async function* scanAccounts(): AsyncGenerator<Account> {
  for (let n = 0; n < LEDGER_INDEX_SHARDS; n++) {
    for await (const page of queryAll({
      IndexName: 'gsi2',
      KeyConditionExpression: 'gsi2pk = :p',
      ExpressionAttributeValues: { ':p': ledgerKeys.accountListPartition(n) },
    })) {
      for (const item of page) yield toAccount(item);
    }
  }
}
